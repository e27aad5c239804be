import type { ClientMessage } from '@chat/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatService, type ChatConnection, type ChatServiceOptions } from '../../src/chat/chat-service.js';
import type { ChatStore } from '../../src/storage/store.js';
import { FakePeer, MemoryBroker, MemoryBus, gatedStore, until } from './fakes.js';

/**
 * The chat service on fake peers and an in-memory broker, over a real SQLite
 * store: the ordering rules that the socket tests can only hit by chance.
 */
const OPTIONS: ChatServiceOptions = {
  maxMessageBytes: 4096,
  maxReplayMessages: 100,
  maxRoomsPerConnection: 10,
  messagesPerSecond: 10_000,
  joinsPerMinute: 10_000,
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** One node on a broker of its own, or `nodes` of them on one bus and one store. */
async function setUp(options: Partial<ChatServiceOptions> = {}, nodes = 1) {
  const gated = await gatedStore();
  cleanup.push(() => gated.close());
  const broker = new MemoryBroker();
  const bus = new MemoryBus();
  const services = Array.from({ length: nodes }, () => new ChatService(gated.store, nodes === 1 ? broker : bus.node(), { ...OPTIONS, ...options }));
  for (const service of services) cleanup.push(() => service.drain());
  await gated.store.createRoom({ id: 'general', title: 'General', topic: '', private: false, createdBy: null });
  const connect = async (username: string, node = 0): Promise<{ peer: FakePeer; conn: ChatConnection; say(msg: ClientMessage): void }> => {
    const user = (await gated.store.findUserByName(username)) ?? (await gated.store.createUser(username, null, true));
    const peer = new FakePeer({ id: user.id, username: user.username });
    const conn = services[node]!.connect(peer);
    cleanup.push(() => conn.disconnect());
    return { peer, conn, say: (msg) => conn.receive(JSON.stringify(msg)) };
  };
  return { ...gated, broker, services, connect };
}

async function joined(client: { peer: FakePeer; say(msg: ClientMessage): void }, room = 'general', since?: number) {
  const before = client.peer.of('joined').length;
  client.say({ type: 'join', room, ...(since === undefined ? {} : { since }) });
  await until(() => client.peer.of('joined').length > before, 'joined');
  return client.peer.of('joined').at(-1)!;
}

const append = (store: ChatStore, authorId: number, texts: string[]) =>
  store.appendMessages(texts.map((text, i) => ({ roomId: 'general', authorId, text, clientMsgId: `direct-${text}-${i}`, ts: Date.now() })));

describe('the chat service, on fake peers', () => {
  it('fills a gap from the store: a message another node stored but this one never heard of arrives before the next', async () => {
    const { store, broker, connect } = await setUp();
    const alice = await connect('alice');
    await joined(alice);
    const [first, second] = await append(store, alice.peer.user.id, ['one', 'two']);
    if (first?.status !== 'stored' || second?.status !== 'stored') throw new Error('not stored');
    // Only the second is published (the node that stored the first died before publishing).
    broker.deliver({ kind: 'message', room: 'general', message: second.message });
    await until(() => alice.peer.seqs('general').length === 2, 'both messages');
    expect(alice.peer.seqs('general')).toEqual([1, 2]);
    expect(alice.peer.of('message').map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('a gap that cannot be filled (the store fails) ends the connection as delivery_failed, so the client resumes', async () => {
    const { store, broker, connect, fail } = await setUp();
    const alice = await connect('alice');
    await joined(alice);
    const results = await append(store, alice.peer.user.id, ['one', 'two']);
    const second = results[1];
    if (second?.status !== 'stored') throw new Error('not stored');
    fail('messagesAfter', new Error('disk on fire'));
    broker.deliver({ kind: 'message', room: 'general', message: second.message });
    await until(() => alice.peer.ended.length > 0, 'the connection to end');
    expect(alice.peer.ended).toEqual(['delivery_failed']);
    expect(alice.peer.seqs('general')).toEqual([]);
  });

  it('a rejoin while its history read is in flight delivers what was sent meanwhile exactly once', async () => {
    const { hold, connect } = await setUp();
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joined(alice);
    await joined(bob);
    bob.say({ type: 'send', room: 'general', text: 'before', clientMsgId: 'b1' });
    await until(() => alice.peer.seqs('general').length === 1, 'the first message');

    const gate = hold('messagesBefore');
    alice.say({ type: 'join', room: 'general' });
    await gate.reached;
    bob.say({ type: 'send', room: 'general', text: 'during', clientMsgId: 'b2' });
    await until(() => bob.peer.seqs('general').length === 2, 'bob to have his ack');
    gate.release();
    await until(() => alice.peer.of('joined').length === 2, 'the second joined');
    bob.say({ type: 'send', room: 'general', text: 'after', clientMsgId: 'b3' });
    await until(() => alice.peer.seqs('general').includes(3), 'the message after');

    const rejoined = alice.peer.of('joined')[1]!;
    const seen = [...rejoined.history.map((m) => m.seq), ...alice.peer.seqs('general').filter((seq) => seq > 1)];
    // "during" (seq 2) is in the history the rejoin read or delivered live, never both; "after" follows.
    expect(seen.filter((seq) => seq === 2)).toHaveLength(1);
    expect(alice.peer.seqs('general')).toEqual([...new Set(alice.peer.seqs('general'))]);
    expect(alice.peer.seqs('general').at(-1)).toBe(3);
  });

  it('a resync (the bus came back) whose store read crosses the reader\'s own send answers it once, as its ack', async () => {
    // Case 1: the ack comes while the store is read.
    const { store, hold, services, connect } = await setUp();
    const alice = await connect('alice');
    await joined(alice);
    const gate = hold('messagesAfter');
    services[0]!.resync();
    await gate.reached;
    alice.say({ type: 'send', room: 'general', text: 'during the read', clientMsgId: 'a1', ref: 'r1' });
    // Stored, and its live copy waiting behind the read (the cursor is replaying).
    let stored = 0;
    await until(() => {
      void Promise.resolve(store.messagesBefore('general', undefined, 10)).then((ms) => (stored = ms.length));
      return stored === 1;
    }, 'the send to be stored');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(alice.peer.of('message')).toEqual([]);
    gate.release();
    await until(() => alice.peer.seqs('general').length > 0, 'the ack');
    // Case 2: the store is read after the commit, before the live copy is delivered.
    const append = store.appendMessages.bind(store);
    store.appendMessages = async (batch) => {
      const results = await append(batch);
      const before = alice.peer.received.length;
      services[0]!.resync();
      await until(() => alice.peer.received.length > before, 'the store read to deliver');
      return results;
    };
    alice.say({ type: 'send', room: 'general', text: 'before its delivery', clientMsgId: 'a2', ref: 'r2' });
    await until(() => alice.peer.seqs('general').length > 1, 'the second ack');
    alice.say({ type: 'send', room: 'general', text: 'after', clientMsgId: 'a3', ref: 'r3' });
    await until(() => alice.peer.seqs('general').length > 2, 'the third ack');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alice.peer.of('message').map((m) => [m.seq, m.ref])).toEqual([
      [1, 'r1'],
      [2, 'r2'],
      [3, 'r3'],
    ]);
  });

  it('a member removed while its join reads history is not answered joined; joining again works', async () => {
    const { hold, broker, connect } = await setUp();
    const alice = await connect('alice');
    const gate = hold('messagesBefore');
    alice.say({ type: 'join', room: 'general' });
    await gate.reached;
    broker.deliver({ kind: 'member_removed', room: 'general', userId: alice.peer.user.id, reason: 'kicked' });
    gate.release();
    await until(() => alice.peer.of('room').length === 1, 'the kick');
    // The join answers for itself only if its cursor is still the room's.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alice.peer.of('joined')).toHaveLength(0);
    expect(broker.subscribed.has('general')).toBe(false);
    await joined(alice);
    expect(broker.subscribed.has('general')).toBe(true);
  });

  it('a re-sent clientMsgId is stored once, every send is acked with its own ref, and others see it once', async () => {
    const { connect, store } = await setUp();
    const alice = await connect('alice');
    const bob = await connect('bob');
    await joined(alice);
    await joined(bob);
    alice.say({ type: 'send', room: 'general', text: 'hi', clientMsgId: 'same', ref: 1 });
    alice.say({ type: 'send', room: 'general', text: 'hi', clientMsgId: 'same', ref: 2 });
    await until(() => alice.peer.of('message').length === 2, 'two acks');
    expect(alice.peer.of('message').map((m) => [m.seq, m.ref])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(bob.peer.seqs('general')).toEqual([1]);
    expect(await store.messagesAfter('general', 0, 10)).toHaveLength(1);
  });

  it('keeps one order for everyone while three clients on two nodes send at once', async () => {
    const { connect } = await setUp({}, 2);
    const clients = await Promise.all(['alice', 'bob', 'carol'].map((name, i) => connect(name, i % 2)));
    for (const client of clients) await joined(client);
    const perClient = 30;
    for (let i = 0; i < perClient; i++) {
      clients.forEach((client, k) => {
        client.say({ type: 'send', room: 'general', text: `${k}:${i}`, clientMsgId: `${k}-${i}`, ref: i });
      });
    }
    const total = perClient * clients.length;
    const firstArrivals = (peer: FakePeer) => [...new Set(peer.seqs('general'))];
    await until(() => clients.every((c) => firstArrivals(c.peer).length >= total), 'every message everywhere', 10_000);
    await until(() => clients.every((c) => c.peer.of('message').filter((m) => m.ref !== undefined).length === perClient), 'every ack');
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const [k, client] of clients.entries()) {
      expect(firstArrivals(client.peer)).toEqual(expected);
      // A message arrives once; only its sender may get it a second time: the
      // ack with its ref, owed even when a gap fill delivered it first.
      const messages = client.peer.of('message');
      const again = messages.filter((m, i) => messages.findIndex((n) => n.seq === m.seq) !== i);
      for (const m of again) expect([m.text.startsWith(`${k}:`), m.ref !== undefined]).toEqual([true, true]);
      // Each sender's own copies carry its refs, in the order it sent them.
      expect(messages.filter((m) => m.ref !== undefined).map((m) => m.ref)).toEqual(Array.from({ length: perClient }, (_, i) => i));
    }
  });

  it('answers what waits past the inbox limit at once with rate_limited and its ref, and handles the rest in order', async () => {
    const { hold, connect } = await setUp({ maxInbox: 4 });
    const alice = await connect('alice');
    const gate = hold('messagesBefore');
    alice.say({ type: 'join', room: 'general', ref: 'j' });
    await gate.reached;
    for (let i = 0; i < 6; i++) alice.say({ type: 'read', room: 'general', seq: 0, ref: i });
    const refused = alice.peer.of('error');
    expect(refused.map((e) => [e.code, e.ref, e.room])).toEqual([
      ['rate_limited', 4, 'general'],
      ['rate_limited', 5, 'general'],
    ]);
    gate.release();
    await until(() => alice.peer.of('read').length === 4, 'the four that waited');
    expect(alice.peer.received.filter((m) => m.type !== 'presence').map((m) => [m.type, m.ref])).toEqual([
      ['error', 4],
      ['error', 5],
      ['joined', 'j'],
      ['read', 0],
      ['read', 1],
      ['read', 2],
      ['read', 3],
    ]);
  });

  it('announces a user online once for two connections, and offline when the last one leaves', async () => {
    const { connect } = await setUp();
    const watcher = await connect('watcher');
    await joined(watcher);
    const tab1 = await connect('alice');
    const tab2 = await connect('alice');
    await joined(tab1);
    await joined(tab2);
    const presence = () => watcher.peer.of('presence').map((p) => [p.user, p.state]);
    expect(presence()).toEqual([['alice', 'online']]);
    tab1.say({ type: 'leave', room: 'general' });
    await until(() => tab1.peer.of('left').length === 1, 'left');
    expect(presence()).toEqual([['alice', 'online']]);
    tab2.conn.disconnect();
    await until(() => presence().length === 2, 'offline');
    expect(presence()).toEqual([
      ['alice', 'online'],
      ['alice', 'offline'],
    ]);
  });

  it('tells a connection that joined with presence "batched" of arrivals and departures in presence_batch, and one that did not in presence, as today', async () => {
    const { connect } = await setUp();
    const batched = await connect('batched');
    const today = await connect('today');
    batched.say({ type: 'join', room: 'general', presence: 'batched' });
    await until(() => batched.peer.of('joined').length === 1, 'joined');
    await joined(today);
    const users = await Promise.all(['alice', 'bob', 'carol'].map((name) => connect(name)));
    for (const user of users) user.say({ type: 'join', room: 'general' });
    const online = () => batched.peer.of('presence_batch').flatMap((b) => b.online);
    await until(() => online().length === 4, 'batched arrivals');
    expect(online().sort()).toEqual(['alice', 'bob', 'carol', 'today']);
    expect(batched.peer.of('presence')).toEqual([]);
    await until(() => today.peer.of('presence').length === 3, 'arrivals one by one');
    expect(today.peer.of('presence').map((p) => [p.user, p.state]).sort()).toEqual([
      ['alice', 'online'],
      ['bob', 'online'],
      ['carol', 'online'],
    ]);
    expect(today.peer.of('presence_batch')).toEqual([]);

    users[0]!.conn.disconnect();
    await until(() => batched.peer.of('presence_batch').some((b) => b.offline.includes('alice')), 'batched departure');
    expect(batched.peer.of('presence_batch').flatMap((b) => b.offline)).toEqual(['alice']);
  });
});

describe('notices to a user', () => {
  it('reach every connection of that user on this node, and none that is gone, even one the inbox ended for abuse', async () => {
    const { store } = await gatedStore().then((g) => {
      cleanup.push(() => g.close());
      return g;
    });
    const service = new ChatService(store, new MemoryBroker(), { ...OPTIONS, joinsPerMinute: 1 });
    cleanup.push(() => service.drain());
    const alice = await store.createUser('alice', null, true);
    const bob = await store.createUser('bob', null, true);
    const [tab1, tab2, abusive, other] = [alice, alice, alice, bob].map((u) => new FakePeer({ id: u.id, username: u.username }));
    const conns = [tab1, tab2, abusive, other].map((p) => service.connect(p!));
    // The third tab floods joins past the limit until the inbox ends it; the transport then disconnects it.
    for (let i = 0; i < 80; i++) conns[2]!.receive(JSON.stringify({ type: 'join', room: 'nowhere' }));
    await until(() => abusive!.ended.includes('abusive'), 'the abusive tab to be ended');
    conns[2]!.disconnect();
    conns[1]!.disconnect();
    const before = abusive!.received.length;
    service.deliverNotice({ kind: 'user_notice', users: [alice.id], message: { type: 'invitation_removed', id: 7, reason: 'revoked' } });
    expect(tab1!.of('invitation_removed')).toEqual([{ type: 'invitation_removed', id: 7, reason: 'revoked' }]);
    expect(tab2!.of('invitation_removed')).toEqual([]);
    expect(abusive!.received.length).toBe(before);
    expect(other!.of('invitation_removed')).toEqual([]);
    conns[0]!.disconnect();
    conns[3]!.disconnect();
  });
});
