import Database from 'better-sqlite3';

export type Synchronous = 'FULL' | 'NORMAL';

/** Opens a connection with the settings every connection to the chat database uses. */
export function openConnection(file: string, synchronous: Synchronous, options: { autoCheckpoint?: boolean } = {}): Database.Database {
  const db = new Database(file);
  // WAL: readers never block the writer, and a commit is one append to the log.
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  // Savepoints (one per request in a group commit, see writer-thread.ts) and
  // statement journals keep the pages they change in a sub-journal: in memory,
  // not a temporary file opened, written and deleted again by every commit
  // (17 % of the writer thread's time in the echo benchmark, perf).
  db.pragma('temp_store = MEMORY');
  // The message writer (its own thread) and the main thread both write; each
  // waits for the other's transaction rather than failing with SQLITE_BUSY.
  db.pragma('busy_timeout = 5000');
  // With a checkpointer thread (see checkpoint-thread.ts) no commit checkpoints on its own.
  if (options.autoCheckpoint === false) db.pragma('wal_autocheckpoint = 0');
  // When the log starts over, a file larger than this is cut back to it. Above
  // what a second of the heaviest writes adds (about 120 MB in the echo
  // benchmark), so that under steady load the file is overwritten in place:
  // at 64 MiB, cutting it back once a second held up the next commit by
  // 10–15 ms (echo p99 26–29 ms instead of 17–19).
  db.pragma(`journal_size_limit = ${256 * 1024 * 1024}`);
  return db;
}
