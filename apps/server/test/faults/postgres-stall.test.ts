/**
 * PostgreSQL stops answering without closing a connection (every process of
 * a cluster this test owns stopped with SIGSTOP: a hung host, or a network
 * that drops packets). Without a query timeout a send would wait for TCP to
 * give up — many minutes. With DATABASE_QUERY_TIMEOUT_MS the send is
 * answered with the retryable `internal`, /healthz says 503, the stuck
 * connections leave the pool, and once the database answers again the
 * retried sends are stored once each, gapless.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCleanup, http, readAllMessages, until } from '../delivery/support.js';
import { clerkOnOwnPostgres } from './postgres-node.js';
import { POSTGRES_BIN } from './processes.js';

const skip = POSTGRES_BIN ? undefined : 'no PostgreSQL server binaries (apt-get install postgresql)';
if (skip) console.warn(`the PostgreSQL stall test is skipped: ${skip}`);

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'ledger';
const QUERY_TIMEOUT_MS = 1000;
/** What an answer may take while the database hangs: a few query timeouts; without one, it never comes. */
const ANSWER_BOUND_MS = 15_000;

describe.skipIf(skip !== undefined)(`a PostgreSQL that stops answering${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('fails sends with a retryable error within the query timeout, then stores the retried ones once', async () => {
    const { postgres, node, account, socket } = await clerkOnOwnPostgres(cleanup, ROOM, 5, { DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) });

    await postgres.freeze();
    const refused = [];
    for (let i = 1; i <= 3; i++) refused.push(await socket.call({ type: 'send', room: ROOM, text: `during ${i}`, clientMsgId: `d${i}` }, ANSWER_BOUND_MS));
    expect(refused.map((a) => [a.type, a.code])).toEqual(Array(3).fill(['error', 'internal']));
    const health = await http(node.url, 'GET', '/healthz');
    expect(health.status).toBe(503);
    expect(node.alive()).toBe(true);

    await postgres.thaw();
    await until('the node to reach the database again', async () => (await http(node.url, 'GET', '/healthz')).status === 200, 20_000, 200);
    const acks = [];
    for (let i = 1; i <= 3; i++) acks.push(await socket.call({ type: 'send', room: ROOM, text: `during ${i}`, clientMsgId: `d${i}` }));
    // Each retried send is stored once, after the first five and in order (a timed-out COMMIT that went
    // through after all would answer its stored row here, with the seq it got).
    expect(acks.map((a) => a.type)).toEqual(['message', 'message', 'message']);
    const stored = await readAllMessages(node.url, account.token, ROOM);
    expect(stored.map((m) => m.clientMsgId).sort()).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'd1', 'd2', 'd3']);
    expect(stored.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(acks.map((a) => a.seq).sort()).toEqual([6, 7, 8]);
  }, 120_000);
});
