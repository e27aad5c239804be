import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../../src/redact-url.js';

/**
 * The PostgreSQL side of the tests. DATABASE_URL names a database the tests
 * may create schemas in (CI: postgres://postgres@127.0.0.1:5432/test); each
 * store under test gets a schema of its own, dropped afterwards.
 */
export const databaseUrl = process.env.DATABASE_URL || undefined;

/** The store `build()` gives the server: CHAT_TEST_STORE=postgres (the server-postgres project), else SQLite. */
export const testStore: 'sqlite' | 'postgres' = process.env.CHAT_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

let probe: Promise<string | undefined> | undefined;

/**
 * Why the PostgreSQL tests cannot run here (no DATABASE_URL, or nothing
 * answers at it), or `undefined` when they can. Asked once per process.
 */
export function postgresUnavailable(): Promise<string | undefined> {
  probe ??= (async () => {
    if (!databaseUrl) return 'DATABASE_URL is unset';
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (err) {
      return `PostgreSQL at ${redactUrl(databaseUrl)} does not answer (${(err as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

/** A schema name no other test uses: `t_` and 16 random hex digits. */
export const freshSchemaName = (): string => `t_${randomBytes(8).toString('hex')}`;

/** Runs `sql` on a connection of its own (DDL outside any store's pool). */
export async function adminQuery(sql: string): Promise<void> {
  if (!databaseUrl) throw new Error('DATABASE_URL is unset');
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops a test schema and everything in it (names come from freshSchemaName or schemaForPath only). */
export async function dropSchema(schema: string): Promise<void> {
  if (!/^t_[0-9a-f]+$/.test(schema)) throw new Error(`not a test schema: ${schema}`);
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}
