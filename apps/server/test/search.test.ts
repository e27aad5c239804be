/**
 * Full-text search end to end: real HTTP, real sockets, the real store
 * (SQLite here, PostgreSQL in the server-postgres project). Only what the
 * caller may read is found; bad searches are refused with their error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { actingAs } from './helpers/acting-as.js';
import type { ChatClient } from './helpers/chat-client.js';
import { expectError, request, signUp, type SignedIn } from './helpers/http.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
let carol: SignedIn;
const clients: ChatClient[] = [];
beforeEach(async () => {
  server = await build();
  [alice, bob, carol] = [await signUp(server, 'alice'), await signUp(server, 'bob'), await signUp(server, 'carol')];
  expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team' })).status).toBe(201);
  expect((await api(bob, 'POST', '/api/rooms', { id: 'hideout', title: 'Hideout', private: true })).status).toBe(201);
  expect((await api(bob, 'POST', '/api/rooms', { id: 'lobby', title: 'Lobby' })).status).toBe(201);
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await server.close();
});

const { api, connect } = actingAs(() => server, clients);
const search = (who: SignedIn, params: Record<string, string | number>) =>
  api(who, 'GET', `/api/search?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`);
const found = async (who: SignedIn, q: string, extra: Record<string, string | number> = {}) => {
  const res = await search(who, { q, ...extra });
  expect(res.status, res.text).toBe(200);
  return res.body.results.map((r: { text: string }) => r.text) as string[];
};

describe('search', () => {
  it('finds words, prefixes, phrases and any accent or case, newest first, with a snippet that marks the match', async () => {
    const a = await connect(alice, 'team');
    await a.say('team', 'The deployment of v2 is done');
    await a.say('team', 'deploy the app at noon');
    await a.say('team', 'Le CAFÉ est fermé, naïve question');
    await a.say('team', '東京の天気は晴れ');
    expect(await found(alice, 'deplo')).toEqual(['deploy the app at noon', 'The deployment of v2 is done']);
    expect(await found(alice, '"deploy"')).toEqual(['deploy the app at noon']);
    expect(await found(alice, '"the app"')).toEqual(['deploy the app at noon']);
    expect(await found(alice, '"app the"')).toEqual([]);
    expect(await found(alice, 'cafe NAIVE')).toEqual(['Le CAFÉ est fermé, naïve question']);
    expect(await found(alice, '東京')).toEqual(['東京の天気は晴れ']);
    const res = await search(alice, { q: 'deplo noon' });
    expect(res.body).toEqual({
      results: [
        {
          room: 'team',
          id: expect.any(Number),
          seq: 2,
          author: 'alice',
          text: 'deploy the app at noon',
          ts: expect.any(Number),
          snippet: 'deploy the app at noon',
          highlights: [
            [0, 6],
            [18, 22],
          ],
        },
      ],
      nextBefore: null,
    });
  });

  it('finds only what the caller may read: their rooms and conversations, never others’ private rooms or DMs, never deleted text', async () => {
    const a = await connect(alice, 'team');
    const b = await connect(bob, 'hideout', 'lobby');
    await a.say('team', 'launch plan for the team');
    await b.say('hideout', 'launch plan, secret');
    await b.say('lobby', 'launch party in the lobby');
    const dm = (await api(bob, 'POST', '/api/conversations', { usernames: ['carol'] })).body.room.id as string;
    await b.join(dm);
    await b.say(dm, 'launch codes for carol only');
    const gone = await a.say('team', 'launch the deleted one');
    await a.call({ type: 'delete', room: 'team', id: gone.id });

    expect(await found(alice, 'launch')).toEqual(['launch plan for the team']);
    expect(await found(carol, 'launch')).toEqual(['launch codes for carol only']);
    expect(await found(bob, 'launch')).toEqual(['launch codes for carol only', 'launch party in the lobby', 'launch plan, secret']);
    // One room: a public room alice has not joined may be read; a private room or a DM of others is
    // refused as their history is (the same rule, chat/access.ts), a room that is not there is not found.
    expect(await found(alice, 'launch', { room: 'lobby' })).toEqual(['launch party in the lobby']);
    // (Others' direct conversations are not said to exist.)
    for (const [room, status, code] of [['hideout', 403, 'forbidden'], [dm, 404, 'not_found']] as const) {
      expectError(await api(alice, 'GET', `/api/rooms/${room}/messages`), status, code);
      expectError(await search(alice, { q: 'launch', room }), status, code);
    }
    expectError(await search(alice, { q: 'launch', room: 'nowhere' }), 404, 'not_found');
  });

  it('follows edits and pages with nextBefore', async () => {
    const a = await connect(alice, 'team');
    const first = await a.say('team', 'typo in the first');
    for (let i = 0; i < 5; i++) await a.say('team', `page item ${i}`);
    await a.call({ type: 'edit', room: 'team', id: first.id, text: 'fixed in the first' });
    expect(await found(alice, 'typo')).toEqual([]);
    expect(await found(alice, 'fixed')).toEqual(['fixed in the first']);
    const seen: string[] = [];
    let before: number | null | undefined;
    do {
      const res = await search(alice, { q: 'page', limit: 2, ...(before ? { before } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.results.map((r: { text: string }) => r.text));
      before = res.body.nextBefore;
    } while (before);
    expect(seen).toEqual([4, 3, 2, 1, 0].map((i) => `page item ${i}`));
  });

  it('refuses bad searches with a clear error, and strangers with 401', async () => {
    for (const q of ['', '!!!', '""', 'x'.repeat(201)]) expectError(await search(alice, { q }), 400, 'invalid_request');
    expectError(await search(alice, { q: 'a', limit: 101 }), 400, 'invalid_request');
    expectError(await search(alice, { q: 'a', before: -1 }), 400, 'invalid_request');
    expectError(await api(alice, 'GET', '/api/search'), 400, 'invalid_request');
    expectError(await request(server, 'GET', '/api/search?q=hello'), 401, 'unauthorized');
    // Syntax of either store's query language is only words here.
    expect(await found(alice, `" OR NEAR(x) ' & !b:* \\`)).toEqual([]);
  });

  it('limits how fast one user searches', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 30; i++) codes.push((await search(alice, { q: `word${i}` })).status);
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(20);
    expect(codes).toContain(429);
    // Another user still may.
    expect((await search(bob, { q: 'word' })).status).toBe(200);
  });
});
