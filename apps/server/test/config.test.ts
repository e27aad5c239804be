import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { build } from './helpers/build.js';
import { expectError, request } from './helpers/http.js';

/** The error loadConfig throws for `env`. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databasePath: './data/chat.db',
      adminToken: undefined,
      maxMessageBytes: 4096,
      allowGuests: true,
      rateMessagesPerSecond: 20,
    });
  });

  it('reads each variable it is given', () => {
    const config = loadConfig({
      PORT: '9000',
      DATABASE_PATH: '/tmp/x.db',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      MAX_MESSAGE_BYTES: '100',
      ALLOW_GUESTS: 'false',
      RATE_MESSAGES_PER_SECOND: '2',
      ALLOWED_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config).toMatchObject({
      port: 9000,
      databasePath: '/tmp/x.db',
      adminToken: 'a-long-enough-admin-token',
      maxMessageBytes: 100,
      allowGuests: false,
      rateMessagesPerSecond: 2,
      allowedOrigins: ['https://a.example', 'https://b.example'],
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['MAX_MESSAGE_BYTES', '0'],
    ['MAX_MESSAGE_BYTES', '1.5'],
    ['ALLOW_GUESTS', 'maybe'],
    ['WS_COMPRESSION', 'sometimes'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_MESSAGES_PER_SECOND', '0'],
    ['ADMIN_TOKEN', 'short'],
  ])('rejects %s=%s with a ConfigError naming the variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'abc', MAX_MESSAGE_BYTES: '0', ALLOW_GUESTS: 'maybe' });
    for (const name of ['PORT', 'MAX_MESSAGE_BYTES', 'ALLOW_GUESTS']) expect(err.message).toContain(name);
  });

  it('treats an empty or blank value as unset', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: '   ' })).toMatchObject({ port: 8080, adminToken: undefined });
  });
});

describe('ALLOW_GUESTS', () => {
  it('false makes /api/auth/guest refuse with 403, while registration still works', async () => {
    const server = await build({ ALLOW_GUESTS: 'false' });
    try {
      const res = await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } });
      expectError(res, 403, 'forbidden');
      const registered = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: 'long-enough' } });
      expect(registered.status).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('true (the default) lets guests in', async () => {
    const server = await build({ ALLOW_GUESTS: 'true' });
    try {
      expect((await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } })).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});
