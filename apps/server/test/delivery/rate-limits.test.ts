import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  createCleanup,
  createRoom,
  guest,
  http,
  killAtCleanup,
  parseServerFrames,
  rawFrame,
  rawUpgrade,
  startServer,
  tempDir,
  until,
  within,
  type Msg,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

async function serverWith(env: Record<string, string>): Promise<ServerProcess> {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  return killAtCleanup(cleanup, await startServer({ databasePath: path.join(dir.path, 'chat.db'), env }));
}

async function joinedSocket(server: ServerProcess, room: string): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, await guest(server.url, 'r'));
  cleanup.add(() => socket.connection.terminate());
  await socket.join(room);
  return socket;
}

describe('rate limits', () => {
  it('refuses part of a burst of sends with rate_limited and keeps the connection open', async () => {
    const server = await serverWith({ RATE_MESSAGES_PER_SECOND: '5' });
    await createRoom(server.url, 'burst');
    const socket = await joinedSocket(server, 'burst');
    for (let i = 0; i < 50; i++) socket.send({ type: 'send', room: 'burst', text: `m${i}`, clientMsgId: `b${i}`, ref: `b${i}` });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => socket.waitFor(`reply b${i}`, (m) => m.ref === `b${i}`)));
    const limited = replies.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    const stored = replies.filter((m) => m.type === 'message');
    expect(limited.length).toBeGreaterThan(0);
    expect(stored.length).toBeGreaterThan(0);
    expect(limited.length + stored.length).toBe(50);
    // Still open and answering.
    const history = await socket.call({ type: 'history', room: 'burst', limit: 100 });
    expect(history.type).toBe('history');
    expect(history.messages).toHaveLength(stored.length);
    expect(socket.open).toBe(true);
  });

  it('closes the connection with 1008 under sustained abuse', async () => {
    const server = await serverWith({ RATE_MESSAGES_PER_SECOND: '5' });
    await createRoom(server.url, 'abuse');
    const socket = await joinedSocket(server, 'abuse');
    const other = await joinedSocket(server, 'abuse');
    for (let i = 0; i < 50; i++) socket.send({ type: 'send', room: 'abuse', text: `m${i}`, clientMsgId: `a${i}` });
    for (let i = 0; i < 400 && socket.open; i++) {
      socket.send({ type: 'send', room: 'abuse', text: `m${i}`, clientMsgId: `x${i}` });
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    const closed = await within('the abuser to be disconnected', socket.closed, 10_000);
    expect(closed.code).toBe(1008);
    expect(socket.received.some((m) => m.type === 'error' && m.code === 'rate_limited')).toBe(true);
    // Only the abuser: another connection in the room is untouched.
    expect(other.open).toBe(true);
    expect((await other.call({ type: 'history', room: 'abuse', limit: 1 })).type).toBe('history');
  });

  it('counts the sends of one user across all their connections', async () => {
    const server = await serverWith({ RATE_MESSAGES_PER_SECOND: '5' });
    await createRoom(server.url, 'shared');
    const account = await guest(server.url, 'u');
    const sockets: ChatSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = await ChatSocket.open(server.wsUrl, account);
      cleanup.add(() => socket.connection.terminate());
      await socket.join('shared');
      sockets.push(socket);
    }
    // Each connection alone stays within its own burst (2 × 5 = 10); together they pass the user's.
    for (const [s, socket] of sockets.entries()) {
      for (let i = 0; i < 10; i++) socket.send({ type: 'send', room: 'shared', text: `m${i}`, clientMsgId: `s${s}-${i}`, ref: `s${s}-${i}` });
    }
    const replies = await Promise.all(
      sockets.flatMap((socket, s) => Array.from({ length: 10 }, (_, i) => socket.waitFor(`reply s${s}-${i}`, (m) => m.ref === `s${s}-${i}`))),
    );
    expect(replies.filter((m) => m.type === 'error' && m.code === 'rate_limited').length).toBeGreaterThan(0);
  });

  it('answers rate_limited to joins beyond RATE_JOINS_PER_MINUTE', async () => {
    const server = await serverWith({ RATE_JOINS_PER_MINUTE: '3' });
    for (const room of ['j1', 'j2', 'j3', 'j4']) await createRoom(server.url, room);
    const socket = await ChatSocket.open(server.wsUrl, await guest(server.url, 'j'));
    cleanup.add(() => socket.connection.terminate());
    for (const room of ['j1', 'j2', 'j3']) expect((await socket.call({ type: 'join', room })).type).toBe('joined');
    expect(await socket.call({ type: 'join', room: 'j4' })).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(socket.open).toBe(true);
  });

  it('answers 429 rate_limited to the fourth wrong login from one IP when RATE_LOGINS_PER_MINUTE is 3', async () => {
    const server = await serverWith({ RATE_LOGINS_PER_MINUTE: '3' });
    const statuses: number[] = [];
    let last: unknown;
    // Different usernames: the per-IP limit, not the per-name one.
    for (let i = 0; i < 4; i++) {
      const res = await http(server.url, 'POST', '/api/auth/login', { body: { username: `nobody${i}`, password: 'wrong password' } });
      statuses.push(res.status);
      last = res.body;
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses[3]).toBe(429);
    expect(last).toMatchObject({ error: { code: 'rate_limited' } });
  });
});

describe('requests pipelined behind a join', () => {
  it('answers each of 300 sends pipelined behind a join with its ref, including those refused as too many in flight', async () => {
    const server = await serverWith({ RATE_MESSAGES_PER_SECOND: '100000' });
    await createRoom(server.url, 'pipe');
    const account = await guest(server.url, 'p');
    const peer = await rawUpgrade(server.port, { Authorization: `Bearer ${account.token}` });
    cleanup.add(() => peer.socket.destroy());
    expect(peer.status).toBe(101);
    const COUNT = 300;
    const frames = [rawFrame({ opcode: 0x1, payload: Buffer.from(JSON.stringify({ type: 'join', room: 'pipe', ref: 'join' })) })];
    for (let i = 0; i < COUNT; i++) {
      const send = { type: 'send', room: 'pipe', text: `m${i}`, clientMsgId: `p${i}`, ref: `p${i}` };
      frames.push(rawFrame({ opcode: 0x1, payload: Buffer.from(JSON.stringify(send)) }));
    }
    // One write: the server reads the join and everything behind it in one go.
    peer.socket.write(Buffer.concat(frames));
    const replies = () =>
      parseServerFrames(peer.data)
        .filter((f) => f.opcode === 0x1)
        .map((f) => JSON.parse(f.payload.toString('utf8')) as Msg);
    await until(`${COUNT + 1} replies`, () => replies().filter((m) => m.type !== 'presence').length >= COUNT + 1, 10_000);
    const byRef = new Map(replies().filter((m) => m.ref !== undefined).map((m) => [m.ref, m]));
    const unanswered = Array.from({ length: COUNT }, (_, i) => `p${i}`).filter((ref) => !byRef.has(ref));
    const withoutRef = replies().filter((m) => m.type === 'error' && m.ref === undefined);
    expect(byRef.get('join')?.type).toBe('joined');
    expect(
      { unanswered: unanswered.length, errorsWithoutRef: withoutRef.length },
      `first error without ref: ${JSON.stringify(withoutRef[0])}`,
    ).toEqual({ unanswered: 0, errorsWithoutRef: 0 });
  });
});
