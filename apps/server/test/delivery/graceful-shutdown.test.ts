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
  parseServerFrames,
  rawUpgrade,
  readAllMessages,
  startServer,
  tempDir,
  until,
  within,
  type Account,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const ROOM = 'shutdown';
const ENV = { RATE_MESSAGES_PER_SECOND: '100000' };

describe.each(['SIGTERM', 'SIGINT'] as const)('a server sent %s', (signal) => {
  it('closes every client with 1001, exits with code 0 within 10 s, and keeps every acked message', async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const databasePath = path.join(dir.path, 'chat.db');
    const server = killAtCleanup(cleanup, await startServer({ databasePath, env: ENV }));
    await createRoom(server.url, ROOM);

    const accounts: Account[] = [];
    const streamers: Streamer[] = [];
    for (let i = 0; i < 3; i++) {
      const account = await guest(server.url, `s${i}`);
      accounts.push(account);
      const socket = await ChatSocket.open(server.wsUrl, account);
      cleanup.add(() => socket.connection.terminate());
      await socket.join(ROOM);
      streamers.push(new Streamer(socket, ROOM, `s${i}`, 10));
    }
    // A client that only listens, and one that never joined a room.
    const listener = await ChatSocket.open(server.wsUrl, await guest(server.url, 'l'));
    cleanup.add(() => listener.connection.terminate());
    await listener.join(ROOM);
    const idle = await ChatSocket.open(server.wsUrl, await guest(server.url, 'i'));
    cleanup.add(() => idle.connection.terminate());
    // And a peer that never answers the close handshake: the server must not wait for it forever.
    const mute = await rawUpgrade(server.port, { Authorization: `Bearer ${accounts[0]!.token}` });
    cleanup.add(() => mute.socket.destroy());
    expect(mute.status).toBe(101);

    for (const s of streamers) s.start();
    await until('200 acks', () => streamers.reduce((n, s) => n + s.acked.size, 0) >= 200, 30_000, 5);
    // Sends are in flight when the signal lands.
    server.child.kill(signal);

    const closes = await within(
      'every client to be closed',
      Promise.all([...streamers.map((s) => s.socket.closed), listener.closed, idle.closed]),
      10_000,
    );
    expect(closes.map((c) => c.code)).toEqual([1001, 1001, 1001, 1001, 1001]);
    const exit = await within(`the server to exit after ${signal}`, server.exited, 10_000);
    expect(exit, server.output()).toEqual({ code: 0, signal: null });
    await within('the mute peer to be dropped', mute.closed, 5000);
    expect(parseServerFrames(mute.data).find((f) => f.opcode === 0x8)?.payload.readUInt16BE(0)).toBe(1001);
    for (const s of streamers) s.detach();
    for (const s of streamers) expect(s.errors).toEqual([]);

    const restarted = killAtCleanup(cleanup, await startServer({ databasePath, env: ENV }));
    const stored = await readAllMessages(restarted.url, accounts[0]!.token, ROOM);
    expect(historyProblem(stored)).toBeUndefined();
    const byClientId = new Map(stored.map((m) => [m.clientMsgId, m]));
    const missing: string[] = [];
    for (const s of streamers) {
      for (const [clientMsgId, ack] of s.acked) {
        const m = byClientId.get(clientMsgId);
        if (!m) missing.push(clientMsgId);
        else expect({ id: m.id, seq: m.seq }).toEqual(ack);
      }
    }
    expect(missing).toEqual([]);
    const acked = streamers.reduce((n, s) => n + s.acked.size, 0);
    console.log(`[graceful-shutdown] ${signal}: ${acked} acked, ${stored.length} stored after restart`);
  }, 60_000);
});
