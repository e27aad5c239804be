import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from './config.js';

/**
 * `pnpm --filter @chat/server backup <file>`: an online, consistent copy of
 * the database while the server runs. SQLite's backup API copies pages in
 * steps; a write during the copy restarts it, so the result is one snapshot.
 * Relative paths are taken from where pnpm was run (INIT_CWD), like the server's.
 */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: backup <file>   (the database is DATABASE_PATH, default ./data/chat.db)');
    process.exit(2);
  }
  const base = process.env.INIT_CWD ?? process.cwd();
  const config = loadConfig();
  if (config.databaseUrl) {
    // The data is in PostgreSQL, not in DATABASE_PATH: copying that file would back up nothing.
    console.error('backup copies the SQLite database, but DATABASE_URL is set: back up PostgreSQL with pg_dump instead');
    process.exit(2);
  }
  const source = path.resolve(base, config.databasePath);
  const destination = path.resolve(base, target);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const result = await db.backup(destination);
    console.log(`backed up ${source} to ${destination} (${result.totalPages} pages)`);
  } finally {
    db.close();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `backup failed: ${(err as Error).message}`);
  process.exit(1);
});
