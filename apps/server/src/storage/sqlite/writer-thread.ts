/**
 * The writer's thread: it owns a second connection to the database and runs
 * every write of the store there — chat messages, and also joins, read
 * cursors, sessions, rooms — so no commit (and no fsync, which takes
 * milliseconds on a real disk and far longer on a busy one) ever blocks the
 * event loop that serves the sockets. Started by `WriterThread` (writer.ts).
 *
 * Group commit across everything: the requests waiting in the queue when the
 * thread wakes are run in one transaction, each in a savepoint of its own so
 * one refused request (a taken username) does not undo the others; one
 * commit answers them all, in the order they were sent.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { openConnection, type Synchronous } from './connection.js';
import { fromColumns, type AppendColumns } from './append-wire.js';
import { createAttachmentsRepository } from './attachments-repository.js';
import { createAuditRepository } from './audit-repository.js';
import { createInvitationsRepository } from './invitations-repository.js';
import { createMessagesRepository } from './messages-repository.js';
import { createRoomsRepository } from './rooms-repository.js';
import { SearchIndexer } from './search-indexer.js';
import { createSessionsRepository, createUsersRepository } from './users-repository.js';
import type { WriteRequest, WriteResponse } from './writer.js';

const { file, synchronous, logIsLong } = workerData as { file: string; synchronous: Synchronous; logIsLong: Int32Array };
// The checkpointer thread copies the log back; commits here never stop to do it.
const db = openConnection(file, synchronous, { autoCheckpoint: false });
const messages = createMessagesRepository(db);
const repositories = {
  users: createUsersRepository(db),
  sessions: createSessionsRepository(db),
  rooms: createRoomsRepository(db),
  invitations: createInvitationsRepository(db),
  audit: createAuditRepository(db),
  attachments: createAttachmentsRepository(db),
  messages,
  // Chat messages arrive and leave in the compact form of append-wire.ts.
  appends: { append: (columns: AppendColumns) => messages.appendOutcomes(fromColumns(columns)) },
};
// A failed pass (disk full) leaves the backlog for the next one; searches read it meanwhile.
const indexer = new SearchIndexer(messages);
const port = parentPort!;
// Between two commits nothing else writes, so this copies every frame the
// checkpointer has not yet, and the next commit starts the log from its
// beginning (see checkpoint-thread.ts). Wanted about once a second under
// steady writes; it costs one sync of the database file.
const finishCheckpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

function run(request: WriteRequest): unknown {
  const repository = repositories[request.target] as unknown as Record<string, (...args: unknown[]) => unknown>;
  const method = repository[request.method];
  if (typeof method !== 'function') throw new Error(`no write ${request.target}.${request.method}`);
  return method.apply(repository, request.args);
}

/** One request in a savepoint: its failure rolls back only its own changes. */
const runInSavepoint = db.transaction((request: WriteRequest) => run(request));

const runAll = db.transaction((requests: WriteRequest[]): WriteResponse[] =>
  requests.map((request): WriteResponse => {
    try {
      return { id: request.id, result: runInSavepoint(request) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      return { id: request.id, error: { name: e.name, message: e.message } };
    }
  }),
);

port.on('message', (first: WriteRequest | 'close') => {
  const requests: WriteRequest[] = [];
  let closing = first === 'close';
  if (first !== 'close') requests.push(first);
  // Everything else already queued joins this commit.
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) {
    const message = next.message as WriteRequest | 'close';
    if (message === 'close') closing = true;
    else requests.push(message);
  }
  if (requests.length > 0) {
    let responses: WriteResponse[];
    try {
      responses = runAll.immediate(requests);
    } catch (err) {
      // The commit itself failed (disk full, I/O error): nothing of the batch is stored.
      const message = err instanceof Error ? err.message : String(err);
      responses = requests.map((r) => ({ id: r.id, error: { name: 'Error', message } }));
    }
    // One message for the whole commit: the event loop takes it in one turn.
    port.postMessage(responses);
    // After the answers: no ack waits on the search index.
    indexer.afterCommit();
    if (Atomics.exchange(logIsLong, 0, 0) === 1) {
      try {
        finishCheckpoint.run();
      } catch {
        // The checkpointer is at it (busy): it will ask again.
      }
    }
  }
  if (closing) {
    indexer.flush();
    indexer.close();
    db.close();
    port.close();
  }
});
