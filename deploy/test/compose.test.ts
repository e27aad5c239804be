import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { environmentOf, parseCompose, servicesFor, startedBy } from '../src/compose-file.js';
import { envOf, parseDockerfile, stages } from '../src/dockerfile.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('docker-compose.yml', () => {
  const compose = parseCompose(readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8'));
  const chat = compose.services.chat!;
  const env = environmentOf(chat);

  it('builds the Dockerfile at the root', () => {
    const context = typeof chat.build === 'string' ? chat.build : chat.build!.context;
    const file = typeof chat.build === 'object' && chat.build.dockerfile ? chat.build.dockerfile : 'Dockerfile';
    expect(existsSync(path.join(repo, context, file))).toBe(true);
  });

  it('publishes the chat on port 8080, where the image listens', () => {
    expect(chat.ports).toContain('8080:8080');
    expect(env.PORT).toBe('8080');
  });

  it('keeps the SQLite file on a named volume mounted where DATABASE_PATH points', () => {
    const mounts = (chat.volumes ?? []).map((v) => v.split(':'));
    const data = mounts.find(([, target]) => target === path.posix.dirname(env.DATABASE_PATH!));
    expect(data).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data![0]);
    const image = stages(parseDockerfile(readFileSync(path.join(repo, 'Dockerfile'), 'utf8'))).at(-1)!;
    expect(image.instructions.find((i) => i.keyword === 'VOLUME')!.args).toContain(data![1]);
    const imageEnv = Object.assign({}, ...image.instructions.filter((i) => i.keyword === 'ENV').map(envOf));
    expect(imageEnv.DATABASE_PATH).toBe(env.DATABASE_PATH);
  });

  it('reads ADMIN_TOKEN from .env, whose example is committed', () => {
    const files = (chat.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
    expect(files).toContain('.env');
    const example = readFileSync(path.join(repo, '.env.example'), 'utf8');
    expect(example).toMatch(/^ADMIN_TOKEN=.{16,}$/m);
  });

  it('restarts the service and checks its health on /healthz', () => {
    expect(chat.restart).toBe('unless-stopped');
    expect([chat.healthcheck!.test].flat().join(' ')).toMatch(/127\.0\.0\.1:8080\/healthz/);
    // More than the server's 10-second graceful shutdown.
    expect(Number.parseInt(chat.stop_grace_period ?? '10', 10)).toBeGreaterThan(10);
  });

  it('starts only the single SQLite node on a plain `docker compose up`', () => {
    // Every other service sits in a profile, so it is not even considered without one.
    expect(servicesFor(compose, [])).toEqual(['chat']);
    expect(startedBy(compose, ['chat'])).toEqual(['chat']);
    expect(chat.profiles).toBeUndefined();
    expect(Object.keys(env)).not.toContain('DATABASE_URL');
    expect(Object.keys(env)).not.toContain('REDIS_URL');
  });
});
