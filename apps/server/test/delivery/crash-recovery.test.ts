import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  Streamer,
  createCleanup,
  createRoom,
  guest,
  historyProblem,
  killAtCleanup,
  readAllMessages,
  startServer,
  tempDir,
  until,
  within,
  type Account,
  type StoredMessage,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const ROOM = 'crash';
const CLIENTS = 5;
const WINDOW = 20;
/** Acks to collect before the kill: enough that batches are being committed back to back. */
const ACKS_BEFORE_KILL = 600;
const ENV = { RATE_MESSAGES_PER_SECOND: '100000' };

describe('a server killed with SIGKILL mid-stream', () => {
  it('keeps every acked message exactly once, with seq 1..N and no clientMsgId twice, and a re-sent un-acked message is stored once', async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const databasePath = path.join(dir.path, 'chat.db');

    const first = killAtCleanup(cleanup, await startServer({ databasePath, env: ENV }));
    await createRoom(first.url, ROOM);
    const accounts: Account[] = [];
    for (let i = 0; i < CLIENTS; i++) accounts.push(await guest(first.url, `k${i}`));
    const streamers: Streamer[] = [];
    for (const [i, account] of accounts.entries()) {
      const socket = await ChatSocket.open(first.wsUrl, account);
      cleanup.add(() => socket.connection.terminate());
      await socket.join(ROOM);
      streamers.push(new Streamer(socket, ROOM, `c${i}`, WINDOW));
    }
    for (const s of streamers) s.start();

    const ackedCount = () => streamers.reduce((n, s) => n + s.acked.size, 0);
    await until(`${ACKS_BEFORE_KILL} acks`, () => ackedCount() >= ACKS_BEFORE_KILL, 60_000, 5);
    first.child.kill('SIGKILL');
    const exit = await within('the killed server to exit', first.exited, 10_000);
    expect(exit.signal).toBe('SIGKILL');
    for (const s of streamers) s.stop();
    await within(
      'every client to see the connection end',
      Promise.all(streamers.map((s) => s.socket.closed)),
      10_000,
    );
    for (const s of streamers) s.detach();
    // The kill must have landed mid-stream: sends were in flight, unanswered.
    const unacked = streamers.flatMap((s) => s.unacked());
    expect(unacked.length).toBeGreaterThan(0);
    for (const s of streamers) expect(s.errors).toEqual([]);

    const second = killAtCleanup(cleanup, await startServer({ databasePath, env: ENV }));
    const stored = await readAllMessages(second.url, accounts[0]!.token, ROOM);
    expect(historyProblem(stored)).toBeUndefined();
    const byClientId = new Map<string, StoredMessage>(stored.map((m) => [m.clientMsgId, m]));
    const sentIds = new Set(streamers.flatMap((s) => s.sent));
    for (const m of stored) expect(sentIds.has(m.clientMsgId), `stored ${m.clientMsgId} was never sent`).toBe(true);

    // Every acked message is there once, with the id and seq its ack carried.
    const lost: string[] = [];
    for (const s of streamers) {
      for (const [clientMsgId, ack] of s.acked) {
        const m = byClientId.get(clientMsgId);
        if (!m) lost.push(clientMsgId);
        else expect({ clientMsgId, id: m.id, seq: m.seq, text: m.text }).toEqual({ clientMsgId, ...ack, text: s.texts.get(clientMsgId) });
      }
    }
    expect(lost, `acked messages missing after the crash (of ${ackedCount()} acked)`).toEqual([]);
    const rooms = await fetch(`${second.url}/api/rooms`, { headers: { authorization: `Bearer ${accounts[0]!.token}` } });
    const summary = ((await rooms.json()) as { rooms: Array<{ id: string; lastSeq: number }> }).rooms.find((r) => r.id === ROOM);
    expect(summary?.lastSeq).toBe(stored.length);

    // Re-send every un-acked message, as a client would after reconnecting.
    for (const [i, s] of streamers.entries()) {
      const socket = await ChatSocket.open(second.wsUrl, accounts[i]!);
      cleanup.add(() => socket.connection.terminate());
      await socket.join(ROOM);
      for (const clientMsgId of s.unacked()) {
        const reply = await socket.call({ type: 'send', room: ROOM, text: s.texts.get(clientMsgId), clientMsgId });
        expect(reply).toMatchObject({ type: 'message', clientMsgId, author: accounts[i]!.username });
        const before = byClientId.get(clientMsgId);
        // Stored before the crash, un-acked: the re-send answers with the original.
        if (before) expect({ id: reply.id, seq: reply.seq }).toEqual({ id: before.id, seq: before.seq });
      }
      await socket.close();
    }

    const after = await readAllMessages(second.url, accounts[0]!.token, ROOM);
    expect(historyProblem(after)).toBeUndefined();
    const afterIds = after.map((m) => m.clientMsgId);
    expect(new Set(afterIds).size).toBe(afterIds.length);
    for (const clientMsgId of unacked) expect(afterIds.filter((id) => id === clientMsgId)).toHaveLength(1);
    // Nothing stored before the restart moved.
    expect(after.slice(0, stored.length)).toEqual(stored);
    console.log(
      `[crash-recovery] acked ${ackedCount()} before SIGKILL, ${unacked.length} in flight; ` +
        `${stored.length} stored after restart (${stored.length - ackedCount()} committed but not acked); ${after.length} after re-sends`,
    );
  }, 120_000);
});
