import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer {
  app: Awaited<ReturnType<typeof buildApp>>;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/ws` */
  wsUrl: string;
  port: number;
  databasePath: string;
  /** Runs `release` when the server closes, before the app itself (clients opened against it). */
  onClose(release: () => Promise<void> | void): void;
  /** Closes clients, then the app, then removes the temporary folder (unless the database was handed in). */
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Use this database file and leave it in place on close (restart tests). Default: a new temporary folder. */
  databasePath?: string;
  /** Passed to buildApp as `options.fastify`. */
  fastify?: FastifyServerOptions;
}

/** A temporary folder under os.tmpdir(), with the function that removes it. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-server-test-'));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The app on a real SQLite file, listening on 127.0.0.1 at a free port.
 * `env` is laid over the test defaults and read by `loadConfig`, exactly as
 * the server reads its environment.
 */
export async function build(env: Record<string, string | undefined> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const dir = options.databasePath ? undefined : await tempDir();
  const databasePath = options.databasePath ?? path.join(dir!.path, 'chat.db');
  const config = loadConfig({
    DATABASE_PATH: databasePath,
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    PORT: '0',
    // Every request in a test comes from 127.0.0.1: the per-IP login limit would
    // otherwise trip after ten sign-ins. The test of that limit sets it low.
    RATE_LOGINS_PER_MINUTE: '1000',
    ...env,
  });
  let app: TestServer['app'];
  try {
    app = await buildApp(config, options.fastify ? { fastify: options.fastify } : {});
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await dir?.remove();
    throw err;
  }
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const releases: Array<() => Promise<void> | void> = [];
  let closed = false;
  return {
    app,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    databasePath,
    onClose: (release) => void releases.push(release),
    async close() {
      if (closed) return;
      closed = true;
      try {
        for (const release of releases.splice(0).reverse()) await release();
        await app.close();
      } finally {
        await dir?.remove();
      }
    },
  };
}
