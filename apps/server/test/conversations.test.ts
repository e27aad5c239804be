/**
 * Roles, direct conversations and invitations, end to end: real HTTP, real
 * sockets, the real store (SQLite, or PostgreSQL in the server-postgres
 * project). The rules themselves are tabled in chat/access.test.ts; this
 * checks that REST and the socket ask them, write, and tell who must know.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await server.close();
});

const { api, connect } = actingAs(() => server, clients);

/** alice owns the private room `team`; bob is in it by invitation. */
async function teamWithBob(): Promise<void> {
  expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team', private: true })).status).toBe(201);
  const invited = await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'bob' });
  expect(invited.status, invited.text).toBe(201);
  expect((await api(bob, 'POST', `/api/invitations/${invited.body.invitation.id}/accept`)).status).toBe(204);
}

describe('direct conversations', () => {
  it('opens a 1:1 by username, the same one from either side, hidden from everyone else', async () => {
    const bobLive = await connect(bob);
    const opened = await api(alice, 'POST', '/api/conversations', { usernames: ['bob'] });
    expect(opened.status, opened.text).toBe(201);
    const room = opened.body.room;
    expect(room).toMatchObject({ kind: 'direct', private: true, joined: true, members: ['alice', 'bob'], role: 'member' });
    expect(room.id).toMatch(/^dm-[0-9a-f]{16}$/);
    // bob hears of it at once, and finds it in his list.
    const added = await bobLive.next('room_added');
    expect(added.room).toMatchObject({ id: room.id, kind: 'direct', members: ['alice', 'bob'] });
    expect((await api(bob, 'GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id)).toContain(room.id);
    // Again, from either side: the same conversation, 200.
    const again = await api(bob, 'POST', '/api/conversations', { usernames: ['ALICE'] });
    expect(again.status).toBe(200);
    expect(again.body.room.id).toBe(room.id);
    // carol can neither list, read, nor join it: to her it does not exist.
    expect((await api(carol, 'GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id)).not.toContain(room.id);
    expectError(await api(carol, 'GET', `/api/rooms/${room.id}/messages`), 404, 'not_found');
    const carolLive = await connect(carol);
    expect(await carolLive.call({ type: 'join', room: room.id })).toMatchObject({ type: 'error', code: 'not_found' });
  });

  it('carries messages with every room guarantee: ack after commit, idempotent resend, history, edit, delete', async () => {
    const room = (await api(alice, 'POST', '/api/conversations', { usernames: ['bob'] })).body.room.id as string;
    const a = await connect(alice);
    const b = await connect(bob);
    await a.join(room);
    await b.join(room);
    const sent = await a.say(room, 'hi bob', 'dm-1');
    expect(await b.next('message', (m) => m.id === sent.id)).toMatchObject({ text: 'hi bob', seq: 1 });
    // The same clientMsgId again is the same message.
    const resent = await a.say(room, 'hi bob', 'dm-1');
    expect(resent.id).toBe(sent.id);
    expect((await api(bob, 'GET', `/api/rooms/${room}/messages`)).body.messages.map((m: { text: string }) => m.text)).toEqual(['hi bob']);
    expect(await a.call({ type: 'edit', room, id: sent.id, text: 'hi Bob' })).toMatchObject({ type: 'message_updated', text: 'hi Bob' });
    // bob may not delete alice's message: a direct conversation has no moderators.
    expect(await b.call({ type: 'delete', room, id: sent.id })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await a.call({ type: 'delete', room, id: sent.id })).toMatchObject({ type: 'message_updated', deleted: true });
  });

  it('opens group conversations of up to ten, and refuses bad requests changing nothing', async () => {
    const group = await api(alice, 'POST', '/api/conversations', { usernames: ['bob', 'carol'] });
    expect(group.status).toBe(201);
    expect(group.body.room.members).toEqual(['alice', 'bob', 'carol']);
    // A group is new each time.
    const second = await api(alice, 'POST', '/api/conversations', { usernames: ['bob', 'carol'] });
    expect(second.body.room.id).not.toBe(group.body.room.id);
    const before = (await api(alice, 'GET', '/api/rooms')).body.rooms.length;
    expectError(await api(alice, 'POST', '/api/conversations', { usernames: ['alice'] }), 400, 'invalid_request');
    expectError(await api(alice, 'POST', '/api/conversations', { usernames: ['nobody'] }), 404, 'not_found');
    expectError(await api(alice, 'POST', '/api/conversations', { usernames: [] }), 400, 'invalid_request');
    const many = Array.from({ length: 10 }, (_, i) => `user${i}`);
    expectError(await api(alice, 'POST', '/api/conversations', { usernames: many }), 400, 'invalid_request');
    expect((await api(alice, 'GET', '/api/rooms')).body.rooms.length).toBe(before);
    // Its id prefix is the server's: nobody makes a room that looks like one.
    expectError(await api(alice, 'POST', '/api/rooms', { id: 'dm-0123', title: 'fake' }), 400, 'invalid_request');
    // And nobody can turn one public.
    expectError(await api(alice, 'PATCH', `/api/rooms/${group.body.room.id}`, { private: false }), 403, 'forbidden');
  });
});

describe('invitations', () => {
  it('invites by username: the invitee sees it live and in REST, accepts, and is a member who can join', async () => {
    expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team', private: true })).status).toBe(201);
    expectError(await api(bob, 'GET', '/api/rooms/team/messages'), 403, 'forbidden');
    const bobLive = await connect(bob);
    const invited = await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'bob' });
    expect(invited.body.invitation).toMatchObject({ room: 'team', roomTitle: 'Team', invitedBy: 'alice', username: 'bob', state: 'pending', link: false });
    expect((await bobLive.next('invitation')).invitation.id).toBe(invited.body.invitation.id);
    expect((await api(bob, 'GET', '/api/invitations')).body.invitations.map((i: { id: number }) => i.id)).toEqual([invited.body.invitation.id]);
    // Only bob answers it; to carol it does not exist.
    expectError(await api(carol, 'POST', `/api/invitations/${invited.body.invitation.id}/accept`), 404, 'not_found');
    expect((await api(bob, 'POST', `/api/invitations/${invited.body.invitation.id}/accept`)).status).toBe(204);
    expect(await bobLive.next('invitation_removed')).toMatchObject({ id: invited.body.invitation.id, reason: 'accepted' });
    // Accepted once is answered: again is a conflict.
    expectError(await api(bob, 'POST', `/api/invitations/${invited.body.invitation.id}/accept`), 409, 'conflict');
    expect((await bobLive.join('team')).room).toBe('team');
    expect((await api(bob, 'GET', '/api/rooms')).body.rooms.find((r: { id: string }) => r.id === 'team')).toMatchObject({ joined: true, role: 'member' });
  });

  it('refuses to invite nobody, a member, or someone banned, and lets members without a role invite no one', async () => {
    await teamWithBob();
    expectError(await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'nobody' }), 404, 'not_found');
    expectError(await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'bob' }), 409, 'conflict');
    expectError(await api(bob, 'POST', '/api/rooms/team/invitations', { username: 'carol' }), 403, 'forbidden');
    expect((await api(alice, 'POST', '/api/rooms/team/bans', { username: 'carol' })).status).toBe(204);
    expectError(await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'carol' }), 403, 'forbidden');
  });

  it('declines and revokes: a revoked invitation cannot be accepted, and says so', async () => {
    expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team', private: true })).status).toBe(201);
    const first = (await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'bob' })).body.invitation;
    expect((await api(bob, 'POST', `/api/invitations/${first.id}/decline`)).status).toBe(204);
    const second = (await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'bob' })).body.invitation;
    const bobLive = await connect(bob);
    // bob cannot revoke alice's invitation of him; alice can.
    expectError(await api(bob, 'DELETE', `/api/invitations/${second.id}`), 403, 'forbidden');
    expect((await api(alice, 'DELETE', `/api/invitations/${second.id}`)).status).toBe(204);
    expect(await bobLive.next('invitation_removed')).toMatchObject({ id: second.id, reason: 'revoked' });
    const refused = await api(bob, 'POST', `/api/invitations/${second.id}/accept`);
    expectError(refused, 409, 'conflict');
    expect(refused.body.error.message).toMatch(/revoked/);
    expect((await api(bob, 'GET', '/api/rooms')).body.rooms.map((r: { id: string }) => r.id)).not.toContain('team');
  });

  it('lets people in by a link as often as its uses allow; a spent link says so', async () => {
    expect((await api(alice, 'POST', '/api/rooms', { id: 'team', title: 'Team', private: true })).status).toBe(201);
    const link = await api(alice, 'POST', '/api/rooms/team/invite-links', { uses: 1, expiresInSeconds: 3600 });
    expect(link.status, link.text).toBe(201);
    expect(link.body.invitation).toMatchObject({ link: true, usesLeft: 1, username: null });
    expect(link.body.invitation.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    const token = link.body.token as string;
    expect((await api(bob, 'POST', `/api/invite-links/${token}/redeem`)).body).toEqual({ room: 'team' });
    // A member again uses nothing up.
    expect((await api(bob, 'POST', `/api/invite-links/${token}/redeem`)).status).toBe(200);
    const spent = await api(carol, 'POST', `/api/invite-links/${token}/redeem`);
    expectError(spent, 409, 'conflict');
    expect(spent.body.error.message).toMatch(/used up/);
    expectError(await api(carol, 'POST', `/api/invite-links/${'x'.repeat(32)}/redeem`), 404, 'not_found');
    expectError(await api(alice, 'POST', '/api/rooms/team/invite-links', { uses: 0 }), 400, 'invalid_request');
    // The room lists its pending invitations to those who may invite, only.
    expect((await api(alice, 'GET', '/api/rooms/team/invitations')).status).toBe(200);
    expectError(await api(bob, 'GET', '/api/rooms/team/invitations'), 403, 'forbidden');
  });
});

describe('room roles', () => {
  it('lets the owner make a moderator, who then moderates, live on the socket too', async () => {
    await teamWithBob();
    expect((await api(alice, 'POST', '/api/rooms/team/invitations', { username: 'carol' })).status).toBe(201);
    const inv = (await api(carol, 'GET', '/api/invitations')).body.invitations[0];
    expect((await api(carol, 'POST', `/api/invitations/${inv.id}/accept`)).status).toBe(204);
    const carolLive = await connect(carol);
    await carolLive.join('team');
    const carolSaid = await carolLive.say('team', 'spam');
    const bobLive = await connect(bob);
    await bobLive.join('team');
    // Before: bob may not delete carol's message (REST and socket alike).
    expectError(await api(bob, 'DELETE', `/api/rooms/team/messages/${carolSaid.id}`), 403, 'forbidden');
    expect(await bobLive.call({ type: 'delete', room: 'team', id: carolSaid.id })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect((await api(alice, 'PUT', '/api/rooms/team/members/bob/role', { role: 'moderator' })).status).toBe(204);
    expect(await carolLive.next('role')).toEqual({ type: 'role', room: 'team', user: 'bob', role: 'moderator' });
    // After: he may, over the socket, and edit the topic, and kick carol.
    expect(await bobLive.call({ type: 'delete', room: 'team', id: carolSaid.id })).toMatchObject({ type: 'message_updated', deleted: true });
    expect((await api(bob, 'PATCH', '/api/rooms/team', { topic: 'moderated' })).status).toBe(200);
    expect((await api(bob, 'POST', '/api/rooms/team/kick', { username: 'carol' })).status).toBe(204);
    expect(await carolLive.next('room', (m) => m.event === 'kicked')).toMatchObject({ room: 'team' });
    const members = (await api(alice, 'GET', '/api/rooms/team/members')).body.members;
    expect(members.map((m: { username: string; role: string }) => [m.username, m.role])).toEqual([
      ['alice', 'owner'],
      ['bob', 'moderator'],
    ]);
  });

  it('refuses escalation: a member promoting themself, a moderator acting on the owner or on another moderator', async () => {
    await teamWithBob();
    expectError(await api(bob, 'PUT', '/api/rooms/team/members/bob/role', { role: 'moderator' }), 403, 'forbidden');
    expectError(await api(bob, 'POST', '/api/rooms/team/owner', { username: 'bob' }), 403, 'forbidden');
    expect((await api(alice, 'PUT', '/api/rooms/team/members/bob/role', { role: 'moderator' })).status).toBe(204);
    expectError(await api(bob, 'PUT', '/api/rooms/team/members/alice/role', { role: 'member' }), 403, 'forbidden');
    expectError(await api(bob, 'POST', '/api/rooms/team/kick', { username: 'alice' }), 403, 'forbidden');
    expectError(await api(bob, 'POST', '/api/rooms/team/bans', { username: 'alice' }), 403, 'forbidden');
    expectError(await api(bob, 'DELETE', '/api/rooms/team'), 403, 'forbidden');
    expectError(await api(bob, 'PATCH', '/api/rooms/team', { archived: true }), 403, 'forbidden');
    // The owner keeps the role until handing it on; 'owner' is not a role one sets.
    expectError(await api(alice, 'PUT', '/api/rooms/team/members/alice/role', { role: 'member' }), 403, 'forbidden');
    expectError(await api(alice, 'PUT', '/api/rooms/team/members/bob/role', { role: 'owner' }), 400, 'invalid_request');
    expectError(await api(alice, 'PUT', '/api/rooms/team/members/carol/role', { role: 'moderator' }), 404, 'not_found');
    const members = (await api(alice, 'GET', '/api/rooms/team/members')).body.members;
    expect(members.map((m: { role: string }) => m.role)).toEqual(['owner', 'moderator']);
  });

  it('transfers ownership: the old owner stays a moderator, the new one may do what owners do', async () => {
    await teamWithBob();
    const aliceLive = await connect(alice);
    await aliceLive.join('team');
    expect((await api(alice, 'POST', '/api/rooms/team/owner', { username: 'bob' })).status).toBe(204);
    expect(await aliceLive.next('role', (m) => m.user === 'bob')).toMatchObject({ role: 'owner' });
    expect(await aliceLive.next('role', (m) => m.user === 'alice')).toMatchObject({ role: 'moderator' });
    expectError(await api(alice, 'PATCH', '/api/rooms/team', { archived: true }), 403, 'forbidden');
    expect((await api(bob, 'PATCH', '/api/rooms/team', { archived: true })).status).toBe(200);
    expect((await api(bob, 'PUT', '/api/rooms/team/members/alice/role', { role: 'member' })).status).toBe(204);
    expect((await api(bob, 'DELETE', '/api/rooms/team')).status).toBe(204);
  });
});
