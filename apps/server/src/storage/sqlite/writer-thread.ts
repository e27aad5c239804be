/**
 * The message writer's thread: it owns a second connection to the database
 * and runs `appendMessages` batches there, so the commit — and its fsync,
 * which takes milliseconds on a real disk — never blocks the event loop that
 * serves the sockets. Started by `ThreadedAppender`; one batch at a time, in
 * the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection, type Synchronous } from './connection.js';
import { createMessagesRepository } from './messages-repository.js';
import type { AppendRequest, AppendResponse } from './threaded-appender.js';

const { file, synchronous } = workerData as { file: string; synchronous: Synchronous };
// The checkpointer thread copies the log back; commits here never stop to do it.
const db = openConnection(file, synchronous, { autoCheckpoint: false });
const messages = createMessagesRepository(db);
const port = parentPort!;

port.on('message', (request: AppendRequest | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  let response: AppendResponse;
  try {
    response = { id: request.id, results: messages.append(request.batch) };
  } catch (err) {
    response = { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(response);
});
