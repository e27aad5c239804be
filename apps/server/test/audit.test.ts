/**
 * The audit log over real HTTP: admin and moderator actions are kept (who,
 * what, target, room, when, from which address — behind a trusted proxy,
 * the client's) and read back newest first, with paging and filters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, build, type TestServer } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { admin, createRoom, expectError, request, signUp } from './helpers/http.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const start = async (env: Record<string, string> = {}) => {
  const s = await build(env);
  servers.push(s);
  return s;
};

describe('the audit log', () => {
  it("keeps admins' and moderators' actions, and only theirs, newest first with paging and filters", async () => {
    const server = await start();
    await createRoom(server, 'general');
    const alice = await signUp(server, 'alice');
    const bob = await signUp(server, 'bob');
    const api = (token: string, method: string, path: string, body?: unknown) =>
      request(server, method, path, { token, ...(body === undefined ? {} : { body }) });
    expect((await api(alice.token, 'POST', '/api/rooms', { id: 'team', title: 'Team' })).status).toBe(201);
    await request(server, 'POST', '/api/rooms/team/kick', { token: alice.token, body: { username: 'bob' } });
    expect((await api(alice.token, 'PATCH', '/api/rooms/team', { topic: 'plans' })).status).toBe(200);
    // A refused attempt is not an action: bob may not ban.
    expectError(await api(bob.token, 'POST', '/api/rooms/team/bans', { username: 'alice' }), 403, 'forbidden');
    expect((await admin(server, 'POST', '/rooms/general/bans', { username: 'bob' })).status).toBe(204);

    const all = await admin(server, 'GET', '/audit');
    expect(all.status).toBe(200);
    const entries = all.body.entries as Array<Record<string, unknown>>;
    expect(entries.map((e) => [e.actor, e.action, e.target, e.room])).toEqual([
      ['ADMIN_TOKEN', 'ban', 'bob', 'general'],
      ['alice', 'update_room', null, 'team'],
      ['alice', 'kick', 'bob', 'team'],
      ['ADMIN_TOKEN', 'create_room', null, 'general'],
    ]);
    expect(entries[1]).toMatchObject({ ip: '127.0.0.1', details: { changes: ['topic'] }, at: expect.any(Number) });

    const page = await admin(server, 'GET', '/audit?limit=2');
    expect(page.body.entries.map((e: { action: string }) => e.action)).toEqual(['ban', 'update_room']);
    const next = await admin(server, 'GET', `/audit?limit=2&before=${page.body.entries[1].id}`);
    expect(next.body.entries.map((e: { action: string }) => e.action)).toEqual(['kick', 'create_room']);
    expect((await admin(server, 'GET', '/audit?actor=alice')).body.entries).toHaveLength(2);
    expect((await admin(server, 'GET', '/audit?room=general&action=ban')).body.entries).toHaveLength(1);
    expect((await admin(server, 'GET', '/audit?action=delete_room')).body.entries).toEqual([]);
    // Bad filters and oversized pages: a clear 400.
    for (const query of ['limit=201', 'limit=0', 'before=-1', 'action=DROP%20TABLE', 'room=Not%20A%20Room']) {
      expectError(await admin(server, 'GET', `/audit?${query}`), 400, 'invalid_request');
    }
    // Only admins read it.
    expectError(await request(server, 'GET', '/api/admin/audit', { token: alice.token }), 403, 'forbidden');
  });

  it("keeps moderators' deletions and pins over the socket too, but not a member's own deletion", async () => {
    const server = await start();
    const alice = await signUp(server, 'alice');
    const bob = await signUp(server, 'bob');
    expect((await request(server, 'POST', '/api/rooms', { token: alice.token, body: { id: 'team', title: 'Team' } })).status).toBe(201);
    const a = await openClient(server, { token: alice.token, name: 'alice' });
    const b = await openClient(server, { token: bob.token, name: 'bob' });
    await a.join('team');
    await b.join('team');
    const own = await b.say('team', 'mine to delete');
    const other = await b.say('team', 'alice deletes this');
    const pinned = await b.say('team', 'pin me');
    expect(await b.call({ type: 'delete', room: 'team', id: own.id })).toMatchObject({ type: 'message_updated', deleted: true });
    expect(await a.call({ type: 'delete', room: 'team', id: other.id })).toMatchObject({ type: 'message_updated', deleted: true });
    expect(await a.call({ type: 'pin', room: 'team', id: pinned.id, pinned: true })).toMatchObject({ type: 'message_updated', pinned: true });
    expect((await request(server, 'DELETE', `/api/rooms/team/messages/${pinned.id}/pin`, { token: alice.token })).status).toBe(200);
    const entries = (await admin(server, 'GET', '/audit?room=team')).body.entries as Array<Record<string, unknown>>;
    expect(entries.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['alice', 'unpin', 'bob'],
      ['alice', 'pin', 'bob'],
      ['alice', 'delete_message', 'bob'],
    ]);
    expect(entries[2]).toMatchObject({ ip: '127.0.0.1', details: { message: other.id } });
    await a.close();
    await b.close();
  });

  it('keeps invitations by moderators: by name, by link (never its token) and revocations', async () => {
    const server = await start();
    const alice = await signUp(server, 'alice');
    await signUp(server, 'bob');
    const api = (method: string, path: string, body?: unknown) =>
      request(server, method, path, { token: alice.token, ...(body === undefined ? {} : { body }) });
    expect((await api('POST', '/api/rooms', { id: 'club', title: 'Club', private: true })).status).toBe(201);
    const invited = await api('POST', '/api/rooms/club/invitations', { username: 'bob' });
    const link = await api('POST', '/api/rooms/club/invite-links', {});
    expect((await api('DELETE', `/api/invitations/${invited.body.invitation.id}`)).status).toBe(204);
    const res = await admin(server, 'GET', '/audit?room=club');
    expect(res.body.entries.map((e: { action: string; target: string | null }) => [e.action, e.target])).toEqual([
      ['revoke_invitation', null],
      ['create_invite_link', null],
      ['invite', 'bob'],
    ]);
    expect(res.text).not.toContain(link.body.token);
  });

  it('records the client address a trusted proxy names, not the proxy', async () => {
    const server = await start({ TRUST_PROXY: '127.0.0.1' });
    await request(server, 'POST', '/api/admin/rooms', {
      token: ADMIN_TOKEN,
      headers: { 'x-forwarded-for': '203.0.113.7' },
      body: { id: 'proxied', title: 'Proxied' },
    });
    const [entry] = (await admin(server, 'GET', '/audit')).body.entries;
    expect(entry).toMatchObject({ action: 'create_room', room: 'proxied', ip: '203.0.113.7' });
  });
});
