/**
 * Databases as an older release left them, for the migration tests: the
 * schema up to `version`, filled by `data` (SQL), ready for today's store to
 * open and upgrade. Each registers its removal with `cleanups`.
 */
import path from 'node:path';
import pg from 'pg';
import { migrate as migratePostgres } from '../../src/storage/postgres/migrations.js';
import { openConnection } from '../../src/storage/sqlite/connection.js';
import { migrate as migrateSqlite } from '../../src/storage/sqlite/migrations.js';
import { tempDir } from './build.js';
import { adminQuery, databaseUrl, dropSchema, freshSchemaName } from './postgres.js';

type Cleanups = Array<() => Promise<void> | void>;

/** A SQLite file at `version` with `data` in it (`true`/`false` written as SQLite's 1/0). */
export async function sqliteFileAt(version: number, data: string, cleanups: Cleanups): Promise<string> {
  const dir = await tempDir();
  cleanups.push(() => dir.remove());
  const file = path.join(dir.path, 'chat.db');
  const db = openConnection(file, 'FULL');
  if (migrateSqlite(db, version) !== version) throw new Error(`the SQLite schema did not stop at ${version}`);
  db.exec(data.replaceAll('false', '0').replaceAll('true', '1'));
  db.close();
  return file;
}

/** A PostgreSQL schema of its own in DATABASE_URL's database at `version`, with `data` in it; its name. */
export async function postgresSchemaAt(version: number, data: string, cleanups: Cleanups): Promise<string> {
  const schema = freshSchemaName();
  await adminQuery(`CREATE SCHEMA ${schema}`);
  cleanups.push(() => dropSchema(schema));
  const pool = new pg.Pool({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  try {
    if ((await migratePostgres(pool, version)) !== version) throw new Error(`the PostgreSQL schema did not stop at ${version}`);
    await pool.query(data);
  } finally {
    await pool.end();
  }
  return schema;
}
