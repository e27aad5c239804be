/**
 * A node killed with SIGKILL behind the real nginx of deploy/nginx/cluster.conf
 * (three nodes on PostgreSQL and Redis, every client through nginx): the
 * killed node's clients reconnect through nginx, land on the others, resume
 * with `since` and see one gapless sequence; a message in flight when the
 * node died is re-sent with its clientMsgId and stored once; nothing acked
 * is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { haveNginx, startLocalNginx } from '../../../../deploy/test/local-nginx.js';
import { startNodes } from '../cluster/start-cluster.js';
import { ADMIN_TOKEN, ChatSocket, createCleanup, guest, http, readAllMessages, sleep, until, type Account, type Msg } from '../delivery/support.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const skip = !DATABASE_URL || !REDIS_URL ? 'DATABASE_URL or REDIS_URL is unset' : !haveNginx ? 'no nginx (apt-get install nginx-light)' : undefined;
if (skip) console.warn(`the node-kill-behind-nginx fault test is skipped: ${skip}`);

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'square';

/** A client as the web client behaves: it sends one message at a time, and after a lost connection reconnects, resumes and re-sends what was not acked. */
class Client {
  readonly sockets: ChatSocket[] = [];
  readonly acked = new Set<string>();
  reconnects = 0;
  private next = 0;

  constructor(
    private readonly wsUrl: string,
    readonly account: Account,
  ) {}

  get socket(): ChatSocket {
    return this.sockets[this.sockets.length - 1]!;
  }

  /** Seqs in the order this client saw them over all its connections (join histories included), each the first time. */
  seen(): { order: number[]; repeatsWithoutRef: number } {
    const order: number[] = [];
    const have = new Set<number>();
    let repeatsWithoutRef = 0;
    for (const socket of this.sockets) {
      for (const m of socket.received) {
        const messages: Msg[] = m.type === 'joined' && m.room === ROOM ? (m.history as Msg[]) : m.type === 'message' && m.room === ROOM ? [m] : [];
        for (const message of messages) {
          if (have.has(message.seq)) {
            // Only the answer to a re-send may repeat a message (it is owed to its sender).
            if (message.ref === undefined) repeatsWithoutRef++;
            continue;
          }
          have.add(message.seq);
          order.push(message.seq);
        }
      }
    }
    return { order, repeatsWithoutRef };
  }

  async connect(): Promise<void> {
    const socket = await ChatSocket.open(this.wsUrl, this.account);
    cleanup.add(() => socket.connection.terminate());
    this.sockets.push(socket);
    const last = this.seen().order.at(-1);
    await socket.join(ROOM, last);
  }

  async run(count: number): Promise<void> {
    while (this.next < count) {
      const id = `${this.account.username}-${this.next}`;
      try {
        const answer = await this.socket.call({ type: 'send', room: ROOM, text: id, clientMsgId: id }, 5000);
        if (answer.type !== 'message') throw new Error(`${id}: ${JSON.stringify(answer)}`);
        this.acked.add(id);
        this.next++;
      } catch (err) {
        if (!this.socket.closeInfo) throw err;
        // The node is gone: back through nginx (with a moment's backoff), then the same message again.
        await sleep(200);
        this.reconnects++;
        await this.connect();
      }
    }
  }
}

describe.skipIf(skip !== undefined)(`a node killed behind nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('its clients resume through nginx on the other nodes, gapless, and nothing acked is lost', async () => {
    const { nodes } = await startNodes(cleanup, 3, { redisUrl: REDIS_URL!, presenceTtlMs: 3000 });
    const nginx = await startLocalNginx(new Map(nodes.map((n, i) => [`chat-${i + 1}`, n.port])));
    cleanup.add(() => nginx.stop());
    const base = `http://127.0.0.1:${nginx.port}`;
    const wsUrl = `ws://127.0.0.1:${nginx.port}/ws`;
    const created = await http(base, 'POST', '/api/admin/rooms', { token: ADMIN_TOKEN, body: { id: ROOM, title: ROOM } });
    expect(created.status).toBe(201);

    const clients: Client[] = [];
    for (let i = 0; i < 6; i++) {
      const client = new Client(wsUrl, await guest(base, `p${i}`));
      await client.connect();
      clients.push(client);
    }
    const PER_CLIENT = 60;
    const running = clients.map((c) => c.run(PER_CLIENT));
    await until('some traffic first', () => clients.every((c) => c.acked.size >= 10), 20_000);
    nodes[0]!.child.kill('SIGKILL');
    await Promise.all(running);

    const total = PER_CLIENT * clients.length;
    // least_conn spread the six over the three nodes: the killed node's clients came back through nginx.
    expect(clients.filter((c) => c.reconnects > 0).length).toBeGreaterThan(0);
    await until('every client to have every message', () => clients.every((c) => c.seen().order.length >= total), 20_000);
    for (const c of clients) {
      const { order, repeatsWithoutRef } = c.seen();
      expect(order, c.account.username).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(repeatsWithoutRef, c.account.username).toBe(0);
    }
    const stored = await readAllMessages(base, clients[0]!.account.token, ROOM);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const storedIds = stored.map((m) => m.clientMsgId).sort();
    expect(storedIds).toEqual(clients.flatMap((c) => [...c.acked]).sort());
    expect(new Set(storedIds).size).toBe(total);
  }, 120_000);
});
