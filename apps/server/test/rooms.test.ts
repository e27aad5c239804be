import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { admin, createRoom, expectError, request, signUp, type SignedIn } from './helpers/http.js';

let server: TestServer;
let alice: SignedIn;
beforeEach(async () => {
  server = await build();
  alice = await signUp(server, 'alice');
});
afterEach(async () => {
  await server.close();
});

/** Posts `count` messages to `room` as `user` over the WebSocket; resolves once all are stored. */
async function seed(user: SignedIn, room: string, count: number): Promise<void> {
  const client = await openClient(server, { token: user.token, name: user.user.username });
  await client.join(room);
  for (let i = 1; i <= count; i++) await client.say(room, `message ${i}`);
  await client.close();
}

describe('GET /api/rooms', () => {
  it('lists public rooms with their summary for a signed-in user', async () => {
    await createRoom(server, 'general', { topic: 'anything' });
    const res = await request(server, 'GET', '/api/rooms', { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      rooms: [
        { id: 'general', kind: 'room', title: 'Room general', topic: 'anything', private: false, archived: false, lastSeq: 0, joined: false, unread: 0, mentions: 0, role: null },
      ],
    });
  });

  it('accepts the session cookie as well as a Bearer token', async () => {
    await createRoom(server, 'general');
    const res = await request(server, 'GET', '/api/rooms', { cookie: `session=${alice.token}` });
    expect(res.status).toBe(200);
    expect(res.body.rooms.map((r: { id: string }) => r.id)).toEqual(['general']);
  });

  it('hides private rooms the user is not a member of', async () => {
    await createRoom(server, 'general');
    await createRoom(server, 'secret', { private: true });
    const res = await request(server, 'GET', '/api/rooms', { token: alice.token });
    expect(res.body.rooms.map((r: { id: string }) => r.id)).toEqual(['general']);
  });

  it('answers 401 without a session', async () => {
    expectError(await request(server, 'GET', '/api/rooms'), 401, 'unauthorized');
    expectError(await request(server, 'GET', '/api/rooms', { token: 'made-up' }), 401, 'unauthorized');
  });
});

describe('POST /api/rooms', () => {
  it('creates a room, answers 201 with it, and makes the creator a member', async () => {
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id: 'book-club', title: 'Book club' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      room: {
        id: 'book-club',
        kind: 'room',
        title: 'Book club',
        topic: '',
        private: false,
        archived: false,
        lastSeq: 0,
        createdAt: expect.any(Number),
        createdBy: 'alice',
      },
    });
    const list = await request(server, 'GET', '/api/rooms', { token: alice.token });
    expect(list.body.rooms).toEqual([expect.objectContaining({ id: 'book-club', joined: true, unread: 0, role: 'owner' })]);
  });

  it.each([
    ['upper case', 'General'],
    ['a leading dash', '-general'],
    ['an underscore', 'the_room'],
    ['a space', 'the room'],
    ['65 characters', 'a'.repeat(65)],
    ['nothing', ''],
  ])('refuses a room id with %s with 400', async (_why, id) => {
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id, title: 'A room' } });
    expectError(res, 400, 'invalid_request');
  });

  it('accepts a room id of 64 lower-case letters, digits and dashes', async () => {
    const id = `0-${'a'.repeat(62)}`;
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id, title: 'A room' } });
    expect(res.status).toBe(201);
  });

  it('refuses an existing room id with 409 conflict', async () => {
    await createRoom(server, 'general');
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id: 'general', title: 'Again' } });
    expectError(res, 409, 'conflict');
  });

  it('refuses an empty title with 400', async () => {
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id: 'general', title: '   ' } });
    expectError(res, 400, 'invalid_request');
  });

  it('answers a body that is not JSON with 400 bad_json', async () => {
    const res = await request(server, 'POST', '/api/rooms', { token: alice.token, rawBody: '{"id":' });
    expectError(res, 400, 'bad_json');
  });

  it('answers 401 without a session', async () => {
    const res = await request(server, 'POST', '/api/rooms', { body: { id: 'general', title: 'General' } });
    expectError(res, 401, 'unauthorized');
  });
});

describe('GET /api/rooms/:id/messages', () => {
  beforeEach(async () => {
    await createRoom(server, 'general');
    await seed(alice, 'general', 7);
  });

  const seqs = (body: { messages: Array<{ seq: number }> }) => body.messages.map((m) => m.seq);

  it('answers the newest messages first, each in the contract’s shape', async () => {
    const res = await request(server, 'GET', '/api/rooms/general/messages', { token: alice.token });
    expect(res.status).toBe(200);
    expect(seqs(res.body)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(res.body.messages[0]).toEqual({
      id: expect.any(Number),
      seq: 7,
      author: 'alice',
      text: 'message 7',
      ts: expect.any(Number),
      clientMsgId: expect.any(String),
    });
  });

  it('answers at most `limit` messages', async () => {
    const res = await request(server, 'GET', '/api/rooms/general/messages?limit=3', { token: alice.token });
    expect(seqs(res.body)).toEqual([7, 6, 5]);
  });

  it('answers only messages before `before`, excluding it', async () => {
    const res = await request(server, 'GET', '/api/rooms/general/messages?before=5&limit=3', { token: alice.token });
    expect(seqs(res.body)).toEqual([4, 3, 2]);
    const last = await request(server, 'GET', '/api/rooms/general/messages?before=2', { token: alice.token });
    expect(seqs(last.body)).toEqual([1]);
  });

  it('pages through the whole history with before = the oldest seq of the previous page', async () => {
    const pages: number[][] = [];
    let before: number | undefined;
    for (;;) {
      const query = before === undefined ? '?limit=3' : `?limit=3&before=${before}`;
      const res = await request(server, 'GET', `/api/rooms/general/messages${query}`, { token: alice.token });
      const page = seqs(res.body);
      if (page.length === 0) break;
      pages.push(page);
      before = page.at(-1);
    }
    expect(pages).toEqual([[7, 6, 5], [4, 3, 2], [1]]);
  });

  it('accepts limit=100 and refuses limit=101 with 400', async () => {
    expect((await request(server, 'GET', '/api/rooms/general/messages?limit=100', { token: alice.token })).status).toBe(200);
    const res = await request(server, 'GET', '/api/rooms/general/messages?limit=101', { token: alice.token });
    expectError(res, 400, 'invalid_request');
  });

  it.each(['limit=0', 'limit=abc', 'before=-1', 'before=abc'])('refuses %s with 400', async (query) => {
    const res = await request(server, 'GET', `/api/rooms/general/messages?${query}`, { token: alice.token });
    expectError(res, 400, 'invalid_request');
  });

  it('answers 404 for a room that does not exist', async () => {
    const res = await request(server, 'GET', '/api/rooms/nowhere/messages', { token: alice.token });
    expectError(res, 404, 'not_found');
  });

  it('answers 403 to a user banned from the room', async () => {
    const bob = await signUp(server, 'bob');
    expect((await admin(server, 'POST', '/rooms/general/bans', { username: 'bob' })).status).toBe(204);
    const res = await request(server, 'GET', '/api/rooms/general/messages', { token: bob.token });
    expectError(res, 403, 'forbidden');
  });

  it('answers 403 for a private room to a non-member', async () => {
    await createRoom(server, 'secret', { private: true });
    const res = await request(server, 'GET', '/api/rooms/secret/messages', { token: alice.token });
    expectError(res, 403, 'forbidden');
  });

  it('answers 401 without a session', async () => {
    expectError(await request(server, 'GET', '/api/rooms/general/messages'), 401, 'unauthorized');
  });
});

describe('unread counts', () => {
  it('counts messages after the read cursor, and 0 for rooms the user has not joined', async () => {
    await createRoom(server, 'general');
    await createRoom(server, 'quiet');
    const bob = await signUp(server, 'bob');
    const bobClient = await openClient(server, { token: bob.token, name: 'bob' });
    await bobClient.join('general');
    await seed(alice, 'general', 3);
    await seed(alice, 'quiet', 2);

    const before = await request(server, 'GET', '/api/rooms', { token: bob.token });
    expect(before.body.rooms).toEqual([
      expect.objectContaining({ id: 'general', joined: true, lastSeq: 3, unread: 3 }),
      expect.objectContaining({ id: 'quiet', joined: false, lastSeq: 2, unread: 0 }),
    ]);

    const read = await bobClient.call({ type: 'read', room: 'general', seq: 2 });
    expect(read).toMatchObject({ type: 'read', room: 'general', seq: 2 });
    const after = await request(server, 'GET', '/api/rooms', { token: bob.token });
    expect(after.body.rooms[0]).toMatchObject({ id: 'general', unread: 1 });

    await bobClient.call({ type: 'read', room: 'general', seq: 3 });
    const all = await request(server, 'GET', '/api/rooms', { token: bob.token });
    expect(all.body.rooms[0]).toMatchObject({ id: 'general', unread: 0 });
  });
});

describe('anything else', () => {
  it('answers an unknown route with 404 in the error shape', async () => {
    expectError(await request(server, 'GET', '/api/nothing-here'), 404, 'not_found');
  });
});
