import Database from 'better-sqlite3';

export type Synchronous = 'FULL' | 'NORMAL';

/** Opens a connection with the settings every connection to the chat database uses. */
export function openConnection(file: string, synchronous: Synchronous, options: { autoCheckpoint?: boolean } = {}): Database.Database {
  const db = new Database(file);
  // WAL: readers never block the writer, and a commit is one append to the log.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  // The message writer (its own thread) and the main thread both write; each
  // waits for the other's transaction rather than failing with SQLITE_BUSY.
  db.pragma('busy_timeout = 5000');
  // With a checkpointer thread (see checkpoint-thread.ts) no commit checkpoints on its own.
  if (options.autoCheckpoint === false) db.pragma('wal_autocheckpoint = 0');
  // After a checkpoint has emptied the log, keep its file from staying at its largest size.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  return db;
}
