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

const { file, synchronous, intervalMs } = workerData as { file: string; synchronous: Synchronous; intervalMs: number };
const db = openConnection(file, synchronous);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const port = parentPort!;

const timer = setInterval(() => {
  try {
    checkpoint.run();
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
