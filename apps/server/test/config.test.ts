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

  it('reads the cluster settings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://chat:pw@db:5432/chat',
      REDIS_URL: 'redis://redis:6379',
      REDIS_PREFIX: 'prod:',
      NODE_ID: 'node-2',
      PRESENCE_TTL_MS: '5000',
      TRUST_PROXY: 'uniquelocal',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://chat:pw@db:5432/chat',
      redisUrl: 'redis://redis:6379',
      redisPrefix: 'prod:',
      nodeId: 'node-2',
      presenceTtlMs: 5000,
      trustProxy: ['uniquelocal'],
    });
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    // Without NODE_ID a node still has a name, fit for logs and Redis keys.
    expect(loadConfig({}).nodeId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });

  it.each([
    ['DATABASE_URL', 'mysql://db/chat'],
    ['REDIS_URL', 'http://redis:6379'],
    ['NODE_ID', 'two words'],
    ['REDIS_PREFIX', 'bad prefix'],
    ['PRESENCE_TTL_MS', '10'],
    ['TRUST_PROXY', 'everyone please'],
    ['TRUST_PROXY', '1'],
    ['TRUST_PROXY', '10.0.0.0/33'],
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

describe('TRUST_PROXY', () => {
  /** Three wrong logins from one forwarded address, then one from another: is the fourth refused as the same IP? */
  async function fourthFromAnotherAddress(env: Record<string, string>): Promise<number[]> {
    const server = await build({ RATE_LOGINS_PER_MINUTE: '2', ...env });
    try {
      const statuses: number[] = [];
      for (const [i, ip] of ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2'].entries()) {
        const res = await request(server, 'POST', '/api/auth/login', {
          body: { username: `nobody${i}`, password: 'wrong-password' },
          headers: { 'x-forwarded-for': ip },
        });
        statuses.push(res.status);
      }
      return statuses;
    } finally {
      await server.close();
    }
  }

  it('unset: X-Forwarded-For is ignored, every request counts against the connecting address', async () => {
    expect(await fourthFromAnotherAddress({})).toEqual([401, 401, 429, 429]);
  });

  it('set: the per-IP login limit counts the forwarded client address', async () => {
    expect(await fourthFromAnotherAddress({ TRUST_PROXY: 'loopback' })).toEqual([401, 401, 429, 401]);
  });

  it('set to other proxies: a request from elsewhere cannot choose its address with the header', async () => {
    expect(await fourthFromAnotherAddress({ TRUST_PROXY: '10.9.8.7' })).toEqual([401, 401, 429, 429]);
  });
});
