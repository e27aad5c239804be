import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envOf, parseDockerfile, stages } from '../src/dockerfile.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface ComposeService {
  build?: string | { context: string; dockerfile?: string };
  ports?: string[];
  env_file?: Array<string | { path: string; required?: boolean }>;
  environment?: Record<string, string>;
  volumes?: string[];
  restart?: string;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const chat = compose.services.chat!;

  it('builds the Dockerfile at the root', () => {
    const context = typeof chat.build === 'string' ? chat.build : chat.build!.context;
    const file = typeof chat.build === 'object' && chat.build.dockerfile ? chat.build.dockerfile : 'Dockerfile';
    expect(existsSync(path.join(repo, context, file))).toBe(true);
  });

  it('publishes the chat on port 8080, where the image listens', () => {
    expect(chat.ports).toContain('8080:8080');
    expect(chat.environment?.PORT).toBe('8080');
  });

  it('keeps the SQLite file on a named volume mounted where DATABASE_PATH points', () => {
    const mounts = (chat.volumes ?? []).map((v) => v.split(':'));
    const data = mounts.find(([, target]) => target === path.posix.dirname(chat.environment!.DATABASE_PATH!));
    expect(data).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(data![0]);
    const image = stages(parseDockerfile(readFileSync(path.join(repo, 'Dockerfile'), 'utf8'))).at(-1)!;
    expect(image.instructions.find((i) => i.keyword === 'VOLUME')!.args).toContain(data![1]);
    const imageEnv = Object.assign({}, ...image.instructions.filter((i) => i.keyword === 'ENV').map(envOf));
    expect(imageEnv.DATABASE_PATH).toBe(chat.environment!.DATABASE_PATH);
  });

  it('reads ADMIN_TOKEN from .env, whose example is committed', () => {
    const files = (chat.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
    expect(files).toContain('.env');
    const example = readFileSync(path.join(repo, '.env.example'), 'utf8');
    expect(example).toMatch(/^ADMIN_TOKEN=.{16,}$/m);
  });

  it('restarts the service and checks its health on /healthz', () => {
    expect(chat.restart).toBe('unless-stopped');
    expect(chat.healthcheck!.test.join(' ')).toMatch(/127\.0\.0\.1:8080\/healthz/);
    // More than the server's 10-second graceful shutdown.
    expect(Number.parseInt(chat.stop_grace_period ?? '10', 10)).toBeGreaterThan(10);
  });
});
