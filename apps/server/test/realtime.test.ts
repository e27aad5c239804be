import { HandshakeError } from '@chat/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { openClient, openConnection, type ChatClient } from './helpers/chat-client.js';
import { createRoom, PASSWORD, request, signUp, type SignedIn } from './helpers/http.js';

let server: TestServer;
beforeEach(async () => {
  server = await build();
});
afterEach(async () => {
  await server.close();
});

/** Resolves with the refused handshake's HTTP status (fails the test if the upgrade succeeds). */
async function refusedStatus(attempt: Promise<{ close(code?: number): void }>): Promise<number> {
  try {
    const connection = await attempt;
    connection.close(1000);
  } catch (err) {
    expect(err).toBeInstanceOf(HandshakeError);
    return (err as HandshakeError).status;
  }
  throw new Error('the upgrade was accepted');
}

describe('the upgrade to a WebSocket', () => {
  it('is refused with 401 before upgrading when there is no session', async () => {
    expect(await refusedStatus(openConnection(server))).toBe(401);
  });

  it('is refused with 401 for a token the server never issued', async () => {
    expect(await refusedStatus(openConnection(server, { token: 'made-up-token' }))).toBe(401);
    expect(await refusedStatus(openConnection(server, { cookie: 'session=made-up-token' }))).toBe(401);
  });

  it('is refused with 401 for a session that was logged out', async () => {
    const alice = await signUp(server, 'alice');
    await request(server, 'POST', '/api/auth/logout', { token: alice.token });
    expect(await refusedStatus(openConnection(server, { token: alice.token }))).toBe(401);
  });

  it('closes (4001) the connections of a session when it signs out, and only those', async () => {
    const alice = await signUp(server, 'alice');
    // A second session of the same user (another device) and another user's session.
    const login = await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: PASSWORD } });
    expect(login.status).toBe(200);
    const bob = await signUp(server, 'bob');
    const tab1 = await openClient(server, { token: alice.token });
    const tab2 = await openClient(server, { cookie: `session=${alice.token}` });
    const otherDevice = await openClient(server, { token: login.body.token as string });
    const bobs = await openClient(server, { token: bob.token });

    expect((await request(server, 'POST', '/api/auth/logout', { token: alice.token })).status).toBe(204);
    expect(await tab1.closed).toEqual({ code: 4001, reason: 'signed out' });
    expect(await tab2.closed).toEqual({ code: 4001, reason: 'signed out' });
    // The other session and the other user keep working.
    await createRoom(server, 'general');
    expect((await otherDevice.call({ type: 'join', room: 'general' })).type).toBe('joined');
    expect((await bobs.call({ type: 'join', room: 'general' })).type).toBe('joined');
  });

  it('accepts the session cookie as well as a Bearer token', async () => {
    const alice = await signUp(server, 'alice');
    const client = await openClient(server, { cookie: `session=${alice.token}` });
    expect(client.connection.protocol).toBe('chat.v1');
  });

  it('selects the chat.v1 subprotocol', async () => {
    const alice = await signUp(server, 'alice');
    const client = await openClient(server, { token: alice.token, protocols: ['other.v9', 'chat.v1'] });
    expect(client.connection.protocol).toBe('chat.v1');
  });

  it('is refused with 403 for an Origin other than the server’s own', async () => {
    const alice = await signUp(server, 'alice');
    expect(await refusedStatus(openConnection(server, { token: alice.token, origin: 'http://evil.example' }))).toBe(403);
    expect(await refusedStatus(openConnection(server, { token: alice.token, origin: `http://localhost:${server.port + 1}` }))).toBe(
      403,
    );
  });

  it('accepts the server’s own origin, http://<Host header>', async () => {
    const alice = await signUp(server, 'alice');
    const client = await openClient(server, { token: alice.token, origin: `http://127.0.0.1:${server.port}` });
    await createRoom(server, 'general');
    await client.join('general');
  });

  it('follows ALLOWED_ORIGINS when it is set', async () => {
    const configured = await build({ ALLOWED_ORIGINS: 'https://chat.example, https://admin.example' });
    try {
      const alice = await signUp(configured, 'alice');
      const client = await openClient(configured, { token: alice.token, origin: 'https://admin.example' });
      expect(client.connection.protocol).toBe('chat.v1');
      const own = `http://127.0.0.1:${configured.port}`;
      expect(await refusedStatus(openConnection(configured, { token: alice.token, origin: own }))).toBe(403);
      expect(await refusedStatus(openConnection(configured, { token: alice.token, origin: 'https://evil.example' }))).toBe(403);
    } finally {
      await configured.close();
    }
  });

  it('is refused with 404 on a path other than /ws', async () => {
    const alice = await signUp(server, 'alice');
    const elsewhere = { ...server, wsUrl: server.wsUrl.replace(/\/ws$/, '/chat') };
    expect(await refusedStatus(openConnection(elsewhere, { token: alice.token }))).toBe(404);
  });

  it('checks the Origin before the session: a foreign page learns nothing about the session', async () => {
    expect(await refusedStatus(openConnection(server, { origin: 'http://evil.example' }))).toBe(403);
  });
});

describe('rooms over the WebSocket', () => {
  let alice: ChatClient;
  let bob: ChatClient;
  let carol: ChatClient;
  let users: Record<string, SignedIn>;
  beforeEach(async () => {
    await createRoom(server, 'general', { topic: 'anything goes' });
    users = {};
    for (const name of ['alice', 'bob', 'carol']) users[name] = await signUp(server, name);
    alice = await openClient(server, { token: users.alice!.token, name: 'alice' });
    bob = await openClient(server, { token: users.bob!.token, name: 'bob' });
    carol = await openClient(server, { token: users.carol!.token, name: 'carol' });
  });

  it('join answers `joined` with the room, its members and history, echoing ref', async () => {
    await alice.join('general');
    alice.send({ type: 'join', room: 'general', ref: 42 });
    const joined = await bob.call({ type: 'join', room: 'general' });
    expect(joined).toEqual({
      type: 'joined',
      room: 'general',
      title: 'Room general',
      topic: 'anything goes',
      members: [
        { username: 'alice', online: true, role: 'member' },
        { username: 'bob', online: true, role: 'member' },
      ],
      history: [],
      lastSeq: 0,
      ref: expect.stringMatching(/^bob-/),
    });
    expect(await alice.next('joined', (j) => j.ref === 42)).toMatchObject({ room: 'general' });
  });

  it('delivers every message to every member, the sender included, in seq order with no gaps', async () => {
    for (const c of [alice, bob, carol]) await c.join('general');
    const senders = [alice, bob, carol, alice, bob, carol];
    const acks = [];
    for (const [i, sender] of senders.entries()) acks.push(await sender.say('general', `line ${i + 1}`));

    expect(acks.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const [i, ack] of acks.entries()) {
      expect(ack).toEqual({
        type: 'message',
        room: 'general',
        id: expect.any(Number),
        seq: i + 1,
        author: senders[i]!.name,
        text: `line ${i + 1}`,
        ts: expect.any(Number),
        clientMsgId: expect.any(String),
        ref: expect.any(String),
      });
    }
    for (const client of [alice, bob, carol]) {
      await client.seen('message', (m) => m.seq === 6);
      const received = client.all('message');
      expect(received.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      // Each client's copy is the stored message; only the sender's own carries its ref.
      for (const [i, m] of received.entries()) {
        const { ref, ...stored } = m;
        const { ref: _ackRef, ...expected } = acks[i]!;
        expect(stored).toEqual(expected);
        expect(ref !== undefined).toBe(senders[i] === client);
      }
    }
  });

  it('numbers each room on its own, from 1', async () => {
    await createRoom(server, 'random');
    await alice.join('general');
    await alice.join('random');
    await alice.say('general', 'one');
    await alice.say('general', 'two');
    expect((await alice.say('random', 'first')).seq).toBe(1);
    expect((await alice.say('general', 'three')).seq).toBe(3);
  });

  it('echoes a numeric ref as a number and a string ref as a string', async () => {
    await alice.join('general');
    alice.send({ type: 'send', room: 'general', text: 'n', clientMsgId: 'n-ref', ref: 7 });
    alice.send({ type: 'send', room: 'general', text: 's', clientMsgId: 's-ref', ref: '7' });
    expect(await alice.next('message', (m) => m.ref === 7)).toMatchObject({ text: 'n' });
    expect(await alice.next('message', (m) => m.ref === '7')).toMatchObject({ text: 's' });
  });

  it('stores a message sent twice with the same clientMsgId once, and answers both with its id and seq', async () => {
    for (const c of [alice, bob]) await c.join('general');
    const first = await alice.say('general', 'hello', 'same-id');
    const again = await alice.say('general', 'hello', 'same-id');
    expect({ id: again.id, seq: again.seq }).toEqual({ id: first.id, seq: first.seq });

    // Sent back to back, before the first is stored.
    alice.send({ type: 'send', room: 'general', text: 'twice', clientMsgId: 'burst-id', ref: 'a' });
    alice.send({ type: 'send', room: 'general', text: 'twice', clientMsgId: 'burst-id', ref: 'b' });
    const a = await alice.next('message', (m) => m.ref === 'a');
    const b = await alice.next('message', (m) => m.ref === 'b');
    expect({ id: b.id, seq: b.seq }).toEqual({ id: a.id, seq: a.seq });
    expect(a.seq).toBe(2);

    const marker = await alice.say('general', 'marker');
    expect(marker.seq).toBe(3);
    await bob.next('message', (m) => m.id === marker.id);
    expect(bob.all('message').map((m) => m.text)).toEqual(['hello', 'twice', 'marker']);
    const history = await request(server, 'GET', '/api/rooms/general/messages', { token: users.alice!.token });
    expect(history.body.messages.map((m: { seq: number }) => m.seq)).toEqual([3, 2, 1]);
  });

  it('never acknowledges a send to one room with a message of another room', async () => {
    await createRoom(server, 'random');
    await alice.join('general');
    await alice.join('random');
    await alice.say('general', 'in general', 'msg-1');
    const reply = await alice.call({ type: 'send', room: 'random', text: 'in random', clientMsgId: 'msg-1' });
    // Either stored in `random` or refused — an ack for `general` tells the client a message
    // nobody will ever see in `random` was delivered there.
    if (reply.type === 'message') expect(reply.room).toBe('random');
    else expect(reply.type).toBe('error');
  });

  it('answers history requests newest first, `before` exclusive, at most `limit`', async () => {
    await alice.join('general');
    for (let i = 1; i <= 7; i++) await alice.say('general', `m${i}`);
    const seqs = (reply: { type: string; messages?: Array<{ seq: number }> }) => reply.messages?.map((m) => m.seq);

    const newest = await bob.call({ type: 'history', room: 'general', limit: 3 });
    expect(newest).toMatchObject({ type: 'history', room: 'general', ref: expect.any(String) });
    expect(seqs(newest as never)).toEqual([7, 6, 5]);
    expect(seqs((await bob.call({ type: 'history', room: 'general', before: 5, limit: 3 })) as never)).toEqual([4, 3, 2]);
    expect(seqs((await bob.call({ type: 'history', room: 'general', before: 2, limit: 3 })) as never)).toEqual([1]);
    expect(seqs((await bob.call({ type: 'history', room: 'general', before: 1 })) as never)).toEqual([]);
    expect(seqs((await bob.call({ type: 'history', room: 'general' })) as never)).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('tells the others when a member comes online and goes offline, but not the member', async () => {
    await alice.join('general');
    await bob.join('general');
    expect(await alice.next('presence')).toEqual({ type: 'presence', room: 'general', user: 'bob', state: 'online' });
    await carol.join('general');
    expect(await alice.next('presence')).toMatchObject({ user: 'carol', state: 'online' });
    expect(await bob.next('presence')).toMatchObject({ user: 'carol', state: 'online' });

    await bob.close();
    expect(await alice.next('presence')).toEqual({ type: 'presence', room: 'general', user: 'bob', state: 'offline' });
    expect(await carol.next('presence')).toEqual({ type: 'presence', room: 'general', user: 'bob', state: 'offline' });
    expect(carol.all('presence', (p) => p.user === 'carol')).toEqual([]);
    expect(alice.all('presence', (p) => p.user === 'alice')).toEqual([]);
  });

  it('tells a connection that joined with presence "batched" in presence_batch, never of itself, while the others still get presence', async () => {
    await alice.join('general', { presence: 'batched' });
    await bob.join('general');
    await carol.join('general', { presence: 'batched' });
    expect(await alice.next('presence_batch', (b) => b.online.includes('carol'))).toMatchObject({ room: 'general', offline: [] });
    expect(alice.all('presence_batch').flatMap((b) => b.online)).toEqual(['bob', 'carol']);
    expect(await bob.next('presence')).toEqual({ type: 'presence', room: 'general', user: 'carol', state: 'online' });

    await bob.close();
    expect(await alice.next('presence_batch', (b) => b.offline.length > 0)).toEqual({ type: 'presence_batch', room: 'general', online: [], offline: ['bob'] });
    expect(await carol.next('presence_batch', (b) => b.offline.length > 0)).toEqual({ type: 'presence_batch', room: 'general', online: [], offline: ['bob'] });
    expect(alice.all('presence')).toEqual([]);
    expect(carol.all('presence_batch', (b) => b.online.includes('carol'))).toEqual([]);
    expect(alice.all('presence_batch', (b) => b.online.includes('alice') || b.offline.includes('alice'))).toEqual([]);
  });

  it('keeps a user online while another of their connections is still in the room', async () => {
    await alice.join('general');
    await bob.join('general');
    const bobAgain = await openClient(server, { token: users.bob!.token, name: 'bob2' });
    await bobAgain.join('general');
    await bob.close();
    // carol joining afterwards is the marker: whatever bob's close caused reached alice before it.
    await carol.join('general');
    await alice.next('presence', (p) => p.user === 'carol');
    expect(alice.all('presence', (p) => p.user === 'bob')).toEqual([
      { type: 'presence', room: 'general', user: 'bob', state: 'online' },
    ]);
    await bobAgain.close();
    await alice.next('presence', (p) => p.user === 'bob' && p.state === 'offline');
  });

  it('leave answers `left` and the others see the member go offline', async () => {
    await alice.join('general');
    await bob.join('general');
    expect(await bob.call({ type: 'leave', room: 'general' })).toMatchObject({ type: 'left', room: 'general' });
    expect(await alice.next('presence', (p) => p.state === 'offline')).toMatchObject({ user: 'bob' });
    const after = await alice.say('general', 'bob is gone');
    expect(after.seq).toBe(1);
    expect(bob.all('message')).toEqual([]);
  });

  it('sends typing to the others only, coalescing a burst into one notice', async () => {
    for (const c of [alice, bob, carol]) await c.join('general');
    for (let i = 0; i < 5; i++) bob.send({ type: 'typing', room: 'general' });
    const marker = await bob.say('general', 'done typing');
    // Typing is handled in order before the message, so every notice is in before it.
    await alice.next('message', (m) => m.id === marker.id);
    await carol.next('message', (m) => m.id === marker.id);
    expect(alice.all('typing')).toEqual([{ type: 'typing', room: 'general', user: 'bob' }]);
    expect(carol.all('typing')).toEqual([{ type: 'typing', room: 'general', user: 'bob' }]);
    expect(bob.all('typing')).toEqual([]);
  });

  it('edits an own message: every member receives message_updated with the new text', async () => {
    for (const c of [alice, bob]) await c.join('general');
    const sent = await alice.say('general', 'helo');
    const reply = await alice.call({ type: 'edit', room: 'general', id: sent.id, text: 'hello' });
    const { ref: _ref, ...stored } = sent;
    expect(reply).toEqual({ ...stored, type: 'message_updated', text: 'hello', editedAt: expect.any(Number), ref: expect.any(String) });
    const seen = await bob.next('message_updated');
    expect(seen).toEqual({ ...stored, type: 'message_updated', text: 'hello', editedAt: expect.any(Number) });
    const history = await request(server, 'GET', '/api/rooms/general/messages', { token: users.bob!.token });
    expect(history.body.messages[0]).toMatchObject({ id: sent.id, seq: sent.seq, text: 'hello', editedAt: expect.any(Number) });
  });

  it('deletes an own message: message_updated keeps the seq, with empty text and deleted true', async () => {
    for (const c of [alice, bob]) await c.join('general');
    const sent = await alice.say('general', 'regrettable');
    const reply = await alice.call({ type: 'delete', room: 'general', id: sent.id });
    const { ref: _ref, ...stored } = sent;
    expect(reply).toEqual({ ...stored, type: 'message_updated', text: '', deleted: true, ref: expect.any(String) });
    expect(await bob.next('message_updated')).toEqual({ ...stored, type: 'message_updated', text: '', deleted: true });
    expect((await alice.say('general', 'next')).seq).toBe(sent.seq + 1);
    const again = await alice.call({ type: 'delete', room: 'general', id: sent.id });
    expect(again).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('refuses to edit or delete someone else’s message with forbidden, leaving it unchanged', async () => {
    for (const c of [alice, bob]) await c.join('general');
    const sent = await alice.say('general', 'mine');
    expect(await bob.call({ type: 'edit', room: 'general', id: sent.id, text: 'yours now' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
    });
    expect(await bob.call({ type: 'delete', room: 'general', id: sent.id })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(alice.all('message_updated')).toEqual([]);
    const history = await request(server, 'GET', '/api/rooms/general/messages', { token: users.bob!.token });
    expect(history.body.messages[0]).toMatchObject({ id: sent.id, text: 'mine' });
    expect(history.body.messages[0]).not.toHaveProperty('deleted');
  });

  it('answers not_found for editing a message that does not exist', async () => {
    await alice.join('general');
    expect(await alice.call({ type: 'edit', room: 'general', id: 999, text: 'x' })).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('read stores the cursor and answers it', async () => {
    await alice.join('general');
    await bob.join('general');
    for (let i = 1; i <= 3; i++) await alice.say('general', `m${i}`);
    expect(await bob.call({ type: 'read', room: 'general', seq: 2 })).toEqual({
      type: 'read',
      room: 'general',
      seq: 2,
      ref: expect.any(String),
    });
    const rooms = await request(server, 'GET', '/api/rooms', { token: users.bob!.token });
    expect(rooms.body.rooms[0]).toMatchObject({ id: 'general', unread: 1 });
  });
});

describe('resuming after a reconnect', () => {
  let alice: SignedIn;
  let bob: SignedIn;
  beforeEach(async () => {
    await createRoom(server, 'general');
    alice = await signUp(server, 'alice');
    bob = await signUp(server, 'bob');
  });

  it('join with `since: N` returns exactly the messages after N, in order', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    for (let i = 1; i <= 5; i++) await a.say('general', `m${i}`);
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    const joined = await b.join('general', { since: 2 });
    expect(joined.history.map((m) => [m.seq, m.text])).toEqual([
      [3, 'm3'],
      [4, 'm4'],
      [5, 'm5'],
    ]);
    expect(joined.lastSeq).toBe(5);
    const live = await a.say('general', 'm6');
    expect(await b.next('message')).toMatchObject({ id: live.id, seq: 6 });
  });

  it('join without `since` returns the latest history oldest first', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    for (let i = 1; i <= 3; i++) await a.say('general', `m${i}`);
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    const joined = await b.join('general');
    expect(joined.history.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(joined.lastSeq).toBe(3);
  });

  it('a client that reconnects with its last seq misses nothing and sees nothing twice', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    const b1 = await openClient(server, { token: bob.token, name: 'bob' });
    await b1.join('general');
    for (let i = 1; i <= 3; i++) await a.say('general', `m${i}`);
    await b1.next('message', (m) => m.seq === 3);
    const lastSeen = Math.max(...b1.all('message').map((m) => m.seq));
    await b1.close();
    await a.next('presence', (p) => p.user === 'bob' && p.state === 'offline');

    await a.say('general', 'm4');
    await a.say('general', 'm5');
    const b2 = await openClient(server, { token: bob.token, name: 'bob' });
    const joined = await b2.join('general', { since: lastSeen });
    expect(joined.history.map((m) => m.text)).toEqual(['m4', 'm5']);
    expect(joined.lastSeq).toBe(5);
  });

  it('marks the join truncated when `since` is further back than MAX_REPLAY_MESSAGES', async () => {
    const short = await build({ MAX_REPLAY_MESSAGES: '3' });
    try {
      await createRoom(short, 'general');
      const a = await openClient(short, { token: (await signUp(short, 'alice')).token, name: 'alice' });
      await a.join('general');
      for (let i = 1; i <= 6; i++) await a.say('general', `m${i}`);
      const b = await openClient(short, { token: (await signUp(short, 'bob')).token, name: 'bob' });
      const joined = await b.join('general', { since: 1 });
      expect(joined.truncated).toBe(true);
      expect(joined.lastSeq).toBe(6);
      expect(joined.history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      const exact = await b.join('general', { since: 3 });
      expect(exact.truncated).toBeUndefined();
      expect(exact.history.map((m) => m.seq)).toEqual([4, 5, 6]);
    } finally {
      await short.close();
    }
  });

  it('join with `since` at the room’s end returns no history', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    await a.say('general', 'only');
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    const joined = await b.join('general', { since: 1 });
    expect(joined.history).toEqual([]);
    expect(joined.lastSeq).toBe(1);
  });
});

describe('bad messages', () => {
  let alice: ChatClient;
  let bob: ChatClient;
  beforeEach(async () => {
    await createRoom(server, 'general');
    alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    bob = await openClient(server, { token: (await signUp(server, 'bob')).token, name: 'bob' });
    await alice.join('general');
  });

  /** The connection is still open and a normal send round-trips. */
  async function stillWorks(client: ChatClient): Promise<void> {
    expect(client.connection.readyState).toBe(1);
    if (!client.all('joined', (j) => j.room === 'general').length) await client.join('general');
    const ack = await client.say('general', 'still here');
    expect(ack.text).toBe('still here');
  }

  it('answers text that is not JSON with bad_json and keeps the connection', async () => {
    alice.sendRaw('{"type": "send", ');
    expect(await alice.next('error')).toEqual({ type: 'error', code: 'bad_json', message: expect.any(String) });
    await stillWorks(alice);
  });

  it.each([
    ['an unknown type', { type: 'shout', room: 'general' }],
    ['a send without text', { type: 'send', room: 'general', clientMsgId: 'x' }],
    ['a send with empty text', { type: 'send', room: 'general', text: '', clientMsgId: 'x' }],
    ['a send without clientMsgId', { type: 'send', room: 'general', text: 'hi' }],
    ['a malformed room id', { type: 'join', room: 'General!' }],
    ['a history limit over 100', { type: 'history', room: 'general', limit: 101 }],
    ['a negative since', { type: 'join', room: 'general', since: -1 }],
  ])('answers %s with invalid_message, echoing ref, and keeps the connection', async (_what, message) => {
    expect(await alice.call(message)).toEqual({
      type: 'error',
      code: 'invalid_message',
      message: expect.any(String),
      ref: expect.any(String),
    });
    await stillWorks(alice);
  });

  it.each([
    ['an array', '[1, 2, 3]'],
    ['null', 'null'],
    ['a number', '42'],
  ])('answers JSON that is %s with invalid_message', async (_what, text) => {
    alice.sendRaw(text);
    expect(await alice.next('error')).toMatchObject({ code: 'invalid_message' });
    await stillWorks(alice);
  });

  it('answers a binary frame with invalid_message', async () => {
    alice.sendRaw(Buffer.from(JSON.stringify({ type: 'join', room: 'general' })));
    expect(await alice.next('error')).toMatchObject({ code: 'invalid_message' });
    await stillWorks(alice);
  });

  it('answers a join to a room that does not exist with not_found', async () => {
    expect(await bob.call({ type: 'join', room: 'nowhere' })).toEqual({
      type: 'error',
      code: 'not_found',
      message: expect.any(String),
      room: 'nowhere',
      ref: expect.any(String),
    });
    await stillWorks(bob);
  });

  it('answers a send to a room not joined with forbidden', async () => {
    expect(await bob.call({ type: 'send', room: 'general', text: 'hi', clientMsgId: 'c1' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      room: 'general',
    });
    expect(alice.all('message')).toEqual([]);
    await stillWorks(bob);
  });

  it('answers a private room’s join by a non-member with forbidden', async () => {
    await createRoom(server, 'staff', { private: true });
    expect(await bob.call({ type: 'join', room: 'staff' })).toMatchObject({ type: 'error', code: 'forbidden' });
    await stillWorks(bob);
  });
});

describe('limits', () => {
  it('answers sends faster than RATE_MESSAGES_PER_SECOND with rate_limited and keeps the connection', async () => {
    const limited = await build({ RATE_MESSAGES_PER_SECOND: '2' });
    try {
      await createRoom(limited, 'general');
      const alice = await openClient(limited, { token: (await signUp(limited, 'alice')).token, name: 'alice' });
      await alice.join('general');
      const refs = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
      for (const ref of refs) alice.send({ type: 'send', room: 'general', text: ref, clientMsgId: ref, ref });
      const replies = await Promise.all(refs.map((ref) => alice.nextWhere((m) => 'ref' in m && m.ref === ref)));
      const limitedReplies = replies.filter((r) => r.type === 'error');
      expect(limitedReplies.length).toBeGreaterThan(0);
      for (const r of limitedReplies) expect(r).toMatchObject({ type: 'error', code: 'rate_limited', room: 'general' });
      expect(replies[0]).toMatchObject({ type: 'message', seq: 1 });

      // Still open, and what was accepted is exactly what was stored.
      const history = await alice.call({ type: 'history', room: 'general' });
      expect(history.type).toBe('history');
      const stored = (history as { messages: Array<{ text: string }> }).messages.map((m) => m.text).reverse();
      expect(stored).toEqual(replies.filter((r) => r.type === 'message').map((r) => (r as { text: string }).text));
    } finally {
      await limited.close();
    }
  });

  it('answers text over MAX_MESSAGE_BYTES with too_large, counting UTF-8 bytes, and keeps the connection', async () => {
    const small = await build({ MAX_MESSAGE_BYTES: '100' });
    try {
      await createRoom(small, 'general');
      const alice = await openClient(small, { token: (await signUp(small, 'alice')).token, name: 'alice' });
      await alice.join('general');
      expect(await alice.call({ type: 'send', room: 'general', text: 'x'.repeat(101), clientMsgId: 'big' })).toMatchObject({
        type: 'error',
        code: 'too_large',
      });
      // 34 characters, 102 bytes.
      expect(await alice.call({ type: 'send', room: 'general', text: '€'.repeat(34), clientMsgId: 'euro' })).toMatchObject({
        type: 'error',
        code: 'too_large',
      });
      const fits = await alice.say('general', 'x'.repeat(100));
      expect(fits.seq).toBe(1);
      expect(await alice.call({ type: 'edit', room: 'general', id: fits.id, text: 'y'.repeat(101) })).toMatchObject({
        type: 'error',
        code: 'too_large',
      });
      expect((await alice.say('general', 'small')).seq).toBe(2);
    } finally {
      await small.close();
    }
  });
});

describe('oversized messages', () => {
  it('answers a paste far over MAX_MESSAGE_BYTES with too_large rather than dropping the connection', async () => {
    await createRoom(server, 'general');
    const alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    await alice.join('general');
    // 32 KiB of text with the default 4096-byte limit: a user pasting a log file.
    const reply = await alice.call({ type: 'send', room: 'general', text: 'x'.repeat(32 * 1024), clientMsgId: 'paste' });
    expect(reply).toMatchObject({ type: 'error', code: 'too_large' });
    expect((await alice.say('general', 'a shorter one')).seq).toBe(1);
  });
});

describe('shutdown', () => {
  it('tells connected clients it is going away (1001) when the app closes', async () => {
    const alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    const closing = server.app.close();
    expect((await alice.closed).code).toBe(1001);
    await closing;
  });
});
