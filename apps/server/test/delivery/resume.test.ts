import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
  type Account,
  type Msg,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

const ROOM = 'resume';
let server: ServerProcess;
let alice: Account;
let bob: Account;

beforeEach(async () => {
  const dir = await tempDir();
  cleanup.add(() => dir.remove());
  server = killAtCleanup(
    cleanup,
    await startServer({ databasePath: path.join(dir.path, 'chat.db'), env: { RATE_MESSAGES_PER_SECOND: '100000', RATE_JOINS_PER_MINUTE: '100000' } }),
  );
  await createRoom(server.url, ROOM);
  alice = await guest(server.url, 'alice');
  bob = await guest(server.url, 'bob');
});

async function open(account: Account): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, account);
  cleanup.add(() => socket.connection.terminate());
  return socket;
}

/** The seqs of a room's messages a connection saw: the joined history, then live messages, in arrival order. */
function seqsSeen(socket: ChatSocket, room: string): number[] {
  const seqs: number[] = [];
  for (const m of socket.received) {
    if (m.type === 'joined' && m.room === room) seqs.push(...(m.history as Msg[]).map((h) => h.seq as number));
    if (m.type === 'message' && m.room === room) seqs.push(m.seq as number);
  }
  return seqs;
}

/** Sends `count` messages from `socket` and waits until all are acked. */
async function sendAll(socket: ChatSocket, prefix: string, count: number, window = 10): Promise<Streamer> {
  const streamer = new Streamer(socket, ROOM, prefix, window, count).start();
  await until(`${count} acks for ${prefix}`, () => streamer.done, 30_000, 5);
  streamer.detach();
  expect(streamer.errors).toEqual([]);
  expect(streamer.acked.size).toBe(count);
  return streamer;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('resuming after a reconnect', () => {
  it('delivers exactly the missed messages after join with since, then live ones, 1..N in order without duplicates', async () => {
    const b = await open(bob);
    await b.join(ROOM);
    let a = await open(alice);
    await a.join(ROOM);
    await sendAll(b, 'before', 10);
    await until('alice to see seq 10', () => seqsSeen(a, ROOM).includes(10));
    const firstSeqs = seqsSeen(a, ROOM);
    const lastSeqA = Math.max(...firstSeqs);
    await a.close();

    await sendAll(b, 'missed', 50);
    // Bob keeps sending while alice rejoins: live messages arrive during her join's history read.
    const live = new Streamer(b, ROOM, 'live', 5, 100).start();
    a = await open(alice);
    const joined = await a.join(ROOM, lastSeqA);
    expect(joined.truncated).toBeUndefined();
    expect((joined.history as Msg[])[0]?.seq).toBe(lastSeqA + 1);
    await until('bob to finish the live burst', () => live.done, 30_000, 5);
    live.detach();
    expect(live.errors).toEqual([]);
    const total = 10 + 50 + 100;
    await until(`alice to see seq ${total}`, () => seqsSeen(a, ROOM).includes(total), 10_000);

    expect([...firstSeqs, ...seqsSeen(a, ROOM)]).toEqual(range(1, total));
    expect(historyProblem(await readAllMessages(server.url, alice.token, ROOM))).toBeUndefined();
  });

  it('answers truncated with the latest 50 when more than MAX_REPLAY_MESSAGES were missed, then continues live without a gap', async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const small = killAtCleanup(
      cleanup,
      await startServer({
        databasePath: path.join(dir.path, 'chat.db'),
        env: { RATE_MESSAGES_PER_SECOND: '100000', MAX_REPLAY_MESSAGES: '10' },
      }),
    );
    await createRoom(small.url, ROOM);
    const b = await ChatSocket.open(small.wsUrl, await guest(small.url, 'bob'));
    cleanup.add(() => b.connection.terminate());
    await b.join(ROOM);
    const sent = new Streamer(b, ROOM, 'm', 10, 80).start();
    await until('80 acks', () => sent.done, 30_000, 5);
    sent.detach();

    const a = await ChatSocket.open(small.wsUrl, await guest(small.url, 'alice'));
    cleanup.add(() => a.connection.terminate());
    const exact = await a.join(ROOM, 70);
    expect(exact.truncated).toBeUndefined();
    expect((exact.history as Msg[]).map((m) => m.seq)).toEqual(range(71, 80));
    const far = await a.join(ROOM, 69);
    expect(far.truncated).toBe(true);
    expect((far.history as Msg[]).map((m) => m.seq)).toEqual(range(31, 80));
    expect(far.lastSeq).toBe(80);
    const next = await b.call({ type: 'send', room: ROOM, text: 'after', clientMsgId: 'after' });
    expect(next.seq).toBe(81);
    expect(await a.waitFor('seq 81', (m) => m.type === 'message')).toMatchObject({ seq: 81 });
  });

  it('answers a re-send of an acked clientMsgId after a reconnect with the original id and seq and stores nothing new', async () => {
    const b = await open(bob);
    await b.join(ROOM);
    let a = await open(alice);
    await a.join(ROOM);
    const original = await a.call({ type: 'send', room: ROOM, text: 'only once', clientMsgId: 'alice-1' });
    expect(original).toMatchObject({ type: 'message', seq: 1, clientMsgId: 'alice-1' });
    await sendAll(b, 'b', 5);
    await a.close();

    a = await open(alice);
    await a.join(ROOM, 6);
    const again = await a.call({ type: 'send', room: ROOM, text: 'only once', clientMsgId: 'alice-1' });
    expect(again).toMatchObject({ type: 'message', id: original.id, seq: original.seq, clientMsgId: 'alice-1', text: 'only once' });
    // Nothing was broadcast for the re-send: bob's next message is the next real one.
    const next = await a.call({ type: 'send', room: ROOM, text: 'next', clientMsgId: 'alice-2' });
    expect(next).toMatchObject({ type: 'message', seq: 7 });
    await b.waitFor('seq 7 at bob', (m) => m.type === 'message' && m.seq === 7);
    expect(b.received.filter((m) => m.type === 'message' && m.clientMsgId === 'alice-1')).toHaveLength(1);

    const stored = await readAllMessages(server.url, alice.token, ROOM);
    expect(historyProblem(stored)).toBeUndefined();
    expect(stored.filter((m) => m.clientMsgId === 'alice-1')).toHaveLength(1);
    expect(stored).toHaveLength(7);
  });

  it('answers a re-send with the same clientMsgId on the same connection with the original message', async () => {
    const a = await open(alice);
    await a.join(ROOM);
    a.send({ type: 'send', room: ROOM, text: 'twice in one turn', clientMsgId: 'dup', ref: 'one' });
    a.send({ type: 'send', room: ROOM, text: 'twice in one turn', clientMsgId: 'dup', ref: 'two' });
    const one = await a.waitFor('reply one', (m) => m.ref === 'one');
    const two = await a.waitFor('reply two', (m) => m.ref === 'two');
    expect(one).toMatchObject({ type: 'message', seq: 1, clientMsgId: 'dup' });
    expect(two).toMatchObject({ type: 'message', id: one.id, seq: 1, clientMsgId: 'dup' });
    expect(await readAllMessages(server.url, alice.token, ROOM)).toHaveLength(1);
  });
});

describe('joining while messages flow', () => {
  it('gives every joiner a contiguous run of seqs (history, then live) up to the last message, with no gap or duplicate', async () => {
    const sender = await open(bob);
    await sender.join(ROOM);
    sender.keep = false;
    const TOTAL = 3000;
    const flood = new Streamer(sender, ROOM, 'flood', 20, TOTAL).start();
    const joiners: ChatSocket[] = [];
    for (let i = 0; i < 8; i++) {
      await until(`${(i + 1) * 300} acks`, () => flood.acked.size >= (i + 1) * 300 || flood.done, 30_000, 2);
      const socket = await open(await guest(server.url, `j${i}`));
      await socket.join(ROOM);
      joiners.push(socket);
    }
    await until('the flood to finish', () => flood.done, 60_000, 10);
    flood.detach();
    expect(flood.errors).toEqual([]);
    for (const socket of joiners) {
      await until(`${socket.name} to see seq ${TOTAL}`, () => seqsSeen(socket, ROOM).includes(TOTAL), 10_000);
      const seqs = seqsSeen(socket, ROOM);
      expect(seqs, `${socket.name} saw a gap or a duplicate`).toEqual(range(seqs[0]!, TOTAL));
    }
  });

  it('gives a client that leaves and rejoins with since, again and again during a flood, every message exactly once', async () => {
    const sender = await open(bob);
    await sender.join(ROOM);
    sender.keep = false;
    const TOTAL = 2000;
    const flood = new Streamer(sender, ROOM, 'flood', 20, TOTAL).start();
    const a = await open(alice);
    await a.join(ROOM);
    // Every message a saw, in arrival order, across its joins.
    for (let cycle = 0; cycle < 200 && !flood.done; cycle++) {
      await until('a few more messages', () => flood.done || seqsSeen(a, ROOM).length > cycle * 5, 10_000, 2);
      expect((await a.call({ type: 'leave', room: ROOM })).type).toBe('left');
      const seen = seqsSeen(a, ROOM);
      await a.join(ROOM, seen.length === 0 ? 0 : seen[seen.length - 1]!);
    }
    await until('the flood to finish', () => flood.done, 60_000, 10);
    flood.detach();
    expect(flood.errors).toEqual([]);
    await until(`alice to see seq ${TOTAL}`, () => seqsSeen(a, ROOM).includes(TOTAL), 10_000);
    expect(seqsSeen(a, ROOM)).toEqual(range(1, TOTAL));
  });
});
