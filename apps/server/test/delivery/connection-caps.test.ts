import net from 'node:net';
import path from 'node:path';
import { HandshakeError } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  createCleanup,
  createRoom,
  guest,
  killAtCleanup,
  startServer,
  tempDir,
  until,
  type Account,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

async function serverWith(env: Record<string, string>): Promise<ServerProcess> {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  return killAtCleanup(cleanup, await startServer({ databasePath: path.join(dir.path, 'chat.db'), env }));
}

async function open(server: ServerProcess, account: Account): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, account);
  cleanup.add(() => socket.connection.terminate());
  return socket;
}

/** The HTTP status an upgrade is refused with (fails if it is accepted). */
async function refusal(server: ServerProcess, account: Account): Promise<number> {
  try {
    const socket = await open(server, account);
    await socket.close();
  } catch (err) {
    if (err instanceof HandshakeError) return err.status;
    throw err;
  }
  throw new Error(`the upgrade of ${account.username} was accepted`);
}

describe('connection caps', () => {
  it('refuses a third connection of one user with 429 when MAX_CONNECTIONS_PER_USER is 2, and accepts one again after a close', async () => {
    const server = await serverWith({ MAX_CONNECTIONS_PER_USER: '2' });
    const alice = await guest(server.url, 'a');
    const first = await open(server, alice);
    await open(server, alice);
    expect(await refusal(server, alice)).toBe(429);
    // Another user is not affected.
    await open(server, await guest(server.url, 'b'));
    await first.close();
    const again = await until(
      'a connection of alice to be accepted after one closed',
      () => open(server, alice).catch((err) => (err instanceof HandshakeError && err.status === 429 ? undefined : Promise.reject(err))),
      5000,
      50,
    );
    expect(again.open).toBe(true);
  });

  it('holds both caps when many upgrades arrive at once', async () => {
    const server = await serverWith({ MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS: '5' });
    const alice = await guest(server.url, 'a');
    const mine = await Promise.allSettled(Array.from({ length: 8 }, () => open(server, alice)));
    expect(mine.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of mine) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'HandshakeError', status: 429 });

    const others = await Promise.all(Array.from({ length: 6 }, (_, i) => guest(server.url, `o${i}`)));
    const theirs = await Promise.allSettled(others.map((account) => open(server, account)));
    expect(theirs.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of theirs) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'HandshakeError', status: 503 });
  });

  it('gives back the places of connections dropped during or right after the handshake', async () => {
    const server = await serverWith({ MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS: '4' });
    const alice = await guest(server.url, 'a');
    const request = (key: string) =>
      [
        'GET /ws HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: chat.v1',
        `Authorization: Bearer ${alice.token}`,
        '',
        '',
      ].join('\r\n');
    // Dropped at every point: before the request is complete, right after it, after the 101.
    for (let i = 0; i < 60; i++) {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const text = request('dGhlIHNhbXBsZSBub25jZQ==');
      socket.write(i % 3 === 0 ? text.slice(0, 40) : text);
      if (i % 3 === 2) await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      else if (i % 6 === 1) await new Promise((resolve) => setImmediate(resolve));
      socket.destroy();
      await closed;
    }
    const first = await until(
      'alice to be allowed a connection again',
      () => open(server, alice).catch((err) => (err instanceof HandshakeError && err.status === 429 ? undefined : Promise.reject(err))),
      5000,
      50,
    );
    const second = await open(server, alice);
    expect([first.open, second.open]).toEqual([true, true]);
    expect(await refusal(server, alice)).toBe(429);
    // And the total: two more users fill it, the next is refused.
    await open(server, await guest(server.url, 'b'));
    await open(server, await guest(server.url, 'c'));
    expect(await refusal(server, await guest(server.url, 'd'))).toBe(503);
  });

  it('refuses connections beyond MAX_CONNECTIONS with 503, and accepts one again after a close', async () => {
    const server = await serverWith({ MAX_CONNECTIONS: '3' });
    const sockets: ChatSocket[] = [];
    for (let i = 0; i < 3; i++) sockets.push(await open(server, await guest(server.url, `c${i}`)));
    expect(await refusal(server, await guest(server.url, 'd'))).toBe(503);
    // The cap is on WebSocket connections only: HTTP still answers.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await sockets[0]!.close();
    const late = await guest(server.url, 'e');
    const again = await until(
      'a connection to be accepted after one closed',
      () => open(server, late).catch((err) => (err instanceof HandshakeError && err.status === 503 ? undefined : Promise.reject(err))),
      5000,
      50,
    );
    expect(again.open).toBe(true);
  });

  it('answers forbidden to a third join when MAX_ROOMS_PER_CONNECTION is 2, and allows rejoining a joined room', async () => {
    const server = await serverWith({ MAX_ROOMS_PER_CONNECTION: '2' });
    for (const room of ['one', 'two', 'three']) await createRoom(server.url, room);
    const socket = await open(server, await guest(server.url, 'r'));
    await socket.join('one');
    await socket.join('two');
    expect(await socket.call({ type: 'join', room: 'three' })).toMatchObject({ type: 'error', code: 'forbidden' });
    await socket.join('one');
    // Leaving frees a place.
    expect((await socket.call({ type: 'leave', room: 'two' })).type).toBe('left');
    await socket.join('three');
    expect(socket.open).toBe(true);
  });
});
