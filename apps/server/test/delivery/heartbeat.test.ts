import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  createCleanup,
  guest,
  killAtCleanup,
  parseServerFrames,
  rawUpgrade,
  sleep,
  startServer,
  tempDir,
  within,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const IDLE_MS = 200;
let server: ServerProcess;

beforeEach(async () => {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  server = killAtCleanup(
    cleanup,
    await startServer({
      databasePath: path.join(dir.path, 'chat.db'),
      env: { WS_IDLE_TIMEOUT_MS: String(IDLE_MS), WS_HANDSHAKE_TIMEOUT_MS: '300' },
    }),
  );
});

describe('heartbeat', () => {
  it('disconnects a peer that completed the handshake and never answers pings', async () => {
    const account = await guest(server.url, 'h');
    const peer = await rawUpgrade(server.port, { Authorization: `Bearer ${account.token}` });
    cleanup.add(() => peer.socket.destroy());
    expect(peer.status).toBe(101);
    // It reads (so the TCP connection is healthy) but writes nothing, pongs included.
    await within('the server to drop the silent peer', peer.closed, 5000);
    const frames = parseServerFrames(peer.data);
    // RFC 6455 §5.5.2: the server asked first, with a ping (opcode 0x9).
    expect(frames.some((f) => f.opcode === 0x9)).toBe(true);
  });

  it('keeps a client that answers pings connected through many idle periods', async () => {
    const socket = await ChatSocket.open(server.wsUrl, await guest(server.url, 'p'));
    cleanup.add(() => socket.connection.terminate());
    let pings = 0;
    socket.connection.on('ping', () => pings++);
    for (let i = 0; i < 50 && pings < 3; i++) await sleep(IDLE_MS / 2);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(socket.open).toBe(true);
    expect((await socket.call({ type: 'join', room: 'no-such-room' })).type).toBe('error');
  });

  it('drops a connection that never sends its upgrade request within WS_HANDSHAKE_TIMEOUT_MS', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    cleanup.add(() => socket.destroy());
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await within('the server to drop the silent TCP connection', closed, 5000);
  });
});
