/**
 * Sustained send throughput with ack after commit, on a real server child
 * with the default DB_SYNCHRONOUS=FULL. Measured, printed, not asserted; it
 * runs only when asked, alone, so other test files do not share the CPU:
 *
 *   MEASURE_THROUGHPUT=1 npx vitest run apps/server/test/delivery/throughput
 *
 * The clients run in the test process: with 50 members in one room it parses
 * 50 copies of every message, so that figure includes the fan-out to them.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  Streamer,
  createCleanup,
  createRoom,
  guest,
  killAtCleanup,
  sleep,
  startServer,
  tempDir,
  until,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const MEASURE_MS = Number(process.env.MEASURE_MS ?? 5000);

async function measure(server: ServerProcess, senders: number, window: number, roomsPerSender: boolean): Promise<number> {
  const streamers: Streamer[] = [];
  for (let i = 0; i < senders; i++) {
    const room = roomsPerSender ? `t${senders}-${i}` : `t${senders}`;
    if (roomsPerSender || i === 0) await createRoom(server.url, room);
    const socket = await ChatSocket.open(server.wsUrl, await guest(server.url, 't'));
    cleanup.add(() => socket.connection.terminate());
    await socket.join(room);
    socket.keep = false;
    streamers.push(new Streamer(socket, room, `t${i}`, window));
  }
  const acked = () => streamers.reduce((n, s) => n + s.acked.size, 0);
  for (const s of streamers) s.start();
  // Half a second to warm up (JIT, SQLite cache), then the measured interval.
  await sleep(500);
  const startCount = acked();
  const start = performance.now();
  await sleep(MEASURE_MS);
  const count = acked() - startCount;
  const seconds = (performance.now() - start) / 1000;
  for (const s of streamers) s.stop();
  await until('the last acks', () => streamers.every((s) => s.done), 30_000, 10);
  for (const s of streamers) {
    s.detach();
    expect(s.errors).toEqual([]);
  }
  return count / seconds;
}

describe.runIf(process.env.MEASURE_THROUGHPUT)('throughput with ack after commit (DB_SYNCHRONOUS=FULL)', () => {
  it('measures messages per second for 1 sender (window 50) and 50 senders (window 10 each)', async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const server = killAtCleanup(
      cleanup,
      await startServer({ databasePath: path.join(dir.path, 'chat.db'), env: { RATE_MESSAGES_PER_SECOND: '1000000' } }),
    );
    const one = await measure(server, 1, 50, false);
    const fiftyOneRoom = await measure(server, 50, 10, false);
    const fiftyRooms = await measure(server, 50, 10, true);
    console.log(
      `[throughput] ${MEASURE_MS} ms each, acked msgs/s: 1 sender (window 50): ${one.toFixed(0)}; ` +
        `50 senders (window 10) in one room (fan-out to 50): ${fiftyOneRoom.toFixed(0)}; ` +
        `50 senders (window 10) in 50 rooms: ${fiftyRooms.toFixed(0)}`,
    );
  }, 120_000);
});
