/**
 * The checkpointer's thread: copies the write-ahead log back into the
 * database file every `intervalMs`, on a connection of its own. SQLite would
 * otherwise do it inside whichever commit pushes the log past 1,000 pages —
 * holding up that commit, and every chat message acknowledged after it, for
 * as long as writing and syncing the database file takes (100–250 ms stalls
 * were measured here). PASSIVE never waits for the writer or the readers:
 * what it cannot copy now it copies next time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, type Synchronous } from './connection.js';

const { file, synchronous, intervalMs, restartFrames, logIsLong } = workerData as {
  file: string;
  synchronous: Synchronous;
  intervalMs: number;
  restartFrames: number;
  /** Shared with the writer thread (see writer-thread.ts): 1 asks it to finish the copy. */
  logIsLong: Int32Array;
};
const db = openConnection(file, synchronous);
const checkpoint = db.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');
const port = parentPort!;

/** A pass's leftover small enough for the writer thread to copy between two commits (1 MiB). */
const SMALL_TAIL = 256;

const timer = setInterval(() => {
  try {
    let { log, checkpointed } = checkpoint.get()!;
    // The writer starts the log over only once a checkpoint has copied all of
    // it, which this one never manages while commits keep coming: the log
    // then grows for as long as the traffic lasts (measured: 1 GB in 14 s of
    // the persistence benchmark, 40 MB/s at 2,200 messages/s). So once it is
    // long, the writer thread is asked to copy what is left, between two of
    // its commits, after which its next commit starts the log over. Each pass
    // here leaves what was committed while it ran; a few more passes, each
    // shorter than the one before, shrink that to a moment's worth, so the
    // writer's part stays short (a whole pass's leftover held commits up by
    // 10–20 ms: the echo benchmark's p99 went from 16.6 to 24–29 ms).
    if (log < restartFrames) return;
    for (let pass = 0; pass < 4 && log - checkpointed > SMALL_TAIL; pass++) ({ log, checkpointed } = checkpoint.get()!);
    if (log - checkpointed <= SMALL_TAIL) Atomics.store(logIsLong, 0, 1);
  } catch {
    // Busy or interrupted: the next tick tries again; the log only grows meanwhile.
  }
}, intervalMs);

port.on('message', (request: 'close') => {
  if (request !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
