/**
 * Redis crashes under traffic and comes back empty (as it keeps nothing on
 * disk): two nodes on PostgreSQL and a Redis this test owns. Nothing acked is
 * lost; what was published during the gap reaches the other node's clients,
 * read back from the database once the node resubscribes; presence counts
 * again within PRESENCE_TTL_MS; the nodes never stop serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ChatSocket, createCleanup, createRoom, guest, http, readAllMessages, until, type ServerProcess } from '../delivery/support.js';
import { startNodes } from '../cluster/start-cluster.js';
import { OwnRedis, REDIS_SERVER } from './processes.js';

const DATABASE_URL = process.env.DATABASE_URL;
const skip = !DATABASE_URL ? 'DATABASE_URL is unset' : !REDIS_SERVER ? 'no redis-server binary' : undefined;
if (skip) console.warn(`the Redis fault test is skipped: ${skip}`);

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'weather';
const PRESENCE_TTL_MS = 2000;

const seqsOf = (socket: ChatSocket) => socket.received.filter((m) => m.type === 'message' && m.room === ROOM).map((m) => m.seq as number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(skip !== undefined)(`a Redis restart under traffic${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('loses nothing acked, delivers what was published during the gap, and presence comes back', async () => {
    const redis = await OwnRedis.start();
    cleanup.add(() => redis.kill());
    const { nodes } = await startNodes(cleanup, 2, { redisUrl: redis.url, presenceTtlMs: PRESENCE_TTL_MS });
    const [n1, n2] = nodes as [ServerProcess, ServerProcess];
    await createRoom(n1.url, ROOM);
    const watcherAccount = await guest(n1.url, 'watcher');
    const senderAccount = await guest(n2.url, 'sender');
    const watcher = await ChatSocket.open(n1.wsUrl, watcherAccount);
    const sender = await ChatSocket.open(n2.wsUrl, senderAccount);
    cleanup.add(() => watcher.connection.terminate());
    cleanup.add(() => sender.connection.terminate());
    await watcher.join(ROOM);
    await sender.join(ROOM);
    await watcher.waitFor('the sender online', (m) => m.type === 'presence' && m.user === senderAccount.username && m.state === 'online');

    let sent = 0;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const ack = await sender.call({ type: 'send', room: ROOM, text: `m${++sent}`, clientMsgId: `c${sent}` }, 10_000);
        expect(ack, JSON.stringify(ack)).toMatchObject({ type: 'message', seq: sent });
      }
    };
    await send(20);
    await until('the watcher to have the first 20', () => seqsOf(watcher).length >= 20, 10_000);

    // Redis dies; the sender's node keeps storing and acking (the database is up), but cannot publish.
    await redis.kill();
    await send(20);
    expect((await http(n2.url, 'GET', '/healthz')).status).toBe(503);
    // No later message will come to reveal the gap: the watcher's node must read it back by itself.
    await redis.restart();
    await until('the watcher to receive what was sent during the outage', () => seqsOf(watcher).length >= 40, 20_000);
    await send(10);
    await until('the watcher to receive what was sent after', () => seqsOf(watcher).length >= 50, 10_000);
    expect(seqsOf(watcher)).toEqual(range(1, 50));
    expect(seqsOf(sender)).toEqual(range(1, 50));
    const stored = await readAllMessages(n1.url, watcherAccount.token, ROOM);
    expect(stored.map((m) => m.seq)).toEqual(range(1, 50));

    // The restarted Redis knew no one: each node registers its users again at its next heartbeat.
    await until(
      'both users online again, as every node counts them',
      async () => {
        for (const node of nodes) {
          const res = await http(node.url, 'GET', `/api/admin/rooms/${ROOM}/members`, { token: ADMIN_TOKEN });
          if (res.status !== 200) return false;
          const online = res.body.members.filter((m: { online: boolean }) => m.online).map((m: { username: string }) => m.username).sort();
          if (online.join() !== [senderAccount.username, watcherAccount.username].sort().join()) return false;
        }
        return true;
      },
      PRESENCE_TTL_MS * 2,
    );
    for (const node of nodes) {
      expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
      expect(node.alive()).toBe(true);
    }
  }, 90_000);
});
