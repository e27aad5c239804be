/**
 * The admin's user management over real HTTP and sockets: search with
 * paging, one account's rooms and sessions, deactivation (sessions end,
 * sockets close 4003, no sign-in) and reactivation, password resets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { PASSWORD, admin, createRoom, expectError, request, signUp } from './helpers/http.js';

let server: TestServer;
beforeEach(async () => {
  server = await build();
});
afterEach(async () => {
  await server.close();
});

const names = (res: { body: { users: Array<{ username: string }> } }) => res.body.users.map((u) => u.username);

describe('listing and viewing accounts', () => {
  it('searches by part of the name in any case, pages by name, filters guests; refuses oversized pages', async () => {
    for (const n of ['anna', 'Annabel', 'bob', 'hannah']) await signUp(server, n);
    await request(server, 'POST', '/api/auth/guest', { body: { username: 'guest-ann' } });
    expect(names(await admin(server, 'GET', '/users'))).toEqual(['anna', 'Annabel', 'bob', 'guest-ann', 'hannah']);
    expect(names(await admin(server, 'GET', '/users?query=ANN'))).toEqual(['anna', 'Annabel', 'guest-ann', 'hannah']);
    expect(names(await admin(server, 'GET', '/users?query=ann&guests=false&limit=2'))).toEqual(['anna', 'Annabel']);
    expect(names(await admin(server, 'GET', '/users?query=ann&guests=false&limit=2&after=Annabel'))).toEqual(['hannah']);
    expect(names(await admin(server, 'GET', '/users?guests=true'))).toEqual(['guest-ann']);
    const [first] = (await admin(server, 'GET', '/users?query=bob')).body.users;
    expect(first).toEqual({ id: expect.any(Number), username: 'bob', guest: false, admin: false, createdAt: expect.any(Number), lastSeenAt: expect.any(Number), deactivated: false });
    expectError(await admin(server, 'GET', '/users?limit=101'), 400, 'invalid_request');
    expectError(await admin(server, 'GET', '/users?guests=maybe'), 400, 'invalid_request');
    expectError(await admin(server, 'GET', `/users?query=${'x'.repeat(33)}`), 400, 'invalid_request');
  });

  it('shows one account with its rooms and sessions; 404 for nobody', async () => {
    await createRoom(server, 'general');
    const carol = await signUp(server, 'carol');
    await request(server, 'POST', '/api/rooms', { token: carol.token, body: { id: 'carols', title: 'Carol’s' } });
    const c = await openClient(server, { token: carol.token, name: 'carol' });
    await c.join('general');
    const res = await admin(server, 'GET', '/users/CAROL');
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: 'carol', deactivated: false });
    expect(res.body.rooms).toEqual([
      { id: 'carols', kind: 'room', role: 'owner' },
      { id: 'general', kind: 'room', role: 'member' },
    ]);
    expect(res.body.sessions).toHaveLength(1);
    expect(res.text).not.toContain(carol.token);
    expectError(await admin(server, 'GET', '/users/nobody'), 404, 'not_found');
    await c.close();
  });
});

describe('deactivation', () => {
  it('ends the sessions, closes the sockets with 4003, refuses sign-in; reactivation lets the account sign in again', async () => {
    const dave = await signUp(server, 'dave');
    const other = await signUp(server, 'other');
    const tab = await openClient(server, { token: dave.token, name: 'dave' });
    const otherTab = await openClient(server, { token: other.token, name: 'other' });
    expect((await admin(server, 'POST', '/users/dave/deactivate')).status).toBe(204);
    expect(await tab.closed).toEqual({ code: 4003, reason: 'account deactivated' });
    expectError(await request(server, 'GET', '/api/me', { token: dave.token }), 401, 'unauthorized');
    const login = () => request(server, 'POST', '/api/auth/login', { body: { username: 'dave', password: PASSWORD } });
    const refused = await login();
    expectError(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(/deactivated/);
    // A wrong password says only that.
    expectError(await request(server, 'POST', '/api/auth/login', { body: { username: 'dave', password: 'wrong-wrong-wrong' } }), 401, 'unauthorized');
    expect((await admin(server, 'GET', '/users/dave')).body.user.deactivated).toBe(true);
    expect(otherTab.connection.readyState).toBe(1);
    // Again: no error, nothing more to do.
    expect((await admin(server, 'POST', '/users/dave/deactivate')).status).toBe(204);

    expect((await admin(server, 'POST', '/users/dave/reactivate')).status).toBe(204);
    // The old session stays ended; a new sign-in works.
    expectError(await request(server, 'GET', '/api/me', { token: dave.token }), 401, 'unauthorized');
    expect((await login()).status).toBe(200);
    await otherTab.close();
  });

  it('refuses an admin deactivating themself or another admin, and unknown accounts; nothing changes', async () => {
    const erin = await signUp(server, 'erin');
    await signUp(server, 'fay');
    expect((await admin(server, 'PUT', '/users/erin/role', { role: 'admin' })).status).toBe(204);
    expect((await admin(server, 'PUT', '/users/fay/role', { role: 'admin' })).status).toBe(204);
    expectError(await request(server, 'POST', '/api/admin/users/erin/deactivate', { token: erin.token }), 400, 'invalid_request');
    expectError(await request(server, 'POST', '/api/admin/users/fay/deactivate', { token: erin.token }), 409, 'conflict');
    expectError(await admin(server, 'POST', '/users/nobody/deactivate'), 404, 'not_found');
    expect((await request(server, 'GET', '/api/me', { token: erin.token })).status).toBe(200);
    expect(names(await admin(server, 'GET', '/users?query=fay'))).toEqual(['fay']);
    expect((await admin(server, 'GET', '/users/fay')).body.user.deactivated).toBe(false);
  });
});

describe('deleting accounts', () => {
  it('keeps their messages under deleted-<id>, frees the name, ends sessions and sockets; admins and unknowns refused', async () => {
    await createRoom(server, 'general');
    const ivan = await signUp(server, 'ivan');
    const reader = await signUp(server, 'reader');
    const tab = await openClient(server, { token: ivan.token, name: 'ivan' });
    await tab.join('general');
    await tab.say('general', 'remember me');
    const id = (await admin(server, 'GET', '/users/ivan')).body.user.id as number;
    expect((await admin(server, 'DELETE', '/users/ivan')).status).toBe(204);
    expect(await tab.closed).toEqual({ code: 4003, reason: 'account deactivated' });
    expectError(await request(server, 'GET', '/api/me', { token: ivan.token }), 401, 'unauthorized');
    const history = (await request(server, 'GET', '/api/rooms/general/messages', { token: reader.token })).body.messages;
    expect(history.map((m: { author: string; text: string }) => [m.author, m.text])).toEqual([[`deleted-${id}`, 'remember me']]);
    expectError(await admin(server, 'GET', '/users/ivan'), 404, 'not_found');
    expect((await admin(server, 'GET', `/users/deleted-${id}`)).body).toMatchObject({ user: { deactivated: true }, rooms: [], sessions: [] });
    // The name is free again; the tombstone's is not for anyone.
    expect((await request(server, 'POST', '/api/auth/register', { body: { username: 'ivan', password: PASSWORD } })).status).toBe(201);
    expectError(await request(server, 'POST', '/api/auth/register', { body: { username: 'Deleted-99', password: PASSWORD } }), 400, 'invalid_request');
    // Refusals change nothing.
    expect((await admin(server, 'PUT', '/users/reader/role', { role: 'admin' })).status).toBe(204);
    expectError(await admin(server, 'DELETE', '/users/reader'), 409, 'conflict');
    expectError(await request(server, 'DELETE', '/api/admin/users/reader', { token: reader.token }), 400, 'invalid_request');
    expectError(await admin(server, 'DELETE', '/users/nobody'), 404, 'not_found');
    expect((await request(server, 'GET', '/api/me', { token: reader.token })).status).toBe(200);
  });

  it('purges guests not seen for the given days, and no one else', async () => {
    const old = await request(server, 'POST', '/api/auth/guest', { body: { username: 'old-guest' } });
    await request(server, 'POST', '/api/auth/guest', { body: { username: 'new-guest' } });
    await signUp(server, 'old-account');
    const longAgo = Date.now() - 40 * 24 * 3600 * 1000;
    await server.app.store.touchUser(old.body.user.id, longAgo);
    await server.app.store.touchUser((await server.app.store.findUserByName('old-account'))!.id, longAgo);
    const res = await admin(server, 'POST', '/guests/purge', { inactiveDays: 30 });
    expect(res.body).toEqual({ purged: 1 });
    expect(names(await admin(server, 'GET', '/users?guests=true'))).toEqual([`deleted-${old.body.user.id}`, 'new-guest']);
    expectError(await request(server, 'GET', '/api/me', { token: old.body.token }), 401, 'unauthorized');
    expect((await admin(server, 'GET', '/users/old-account')).status).toBe(200);
    expectError(await admin(server, 'POST', '/guests/purge', { inactiveDays: 0 }), 400, 'invalid_request');
    expect((await admin(server, 'POST', '/guests/purge', { inactiveDays: 30 })).body).toEqual({ purged: 0 });
  });
});

describe('live figures', () => {
  it('counts this node’s connections and stored messages, as /metrics does', async () => {
    await createRoom(server, 'general');
    const hal = await signUp(server, 'hal');
    const before = (await admin(server, 'GET', '/stats')).body;
    expect(before).toMatchObject({ node: expect.any(String), connections: 0, messagesStored: 0 });
    const tab = await openClient(server, { token: hal.token, name: 'hal' });
    await tab.join('general');
    await tab.say('general', 'one');
    await tab.say('general', 'two');
    const after = (await admin(server, 'GET', '/stats')).body;
    expect(after).toMatchObject({ connections: 1, messagesStored: 2 });
    expect(after.messagesIn).toBeGreaterThanOrEqual(3);
    expect(after.uptimeSeconds).toBeGreaterThan(0);
    expectError(await request(server, 'GET', '/api/admin/stats', { token: hal.token }), 403, 'forbidden');
    await tab.close();
  });
});

describe('password resets', () => {
  it('set a new password and end every session; common passwords and guests are refused', async () => {
    const gina = await signUp(server, 'gina');
    const tab = await openClient(server, { token: gina.token, name: 'gina' });
    expectError(await admin(server, 'PUT', '/users/gina/password', { password: 'password123' }), 400, 'invalid_request');
    expect((await admin(server, 'PUT', '/users/gina/password', { password: 'a-fresh-long-one' })).status).toBe(204);
    expect(await tab.closed).toEqual({ code: 4001, reason: 'signed out' });
    expectError(await request(server, 'GET', '/api/me', { token: gina.token }), 401, 'unauthorized');
    expect((await request(server, 'POST', '/api/auth/login', { body: { username: 'gina', password: 'a-fresh-long-one' } })).status).toBe(200);
    await request(server, 'POST', '/api/auth/guest', { body: { username: 'guest-g' } });
    expectError(await admin(server, 'PUT', '/users/guest-g/password', { password: 'a-fresh-long-one' }), 400, 'invalid_request');
  });
});
