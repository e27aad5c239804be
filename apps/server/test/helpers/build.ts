import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Broker } from '../../src/chat/events.js';
import { loadConfig } from '../../src/config.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { ChatStore } from '../../src/storage/store.js';
import { databaseUrl, dropSchema, freshSchemaName, testStore } from './postgres.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer {
  app: Awaited<ReturnType<typeof buildApp>>;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/ws` */
  wsUrl: string;
  port: number;
  /** The SQLite file; under CHAT_TEST_STORE=postgres it only names the database (see `schema`). */
  databasePath: string;
  /** Under CHAT_TEST_STORE=postgres, the schema holding this server's data; else undefined. */
  schema: string | undefined;
  /** Runs `release` when the server closes, before the app itself (clients opened against it). */
  onClose(release: () => Promise<void> | void): void;
  /** Closes clients, then the app, then removes the temporary folder or schema (unless the database was handed in). */
  close(): Promise<void>;
}

export interface BuildOptions {
  /**
   * Use this database file and leave it in place on close (restart tests). Default: a new temporary folder.
   * Under CHAT_TEST_STORE=postgres the same path means the same schema, dropped with its tempDir().
   */
  databasePath?: string;
  /** Passed to buildApp as `options.fastify`. */
  fastify?: FastifyServerOptions;
  /** Passed to buildApp as `options.broker` (instead of the in-process one). */
  broker?: Broker;
}

/** Schemas standing in for handed-in database paths (CHAT_TEST_STORE=postgres), by path. */
const schemasByPath = new Map<string, string>();

/**
 * The schema a handed-in database path stands for: always the same one for
 * the same path, so a restart on the same "file" finds its data.
 */
function schemaForPath(databasePath: string): string {
  const file = path.resolve(databasePath);
  let schema = schemasByPath.get(file);
  if (!schema) {
    schema = `t_${createHash('sha256').update(file).digest('hex').slice(0, 16)}`;
    schemasByPath.set(file, schema);
  }
  return schema;
}

/**
 * A temporary folder under os.tmpdir(), with the function that removes it —
 * and, under CHAT_TEST_STORE=postgres, the schemas of database paths inside it.
 */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chat-server-test-'));
  return {
    path: dir,
    async remove() {
      await rm(dir, { recursive: true, force: true });
      for (const [file, schema] of schemasByPath) {
        if (!file.startsWith(dir + path.sep)) continue;
        schemasByPath.delete(file);
        await dropSchema(schema);
      }
    },
  };
}

/**
 * The store the server under test gets: undefined for SQLite (the app opens
 * DATABASE_PATH itself, as in production); under CHAT_TEST_STORE=postgres a
 * PostgreSQL store in `schema`.
 */
async function openTestStore(schema: string | undefined): Promise<ChatStore | undefined> {
  if (schema === undefined) return undefined;
  if (!databaseUrl) throw new Error('CHAT_TEST_STORE=postgres needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  // A few connections each: a test file starts several servers, and the database is shared by every test run.
  return openPostgresStore(databaseUrl, { schema, poolSize: 4 });
}

/**
 * The app on a real SQLite file (or, under CHAT_TEST_STORE=postgres, a schema
 * of its own in DATABASE_URL's database), listening on 127.0.0.1 at a free port.
 * `env` is laid over the test defaults and read by `loadConfig`, exactly as
 * the server reads its environment.
 */
export async function build(env: Record<string, string | undefined> = {}, options: BuildOptions = {}): Promise<TestServer> {
  const dir = options.databasePath ? undefined : await tempDir();
  const databasePath = options.databasePath ?? path.join(dir!.path, 'chat.db');
  const schema = testStore !== 'postgres' ? undefined : options.databasePath ? schemaForPath(databasePath) : freshSchemaName();
  // A schema of the server's own goes with it; one standing for a handed-in path goes with its tempDir().
  const ownSchema = options.databasePath ? undefined : schema;
  const removeDatabase = async () => {
    await dir?.remove();
    if (ownSchema) await dropSchema(ownSchema);
  };
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
  let store: ChatStore | undefined;
  try {
    store = await openTestStore(schema);
    app = await buildApp(config, {
      ...(store ? { store } : {}),
      ...(options.fastify ? { fastify: options.fastify } : {}),
      ...(options.broker ? { broker: options.broker } : {}),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await store?.close();
    await removeDatabase();
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
    schema,
    onClose: (release) => void releases.push(release),
    async close() {
      if (closed) return;
      closed = true;
      try {
        for (const release of releases.splice(0).reverse()) await release();
        await app.close();
      } finally {
        await removeDatabase();
      }
    },
  };
}
