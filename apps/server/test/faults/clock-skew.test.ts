/**
 * Two nodes whose clocks disagree by ten seconds (each server's Date.now
 * shifted, one 5 s behind the machine, one 5 s ahead) still give one
 * gapless sequence per room, in the order the database committed it: the
 * order comes from the room's counter, never from a timestamp.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatSocket, createCleanup, createRoom, guest, readAllMessages, until, type ServerProcess } from '../delivery/support.js';
import { startNodes } from '../cluster/start-cluster.js';

const DATABASE_URL = process.env.DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL;
const skip = !DATABASE_URL || !REDIS_URL ? 'DATABASE_URL or REDIS_URL is unset' : undefined;
if (skip) console.warn(`the clock-skew fault test is skipped: ${skip}`);

const cleanup = createCleanup();
afterEach(() => cleanup.run());
const ROOM = 'clocks';
const SHIFT = pathToFileURL(path.join(import.meta.dirname, 'shift-clock.mjs')).href;

describe.skipIf(skip !== undefined)(`nodes whose clocks disagree${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('number and order every room by the database, whatever the timestamps say', async () => {
    const { nodes } = await startNodes(cleanup, 2, {
      redisUrl: REDIS_URL!,
      presenceTtlMs: 3000,
      env: { NODE_OPTIONS: `--import=${SHIFT}` },
      perNodeEnv: [{ CLOCK_OFFSET_MS: '-5000' }, { CLOCK_OFFSET_MS: '5000' }],
    });
    const [behind, ahead] = nodes as [ServerProcess, ServerProcess];
    await createRoom(behind.url, ROOM);
    const sockets: ChatSocket[] = [];
    for (const [i, node] of [behind, ahead, behind, ahead].entries()) {
      const socket = await ChatSocket.open(node.wsUrl, await guest(node.url, `c${i}`));
      cleanup.add(() => socket.connection.terminate());
      await socket.join(ROOM);
      sockets.push(socket);
    }
    const [a, b] = sockets as [ChatSocket, ChatSocket];
    // Turn by turn across the two nodes: each send is committed after the previous one.
    const order: string[] = [];
    for (let i = 0; i < 15; i++) {
      for (const [name, socket] of [['a', a], ['b', b]] as const) {
        const ack = await socket.call({ type: 'send', room: ROOM, text: `${name}${i}`, clientMsgId: `${name}${i}` });
        expect(ack).toMatchObject({ type: 'message', seq: order.length + 1 });
        order.push(`${name}${i}`);
      }
    }
    // Then both at once, as fast as they can.
    await Promise.all(
      [a, b].map((socket, k) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => socket.call({ type: 'send', room: ROOM, text: `burst${k}-${i}`, clientMsgId: `burst${k}-${i}` }))),
      ),
    );
    const total = order.length + 40;
    const seqs = (s: ChatSocket) => s.received.filter((m) => m.type === 'message' && m.room === ROOM).map((m) => m.seq as number);
    await until('every client to have every message', () => sockets.every((s) => seqs(s).length >= total), 20_000);
    for (const s of sockets) expect(seqs(s), s.name).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    const stored = await readAllMessages(ahead.url, (await guest(ahead.url, 'reader')).token, ROOM);
    expect(stored.slice(0, order.length).map((m) => m.text)).toEqual(order);
    // The timestamps do disagree: each of b's turn-by-turn messages is stamped later than the a message after it.
    const ts = new Map(stored.map((m) => [m.text, m.ts]));
    for (let i = 0; i < 14; i++) expect(ts.get(`b${i}`)!).toBeGreaterThan(ts.get(`a${i + 1}`)!);
  }, 90_000);
});
