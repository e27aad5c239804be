/**
 * Your own account over real HTTP and sockets: changing your password ends
 * your other sessions (their sockets close with 4001), and you list and end
 * your sessions one by one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { PASSWORD, expectError, request, sessionCookie, signUp } from './helpers/http.js';

let server: TestServer;
beforeEach(async () => {
  server = await build();
});
afterEach(async () => {
  await server.close();
});

const login = (password = PASSWORD) => request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password } });
const me = (token: string) => request(server, 'GET', '/api/me', { token });

describe('changing your password', () => {
  it('needs the current one, refuses weak ones, and ends every other session of yours (their sockets too)', async () => {
    const here = await signUp(server, 'alice');
    const elsewhere = (await login()).body.token as string;
    const bob = await signUp(server, 'bob');
    const otherTab = await openClient(server, { token: elsewhere, name: 'other tab' });
    const bobTab = await openClient(server, { token: bob.token, name: 'bob' });
    const change = (currentPassword: string, newPassword: string) =>
      request(server, 'PUT', '/api/me/password', { token: here.token, body: { currentPassword, newPassword } });

    expectError(await change('not my password', 'a-new-long-secret'), 403, 'forbidden');
    expectError(await change(PASSWORD, 'password123'), 400, 'invalid_request');
    expectError(await change(PASSWORD, 'short'), 400, 'invalid_request');
    expect((await me(elsewhere)).status).toBe(200); // nothing changed so far

    expect((await change(PASSWORD, 'a-new-long-secret')).status).toBe(204);
    expect(await otherTab.closed).toEqual({ code: 4001, reason: 'signed out' });
    expectError(await me(elsewhere), 401, 'unauthorized');
    expect((await me(here.token)).status).toBe(200);
    expect((await me(bob.token)).status).toBe(200);
    expectError(await login(), 401, 'unauthorized');
    expect((await login('a-new-long-secret')).status).toBe(200);
    // bob's socket is untouched.
    await bobTab.join('nowhere').catch(() => {});
    expect(bobTab.connection.readyState).toBe(1);
    await bobTab.close();
  });

  it('is not for guests', async () => {
    const guest = await request(server, 'POST', '/api/auth/guest', { body: { username: 'gus' } });
    const res = await request(server, 'PUT', '/api/me/password', { token: guest.body.token, body: { currentPassword: 'x', newPassword: 'a-new-long-secret' } });
    expectError(res, 403, 'forbidden');
  });
});

describe('deleting your account', () => {
  it('needs your password; then you are signed out everywhere and the name is free', async () => {
    const me2 = await signUp(server, 'alice');
    const tab = await openClient(server, { token: me2.token, name: 'alice' });
    expectError(await request(server, 'DELETE', '/api/me', { token: me2.token, body: { password: 'not-it-at-all' } }), 403, 'forbidden');
    expectError(await request(server, 'DELETE', '/api/me', { token: me2.token, body: {} }), 403, 'forbidden');
    expect((await me(me2.token)).status).toBe(200);
    const res = await request(server, 'DELETE', '/api/me', { token: me2.token, body: { password: PASSWORD } });
    expect(res.status).toBe(204);
    expect(await tab.closed).toEqual({ code: 4003, reason: 'account deactivated' });
    expectError(await me(me2.token), 401, 'unauthorized');
    expectError(await login(), 401, 'unauthorized');
    expect((await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } })).status).toBe(201);
  });

  it('a guest deletes theirs without a password', async () => {
    const guest = await request(server, 'POST', '/api/auth/guest', { body: { username: 'gus' } });
    expect((await request(server, 'DELETE', '/api/me', { token: guest.body.token, body: {} })).status).toBe(204);
    expectError(await me(guest.body.token), 401, 'unauthorized');
  });
});

describe('your sessions', () => {
  it('lists them (never their tokens) and ends one, closing its sockets; ending your own signs you out', async () => {
    const first = await signUp(server, 'alice');
    const second = (await login()).body.token as string;
    const bob = await signUp(server, 'bob');
    const listed = await request(server, 'GET', '/api/me/sessions', { token: first.token });
    expect(listed.status).toBe(200);
    const sessions = listed.body.sessions as Array<{ id: string; current: boolean; createdAt: number; expiresAt: number }>;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    for (const s of sessions) {
      expect(s.id).toMatch(/^[0-9a-f]{16}$/);
      expect(s.expiresAt).toBeGreaterThan(s.createdAt);
    }
    expect(listed.text).not.toContain(first.token);
    expect(listed.text).not.toContain(second);

    const other = sessions.find((s) => !s.current)!;
    const tab = await openClient(server, { token: second, name: 'second' });
    // Not bob's to end: his list does not have it.
    expectError(await request(server, 'DELETE', `/api/me/sessions/${other.id}`, { token: bob.token }), 404, 'not_found');
    expectError(await request(server, 'DELETE', '/api/me/sessions/0123456789abcdef', { token: first.token }), 404, 'not_found');
    expectError(await request(server, 'DELETE', '/api/me/sessions/not-an-id', { token: first.token }), 400, 'invalid_request');
    expect((await request(server, 'DELETE', `/api/me/sessions/${other.id}`, { token: first.token })).status).toBe(204);
    expect(await tab.closed).toEqual({ code: 4001, reason: 'signed out' });
    expectError(await me(second), 401, 'unauthorized');

    const current = sessions.find((s) => s.current)!;
    const res = await request(server, 'DELETE', `/api/me/sessions/${current.id}`, { token: first.token });
    expect(res.status).toBe(204);
    expect(sessionCookie(res)).toMatch(/^session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    expectError(await me(first.token), 401, 'unauthorized');
    expect((await me(bob.token)).status).toBe(200);
  });
});
