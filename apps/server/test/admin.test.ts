import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, build, type TestServer } from './helpers/build.js';
import { openClient, type ChatClient } from './helpers/chat-client.js';
import { admin, createRoom, expectError, request, signUp, type SignedIn } from './helpers/http.js';

let server: TestServer;
beforeEach(async () => {
  server = await build();
});
afterEach(async () => {
  await server.close();
});

const roomShape = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  kind: 'room',
  title: `Room ${id}`,
  topic: '',
  private: false,
  archived: false,
  lastSeq: 0,
  createdAt: expect.any(Number),
  createdBy: null,
  ...fields,
});

/** Every admin route, with a valid body where it takes one (`general` and `alice` exist). */
const ROUTES: Array<[method: string, path: string, body?: unknown]> = [
  ['GET', '/rooms'],
  ['POST', '/rooms', { id: 'other', title: 'Other' }],
  ['GET', '/rooms/general'],
  ['PATCH', '/rooms/general', { title: 'New title' }],
  ['DELETE', '/rooms/general'],
  ['GET', '/rooms/general/members'],
  ['DELETE', '/rooms/general/messages/1'],
  ['POST', '/rooms/general/kick', { username: 'alice' }],
  ['POST', '/rooms/general/bans', { username: 'alice' }],
  ['DELETE', '/rooms/general/bans', { username: 'alice' }],
];

describe('admin authentication', () => {
  beforeEach(async () => {
    await createRoom(server, 'general');
    await signUp(server, 'alice');
  });

  it.each(ROUTES)('%s /api/admin%s answers 401 without a token', async (method, path, body) => {
    const res = await request(server, method, `/api/admin${path}`, body === undefined ? {} : { body });
    expectError(res, 401, 'unauthorized');
  });

  it.each(ROUTES)('%s /api/admin%s answers 401 with a wrong token', async (method, path, body) => {
    const res = await request(server, method, `/api/admin${path}`, { token: `${ADMIN_TOKEN}x`, ...(body === undefined ? {} : { body }) });
    expectError(res, 401, 'unauthorized');
  });

  it('answers 403 to the session of a user who is not an admin', async () => {
    // (Before admin accounts a session meant nothing here: 401. Now it names who asks, and they may not.)
    const bob = await signUp(server, 'bob');
    expectError(await request(server, 'GET', '/api/admin/rooms', { token: bob.token }), 403, 'forbidden');
    expectError(await request(server, 'GET', '/api/admin/rooms', { cookie: `session=${bob.token}` }), 403, 'forbidden');
  });

  it('leaves the room untouched when the token is wrong', async () => {
    await request(server, 'DELETE', '/api/admin/rooms/general', { token: 'wrong-token-wrong-token' });
    expect((await admin(server, 'GET', '/rooms/general')).status).toBe(200);
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  it.each(ROUTES)('%s /api/admin%s answers 503 admin_disabled', async (method, path, body) => {
    const disabled = await build({ ADMIN_TOKEN: undefined });
    try {
      const res = await request(disabled, method, `/api/admin${path}`, {
        token: ADMIN_TOKEN,
        ...(body === undefined ? {} : { body }),
      });
      expectError(res, 503, 'admin_disabled');
    } finally {
      await disabled.close();
    }
  });
});

describe('rooms', () => {
  it('POST /rooms creates a room with topic and privacy, answering 201', async () => {
    const res = await admin(server, 'POST', '/rooms', { id: 'staff', title: 'Room staff', topic: 'shh', private: true });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ room: roomShape('staff', { topic: 'shh', private: true }) });
  });

  it('POST /rooms refuses an existing id with 409 and a bad id with 400', async () => {
    await createRoom(server, 'general');
    expectError(await admin(server, 'POST', '/rooms', { id: 'general', title: 'Again' }), 409, 'conflict');
    expectError(await admin(server, 'POST', '/rooms', { id: 'Not_Valid', title: 'Bad' }), 400, 'invalid_request');
  });

  it('GET /rooms lists every room, private and archived ones included', async () => {
    await createRoom(server, 'general');
    await createRoom(server, 'staff', { private: true });
    const res = await admin(server, 'GET', '/rooms');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ rooms: [roomShape('general'), roomShape('staff', { private: true })] });
  });

  it('GET /rooms/:id answers the room, or 404 for an unknown one', async () => {
    await createRoom(server, 'general');
    const res = await admin(server, 'GET', '/rooms/general');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ room: roomShape('general') });
    expectError(await admin(server, 'GET', '/rooms/nowhere'), 404, 'not_found');
  });

  it('PATCH /rooms/:id changes only the fields given and answers the room', async () => {
    await createRoom(server, 'general', { topic: 'old topic' });
    const res = await admin(server, 'PATCH', '/rooms/general', { title: 'General chat', archived: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ room: roomShape('general', { title: 'General chat', topic: 'old topic', archived: true }) });
    expect((await admin(server, 'GET', '/rooms/general')).body.room).toMatchObject({ title: 'General chat', archived: true });
  });

  it('PATCH /rooms/:id refuses an empty change with 400 and an unknown room with 404', async () => {
    await createRoom(server, 'general');
    expectError(await admin(server, 'PATCH', '/rooms/general', {}), 400, 'invalid_request');
    expectError(await admin(server, 'PATCH', '/rooms/nowhere', { title: 'X' }), 404, 'not_found');
  });

  it('DELETE /rooms/:id removes the room with its history, answering 204, then 404', async () => {
    await createRoom(server, 'general');
    const res = await admin(server, 'DELETE', '/rooms/general');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await admin(server, 'GET', '/rooms/general'), 404, 'not_found');
    expectError(await admin(server, 'DELETE', '/rooms/general'), 404, 'not_found');
  });

  it('a room id can be used again after the room is deleted, starting from seq 1', async () => {
    const alice = await signUp(server, 'alice');
    await createRoom(server, 'general');
    const first = await openClient(server, { token: alice.token, name: 'alice' });
    await first.join('general');
    await first.say('general', 'before');
    await admin(server, 'DELETE', '/rooms/general');
    await createRoom(server, 'general');
    await first.join('general');
    expect((await first.say('general', 'after')).seq).toBe(1);
    const history = await request(server, 'GET', '/api/rooms/general/messages', { token: alice.token });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['after']);
  });
});

describe('members, messages, kicks and bans', () => {
  let alice: SignedIn;
  let bob: SignedIn;
  beforeEach(async () => {
    await createRoom(server, 'general');
    alice = await signUp(server, 'alice');
    bob = await signUp(server, 'bob');
  });

  it('GET /rooms/:id/members lists members with presence and read cursor', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    await a.say('general', 'hello');
    await a.call({ type: 'read', room: 'general', seq: 1 });
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    await b.join('general');
    await b.close();
    // The server has handled bob's disconnect once it tells alice.
    await a.next('presence', (p) => p.user === 'bob' && p.state === 'offline');

    const res = await admin(server, 'GET', '/rooms/general/members');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      members: [
        { username: 'alice', online: true, readSeq: 1, role: 'member' },
        { username: 'bob', online: false, readSeq: 0, role: 'member' },
      ],
    });
    expectError(await admin(server, 'GET', '/rooms/nowhere/members'), 404, 'not_found');
  });

  it('DELETE /rooms/:id/messages/:messageId blanks the message but keeps its seq', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    const first = await a.say('general', 'keep');
    const second = await a.say('general', 'remove me');
    const res = await admin(server, 'DELETE', `/rooms/general/messages/${second.id}`);
    expect(res.status).toBe(204);
    const history = await request(server, 'GET', '/api/rooms/general/messages', { token: alice.token });
    expect(history.body.messages).toEqual([
      { id: second.id, seq: 2, author: 'alice', text: '', ts: second.ts, clientMsgId: second.clientMsgId, deleted: true },
      { id: first.id, seq: 1, author: 'alice', text: 'keep', ts: first.ts, clientMsgId: first.clientMsgId },
    ]);
  });

  it('DELETE /rooms/:id/messages/:messageId answers 404 for an unknown room, message, or one already deleted', async () => {
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    await a.join('general');
    const m = await a.say('general', 'hi');
    await createRoom(server, 'other');
    expectError(await admin(server, 'DELETE', `/rooms/nowhere/messages/${m.id}`), 404, 'not_found');
    expectError(await admin(server, 'DELETE', `/rooms/general/messages/${m.id + 1000}`), 404, 'not_found');
    expectError(await admin(server, 'DELETE', `/rooms/other/messages/${m.id}`), 404, 'not_found');
    expect((await admin(server, 'DELETE', `/rooms/general/messages/${m.id}`)).status).toBe(204);
    expectError(await admin(server, 'DELETE', `/rooms/general/messages/${m.id}`), 404, 'not_found');
  });

  it('POST /rooms/:id/kick removes the member, answering 204', async () => {
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    await b.join('general');
    expect((await admin(server, 'POST', '/rooms/general/kick', { username: 'bob' })).status).toBe(204);
    const members = await admin(server, 'GET', '/rooms/general/members');
    expect(members.body.members.map((m: { username: string }) => m.username)).toEqual([]);
  });

  it('POST /rooms/:id/kick answers 404 for an unknown room or user', async () => {
    expectError(await admin(server, 'POST', '/rooms/nowhere/kick', { username: 'bob' }), 404, 'not_found');
    expectError(await admin(server, 'POST', '/rooms/general/kick', { username: 'nobody' }), 404, 'not_found');
  });

  it('POST /rooms/:id/bans bans a user; DELETE lifts it; both answer 204', async () => {
    expect((await admin(server, 'POST', '/rooms/general/bans', { username: 'bob' })).status).toBe(204);
    const banned = await request(server, 'GET', '/api/rooms', { token: bob.token });
    expect(banned.body.rooms).toEqual([]);
    expectError(await request(server, 'GET', '/api/rooms/general/messages', { token: bob.token }), 403, 'forbidden');

    expect((await admin(server, 'DELETE', '/rooms/general/bans', { username: 'bob' })).status).toBe(204);
    const lifted = await request(server, 'GET', '/api/rooms', { token: bob.token });
    expect(lifted.body.rooms.map((r: { id: string }) => r.id)).toEqual(['general']);
    expect((await request(server, 'GET', '/api/rooms/general/messages', { token: bob.token })).status).toBe(200);
  });

  it('bans answer 404 for an unknown room or user, and lifting a ban that does not exist', async () => {
    expectError(await admin(server, 'POST', '/rooms/nowhere/bans', { username: 'bob' }), 404, 'not_found');
    expectError(await admin(server, 'POST', '/rooms/general/bans', { username: 'nobody' }), 404, 'not_found');
    expectError(await admin(server, 'DELETE', '/rooms/nowhere/bans', { username: 'bob' }), 404, 'not_found');
    expectError(await admin(server, 'DELETE', '/rooms/general/bans', { username: 'nobody' }), 404, 'not_found');
    expectError(await admin(server, 'DELETE', '/rooms/general/bans', { username: 'bob' }), 404, 'not_found');
  });

  it('kick and bans refuse a malformed username with 400', async () => {
    expectError(await admin(server, 'POST', '/rooms/general/kick', { username: 'no spaces' }), 400, 'invalid_request');
    expectError(await admin(server, 'POST', '/rooms/general/bans', {}), 400, 'invalid_request');
  });
});

describe('admin actions reach live clients at once', () => {
  let alice: ChatClient;
  let bob: ChatClient;
  beforeEach(async () => {
    await createRoom(server, 'general');
    alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    bob = await openClient(server, { token: (await signUp(server, 'bob')).token, name: 'bob' });
    await alice.join('general');
    await bob.join('general');
  });

  it('a kicked user is told `kicked`, leaves the room, and may join again', async () => {
    await admin(server, 'POST', '/rooms/general/kick', { username: 'bob' });
    expect(await bob.next('room')).toEqual({ type: 'room', room: 'general', event: 'kicked' });
    expect(await alice.next('presence', (p) => p.state === 'offline')).toEqual({
      type: 'presence',
      room: 'general',
      user: 'bob',
      state: 'offline',
    });
    expect(alice.all('room')).toEqual([]);

    const refused = await bob.call({ type: 'send', room: 'general', text: 'still here?', clientMsgId: 'k1' });
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    await bob.join('general');
    expect((await bob.say('general', 'back')).author).toBe('bob');
  });

  it('a banned user is told `banned`, and a later join is refused with forbidden', async () => {
    await admin(server, 'POST', '/rooms/general/bans', { username: 'bob' });
    expect(await bob.next('room')).toEqual({ type: 'room', room: 'general', event: 'banned' });
    const join = await bob.call({ type: 'join', room: 'general' });
    expect(join).toMatchObject({ type: 'error', code: 'forbidden', room: 'general' });
    const send = await bob.call({ type: 'send', room: 'general', text: 'let me in', clientMsgId: 'b1' });
    expect(send).toMatchObject({ type: 'error', code: 'forbidden' });

    await admin(server, 'DELETE', '/rooms/general/bans', { username: 'bob' });
    await bob.join('general');
  });

  it('a deleted message reaches every member as message_updated with empty text, deleted, same seq', async () => {
    const sent = await alice.say('general', 'oops');
    await bob.next('message', (m) => m.id === sent.id);
    await admin(server, 'DELETE', `/rooms/general/messages/${sent.id}`);
    for (const client of [alice, bob]) {
      expect(await client.next('message_updated')).toEqual({
        type: 'message_updated',
        room: 'general',
        id: sent.id,
        seq: sent.seq,
        author: 'alice',
        text: '',
        ts: sent.ts,
        clientMsgId: sent.clientMsgId,
        deleted: true,
      });
    }
  });

  it('a room update reaches every member as room `updated` with the new settings', async () => {
    await admin(server, 'PATCH', '/rooms/general', { title: 'General chat', topic: 'be nice' });
    for (const client of [alice, bob]) {
      expect(await client.next('room')).toEqual({
        type: 'room',
        room: 'general',
        event: 'updated',
        title: 'General chat',
        topic: 'be nice',
        private: false,
        archived: false,
      });
    }
  });

  it('a room deletion reaches every member as room `deleted`; the room is then not_found', async () => {
    await admin(server, 'DELETE', '/rooms/general');
    for (const client of [alice, bob]) {
      expect(await client.next('room')).toEqual({ type: 'room', room: 'general', event: 'deleted' });
    }
    expect(await alice.call({ type: 'join', room: 'general' })).toMatchObject({ type: 'error', code: 'not_found' });
    expect(await bob.call({ type: 'send', room: 'general', text: 'hello?', clientMsgId: 'd1' })).toMatchObject({
      type: 'error',
    });
  });
});

describe('admin accounts', () => {
  const promote = (username: string, role: 'admin' | 'user', token = ADMIN_TOKEN) =>
    request(server, 'PUT', `/api/admin/users/${username}/role`, { token, body: { role } });

  it('ADMIN_TOKEN makes the first admin; their session then runs the admin API, and they promote others', async () => {
    await createRoom(server, 'general');
    const alice = await signUp(server, 'alice');
    const bob = await signUp(server, 'bob');
    expectError(await request(server, 'GET', '/api/admin/rooms', { token: alice.token }), 403, 'forbidden');
    expect((await promote('alice', 'admin')).status).toBe(204);
    expect((await request(server, 'GET', '/api/me', { token: alice.token })).body.user).toMatchObject({ username: 'alice', admin: true });
    const rooms = await request(server, 'GET', '/api/admin/rooms', { token: alice.token });
    expect(rooms.status).toBe(200);
    expect(rooms.body.rooms.map((r: { id: string }) => r.id)).toEqual(['general']);
    // With the cookie, as the browser sends it (a write names its origin).
    const created = await request(server, 'POST', '/api/admin/rooms', {
      cookie: `session=${alice.token}`,
      headers: { origin: server.url },
      body: { id: 'by-alice', title: 'By Alice' },
    });
    expect(created.status).toBe(201);
    expect((await promote('bob', 'admin', alice.token)).status).toBe(204);
    expect((await request(server, 'GET', '/api/admin/admins', { token: bob.token })).body).toEqual({ admins: ['alice', 'bob'] });
    // bob demotes alice: at once, her session no longer opens the admin API.
    expect((await promote('alice', 'user', bob.token)).status).toBe(204);
    expectError(await request(server, 'GET', '/api/admin/rooms', { token: alice.token }), 403, 'forbidden');
    expect((await request(server, 'GET', '/api/me', { token: alice.token })).body.user.admin).toBe(false);
  });

  it('refuses to demote the last admin, an unknown user or a guest, and bad roles; nothing changes', async () => {
    await signUp(server, 'alice');
    const guest = await request(server, 'POST', '/api/auth/guest', { body: { username: 'gus' } });
    expect(guest.status).toBe(201);
    expect((await promote('alice', 'admin')).status).toBe(204);
    expectError(await promote('alice', 'user'), 409, 'conflict');
    expectError(await promote('nobody', 'admin'), 404, 'not_found');
    expectError(await promote('gus', 'admin'), 404, 'not_found');
    expectError(await request(server, 'PUT', '/api/admin/users/alice/role', { token: ADMIN_TOKEN, body: { role: 'root' } }), 400, 'invalid_request');
    expectError(await request(server, 'PUT', '/api/admin/users/a!/role', { token: ADMIN_TOKEN, body: { role: 'admin' } }), 400, 'invalid_request');
    expect((await request(server, 'GET', '/api/admin/admins', { token: ADMIN_TOKEN })).body).toEqual({ admins: ['alice'] });
  });

  it('with no ADMIN_TOKEN at all, an admin account still gets in', async () => {
    const bare = await build({ ADMIN_TOKEN: undefined });
    try {
      const carol = await signUp(bare, 'carol');
      expectError(await request(bare, 'GET', '/api/admin/rooms', { token: carol.token }), 403, 'forbidden');
      expect(await bare.app.store.setUserRole('carol', 'admin')).toBe('changed');
      expect((await request(bare, 'GET', '/api/admin/rooms', { token: carol.token })).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
