/**
 * Replies and threads, reactions, mentions and pins, end to end: real HTTP,
 * real sockets, the real store (SQLite, or PostgreSQL in the server-postgres
 * project). Each bad input is answered with its error and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DISTINCT_REACTIONS } from '../src/chat/reactions.js';
import { build, type TestServer } from './helpers/build.js';
import { actingAs } from './helpers/acting-as.js';
import type { ChatClient } from './helpers/chat-client.js';
import { expectError, signUp, type SignedIn } from './helpers/http.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
let carol: SignedIn;
const clients: ChatClient[] = [];
beforeEach(async () => {
  server = await build();
  [alice, bob, carol] = [await signUp(server, 'alice'), await signUp(server, 'bob'), await signUp(server, 'carol')];
  // alice owns `team` (public); bob and carol are members.
  expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team' })).status).toBe(201);
  expect((await api(alice, 'POST', '/api/rooms', { id: 'other', title: 'Other' })).status).toBe(201);
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await server.close();
});

const { api, connect } = actingAs(() => server, clients);
const history = async (who: SignedIn, room = 'team') => (await api(who, 'GET', `/api/rooms/${room}/messages`)).body.messages;
const roomEntry = async (who: SignedIn, room = 'team') =>
  (await api(who, 'GET', '/api/rooms')).body.rooms.find((r: { id: string }) => r.id === room);

describe('replies and threads', () => {
  it('a reply carries its quote, the parent counts replies, and the thread lists them over the socket and REST', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const question = await a.say('team', 'who is on call?');
    const reply = await b.call({ type: 'send', room: 'team', text: 'me', clientMsgId: 'r1', replyTo: question.id });
    expect(reply).toMatchObject({
      type: 'message',
      text: 'me',
      replyTo: { id: question.id, seq: question.seq, author: 'alice', text: 'who is on call?', deleted: false },
    });
    expect(await a.next('message', (m) => m.id === reply.id)).toMatchObject({ replyTo: { id: question.id } });
    await b.call({ type: 'send', room: 'team', text: 'and me', clientMsgId: 'r2', replyTo: question.id });
    await a.say('team', 'unrelated');

    // (REST history is newest first.)
    const messages = (await history(carol)).reverse();
    expect(messages.map((m: { text: string; replies?: number }) => [m.text, m.replies ?? 0])).toEqual([
      ['who is on call?', 2],
      ['me', 0],
      ['and me', 0],
      ['unrelated', 0],
    ]);
    const thread = await a.call({ type: 'thread', room: 'team', id: question.id });
    expect(thread).toMatchObject({ type: 'thread', room: 'team', id: question.id });
    expect((thread as { messages: Array<{ text: string }> }).messages.map((m) => m.text)).toEqual(['me', 'and me']);
    const page = await api(carol, 'GET', `/api/rooms/team/messages/${question.id}/replies?limit=1`);
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: { text: string }) => m.text)).toEqual(['me']);
    const rest = await api(carol, 'GET', `/api/rooms/team/messages/${question.id}/replies?after=${page.body.messages[0].seq}`);
    expect(rest.body.messages.map((m: { text: string }) => m.text)).toEqual(['and me']);
  });

  it('refuses a reply to a message of another room, a missing or a deleted one, and stores nothing', async () => {
    const a = await connect(alice, 'team', 'other');
    const elsewhere = await a.say('other', 'over here');
    const gone = await a.say('team', 'soon gone');
    await a.call({ type: 'delete', room: 'team', id: gone.id });
    for (const replyTo of [elsewhere.id, gone.id, gone.id + 1000]) {
      const refused = await a.call({ type: 'send', room: 'team', text: 'hm', clientMsgId: `x${replyTo}`, replyTo });
      expect(refused).toMatchObject({ type: 'error', code: 'not_found', room: 'team' });
    }
    expect((await history(alice)).map((m: { seq: number }) => m.seq)).toEqual([1]);
    expectError(await api(alice, 'GET', `/api/rooms/team/messages/${elsewhere.id}/replies`), 404, 'not_found');
  });
});

describe('reactions', () => {
  it('are broadcast, idempotent, part of history, removable, and the same over REST', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const m = await a.say('team', 'ship it?');
    const added = await b.call({ type: 'react', room: 'team', id: m.id, emoji: '👍' });
    expect(added).toMatchObject({ type: 'reaction', room: 'team', id: m.id, emoji: '👍', user: 'bob', added: true, count: 1 });
    expect(await a.next('reaction', (r) => r.id === m.id)).toMatchObject({ user: 'bob', added: true, count: 1 });
    // Again: nothing changes, only bob is answered.
    expect(await b.call({ type: 'react', room: 'team', id: m.id, emoji: '👍' })).toMatchObject({ type: 'reaction', count: 1 });
    // alice, over REST (the emoji percent-encoded in the path).
    const put = await api(alice, 'PUT', `/api/rooms/team/messages/${m.id}/reactions/${encodeURIComponent('👍')}`);
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({ emoji: '👍', count: 2, mine: true });
    expect(await b.next('reaction', (r) => r.user === 'alice')).toMatchObject({ added: true, count: 2 });
    await a.call({ type: 'react', room: 'team', id: m.id, emoji: ':tada:' });

    const [stored] = await history(carol); // the only message
    expect(stored.reactions).toEqual([
      { emoji: '👍', count: 2, users: ['bob', 'alice'] },
      { emoji: ':tada:', count: 1, users: ['alice'] },
    ]);
    const c = await connect(carol);
    expect((await c.join('team')).history[0]!.reactions).toHaveLength(2);

    expect(await b.call({ type: 'unreact', room: 'team', id: m.id, emoji: '👍' })).toMatchObject({ added: false, count: 1 });
    expect(await a.next('reaction', (r) => r.user === 'bob' && !r.added)).toMatchObject({ count: 1 });
    const del = await api(alice, 'DELETE', `/api/rooms/team/messages/${m.id}/reactions/${encodeURIComponent('👍')}`);
    expect(del.body).toEqual({ emoji: '👍', count: 0, mine: false });
    expect((await history(carol))[0].reactions).toEqual([{ emoji: ':tada:', count: 1, users: ['alice'] }]);
  });

  it('refuses bad reactions with a clear error and changes nothing', async () => {
    const a = await connect(alice, 'team', 'other');
    const m = await a.say('team', 'react to me');
    const gone = await a.say('team', 'deleted');
    await a.call({ type: 'delete', room: 'team', id: gone.id });
    const elsewhere = await a.say('other', 'another room');
    // Not an emoji, or too long: refused by the schema.
    for (const emoji of ['', 'x', 'not an emoji', '👍'.repeat(17), '<b>', ':Caps:']) {
      expect(await a.call({ type: 'react', room: 'team', id: m.id, emoji })).toMatchObject({ type: 'error', code: 'invalid_message' });
    }
    // A deleted, missing, or other room's message.
    for (const id of [gone.id, m.id + 1000, elsewhere.id]) {
      expect(await a.call({ type: 'react', room: 'team', id, emoji: '👍' })).toMatchObject({ type: 'error', code: 'not_found' });
    }
    // Not joined: join first. A non-member over REST: refused too.
    const c = await connect(carol);
    expect(await c.call({ type: 'react', room: 'team', id: m.id, emoji: '👍' })).toMatchObject({ type: 'error', code: 'forbidden' });
    expectError(await api(carol, 'PUT', `/api/rooms/team/messages/${m.id}/reactions/${encodeURIComponent('👍')}`), 403, 'forbidden');
    expectError(await api(alice, 'PUT', `/api/rooms/team/messages/${m.id}/reactions/nope`), 400, 'invalid_request');
    const after = await history(alice);
    expect(after.find((x: { id: number }) => x.id === m.id)).toMatchObject({ text: 'react to me' });
    expect(after.every((x: { reactions?: unknown }) => x.reactions === undefined)).toBe(true);
  });

  it(`bounds a message to ${MAX_DISTINCT_REACTIONS} different emoji`, async () => {
    const a = await connect(alice, 'team');
    const m = await a.say('team', 'so many feelings');
    const emoji = Array.from({ length: MAX_DISTINCT_REACTIONS + 1 }, (_, i) => `:e${i}:`);
    for (const e of emoji.slice(0, MAX_DISTINCT_REACTIONS)) {
      // Spaced out: the rate limit is not what this is about.
      expect(await a.call({ type: 'react', room: 'team', id: m.id, emoji: e })).toMatchObject({ type: 'reaction', added: true });
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(await a.call({ type: 'react', room: 'team', id: m.id, emoji: emoji.at(-1) })).toMatchObject({
      type: 'error',
      code: 'invalid_request',
      message: expect.stringMatching(/at most 20 different reactions/),
    });
    expect((await history(alice))[0].reactions).toHaveLength(MAX_DISTINCT_REACTIONS);
  });

  it('are rate-limited like sends', async () => {
    const a = await connect(alice, 'team');
    const m = await a.say('team', 'spam target');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => a.call({ type: i % 2 ? 'unreact' : 'react', room: 'team', id: m.id, emoji: '👍' })),
    );
    expect(answers.some((r) => r.type === 'error' && (r as { code?: string }).code === 'rate_limited')).toBe(true);
  });
});

describe('mentions', () => {
  it('counts a mention for a member with the room closed, live and in GET /api/rooms, until read', async () => {
    const a = await connect(alice, 'team');
    const bobElsewhere = await connect(bob, 'other');
    const b = await connect(bob, 'team');
    await b.call({ type: 'leave', room: 'team' });
    // bob is out of the room now: not a member, so not mentioned.
    await a.say('team', 'hey @bob');
    expect((await roomEntry(bob)).mentions).toBe(0);
    // A member with the room closed on every connection.
    await b.join('team');
    await b.close();
    const sent = await a.say('team', 'ping @Bob, and @carol who is not here, and bob@example.com');
    const notice = await bobElsewhere.next('mention');
    expect(notice).toEqual({ type: 'mention', room: 'team', id: sent.id, seq: sent.seq, author: 'alice' });
    expect(await roomEntry(bob)).toMatchObject({ mentions: 1 });
    expect(await roomEntry(carol)).toMatchObject({ joined: false, mentions: 0 });
    expect(await roomEntry(alice)).toMatchObject({ mentions: 0 });
    const again = await connect(bob, 'team');
    await again.call({ type: 'read', room: 'team', seq: sent.seq });
    expect((await roomEntry(bob)).mentions).toBe(0);
  });

  it('@room reaches every member from an owner, and is refused from a plain member', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const c = await connect(carol, 'team');
    expect(await b.call({ type: 'send', room: 'team', text: 'hello @room', clientMsgId: 'm1' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: expect.stringMatching(/mention @room/),
    });
    await a.say('team', 'all hands @room');
    expect(await b.next('mention')).toMatchObject({ room: 'team', author: 'alice' });
    expect(await c.next('mention')).toMatchObject({ room: 'team', author: 'alice' });
    expect((await roomEntry(carol)).mentions).toBe(1);
    expect((await history(alice)).map((m: { text: string }) => m.text)).toEqual(['all hands @room']);
  });

  it('refuses a mention flood and stores nothing', async () => {
    const a = await connect(alice, 'team');
    const names = Array.from({ length: 21 }, (_, i) => `@user${i}`).join(' ');
    expect(await a.call({ type: 'send', room: 'team', text: names, clientMsgId: 'flood' })).toMatchObject({
      type: 'error',
      code: 'invalid_request',
      message: expect.stringMatching(/at most 20 people/),
    });
    expect(await history(alice)).toEqual([]);
  });
});

describe('pins', () => {
  it('owners and moderators pin; the room hears of it; the pins are listed over the socket and REST', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'team');
    const m = await a.say('team', 'the rules');
    expect(await b.call({ type: 'pin', room: 'team', id: m.id, pinned: true })).toMatchObject({ type: 'error', code: 'forbidden' });
    expectError(await api(bob, 'PUT', `/api/rooms/team/messages/${m.id}/pin`), 403, 'forbidden');
    expect(await a.call({ type: 'pin', room: 'team', id: m.id, pinned: true })).toMatchObject({ type: 'message_updated', id: m.id, pinned: true });
    expect(await b.next('message_updated', (u) => u.id === m.id)).toMatchObject({ pinned: true, text: 'the rules' });
    // Pinning it again changes nothing and tells only the asker.
    expect(await a.call({ type: 'pin', room: 'team', id: m.id, pinned: true })).toMatchObject({ type: 'message_updated', pinned: true });
    const pins = await b.call({ type: 'pins', room: 'team' });
    expect(pins).toMatchObject({ type: 'pins', room: 'team', messages: [{ id: m.id, text: 'the rules', pinned: true }] });
    expect((await api(carol, 'GET', '/api/rooms/team/pins')).body.messages.map((p: { id: number }) => p.id)).toEqual([m.id]);
    // A moderator may, too: over REST.
    expect((await api(alice, 'PUT', '/api/rooms/team/members/bob/role', { role: 'moderator' })).status).toBe(204);
    const unpinned = await api(bob, 'DELETE', `/api/rooms/team/messages/${m.id}/pin`);
    expect(unpinned.status).toBe(200);
    expect(unpinned.body.message.pinned).toBeUndefined();
    expect(await a.next('message_updated', (u) => u.id === m.id && !u.pinned)).toMatchObject({ text: 'the rules' });
    expect((await api(carol, 'GET', '/api/rooms/team/pins')).body.messages).toEqual([]);
    expectError(await api(alice, 'PUT', `/api/rooms/team/messages/${m.id + 99}/pin`), 404, 'not_found');
  });

  it('in a direct conversation either side may pin', async () => {
    const room = (await api(alice, 'POST', '/api/conversations', { usernames: ['bob'] })).body.room.id as string;
    const a = await connect(alice, room);
    const b = await connect(bob, room);
    const m = await a.say(room, 'address: 1 Main St');
    expect(await b.call({ type: 'pin', room, id: m.id, pinned: true })).toMatchObject({ type: 'message_updated', pinned: true });
    expectError(await api(carol, 'GET', `/api/rooms/${room}/pins`), 404, 'not_found');
  });
});
