import { cp, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from './config.js';

/**
 * `pnpm --filter @chat/server backup <file>`: an online, consistent copy of
 * the database while the server runs. SQLite's backup API copies pages in
 * steps; a write during the copy restarts it, so the result is one snapshot.
 * Relative paths are taken from where pnpm was run (INIT_CWD), like the server's.
 *
 * The uploaded files (UPLOAD_DIR) are copied after the database, into
 * `<file>.files/`: every file the copied database names was there before it
 * was copied (files are kept before their row is written), so the backup
 * holds them all — but for a message deleted in between, whose file may be
 * gone. Files uploaded meanwhile come along with no row naming them; the
 * restored server's sweep removes them.
 */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: backup <file>   (the database is DATABASE_PATH, default ./data/chat.db; the files of UPLOAD_DIR go to <file>.files)');
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
  const files = path.resolve(base, config.uploadDir);
  if (await stat(files).catch(() => undefined)) {
    // Temporary files are uploads in flight: never part of a backup.
    await cp(files, `${destination}.files`, { recursive: true, filter: (from) => path.relative(files, from) !== 'tmp' });
    console.log(`backed up the files in ${files} to ${destination}.files`);
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `backup failed: ${(err as Error).message}`);
  process.exit(1);
});
