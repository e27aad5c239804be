/**
 * PostgreSQL goes down under traffic and comes back: a node on a PostgreSQL
 * cluster this test owns. Sends during the outage are answered with a
 * retryable error within a bound (no crash, no hang); afterwards sending
 * works, and a send retried with its clientMsgId is stored once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCleanup, http, readAllMessages, until } from '../delivery/support.js';
import { clerkOnOwnPostgres } from './postgres-node.js';
import { POSTGRES_BIN } from './processes.js';

const skip = POSTGRES_BIN ? undefined : 'no PostgreSQL server binaries (apt-get install postgresql)';
if (skip) console.warn(`the PostgreSQL fault test is skipped: ${skip}`);

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'ledger';
/** What a send may take to be answered while the database is down: the pool's connection timeout (5 s) and slack. */
const ANSWER_BOUND_MS = 10_000;

describe.skipIf(skip !== undefined)(`a PostgreSQL restart under traffic${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('answers sends during the outage with a retryable error, then stores the retried ones once', async () => {
    const { postgres, node, account, socket } = await clerkOnOwnPostgres(cleanup, ROOM, 10);

    await postgres.kill();
    const refused: Array<{ code: unknown; ms: number }> = [];
    for (let i = 1; i <= 5; i++) {
      const started = Date.now();
      const answer = await socket.call({ type: 'send', room: ROOM, text: `during ${i}`, clientMsgId: `d${i}` }, ANSWER_BOUND_MS);
      expect(answer).toMatchObject({ type: 'error' });
      refused.push({ code: answer.code, ms: Date.now() - started });
    }
    // `internal` is the retryable refusal: the client keeps the message and sends it again (apps/web does).
    expect(refused.map((r) => r.code)).toEqual(Array(5).fill('internal'));
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(503);
    expect(node.alive()).toBe(true);

    await postgres.restart();
    await until('the node to reach the database again', async () => (await http(node.url, 'GET', '/healthz')).status === 200, 20_000, 200);
    // The client retries what was refused, with the same ids; one of them twice.
    const acks = [];
    for (let i = 1; i <= 5; i++) acks.push(await socket.call({ type: 'send', room: ROOM, text: `during ${i}`, clientMsgId: `d${i}` }));
    expect(acks.map((a) => [a.type, a.seq])).toEqual([11, 12, 13, 14, 15].map((seq) => ['message', seq]));
    expect(await socket.call({ type: 'send', room: ROOM, text: 'during 1', clientMsgId: 'd1' })).toMatchObject({ type: 'message', seq: 11 });
    const stored = await readAllMessages(node.url, account.token, ROOM);
    expect(stored.map((m) => m.clientMsgId)).toEqual([...Array.from({ length: 10 }, (_, i) => `b${i + 1}`), 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    console.log(`sends refused while PostgreSQL was down: answered in ${refused.map((r) => r.ms).join(', ')} ms`);
  }, 120_000);
});
