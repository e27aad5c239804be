/**
 * Web security over real HTTP: the headers on pages and API answers, the
 * refusal of cross-site writes made with the session cookie, password rules
 * and the session cookie's attributes. (HSTS under TLS: operations.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { PASSWORD, expectError, request, sessionCookie, signUp } from './helpers/http.js';

let server: TestServer;
beforeEach(async () => {
  server = await build();
});
afterEach(async () => {
  await server.close();
});

describe('security headers', () => {
  it('are on the page, on API answers (errors included) and on health checks', async () => {
    for (const [path, status] of [
      ['/', 200],
      ['/api/rooms', 401],
      ['/healthz', 200],
      ['/api/nothing-here', 404],
    ] as const) {
      const res = await request(server, 'GET', path);
      expect(res.status, path).toBe(status);
      const h = res.headers;
      expect(h.get('x-content-type-options'), path).toBe('nosniff');
      expect(h.get('x-frame-options'), path).toBe('DENY');
      expect(h.get('referrer-policy'), path).toBe('same-origin');
      const csp = h.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/default-src 'self'/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval/);
      // Plain HTTP: no HSTS (a proxy that terminates TLS sets its own).
      expect(h.get('strict-transport-security'), path).toBeNull();
    }
  });
});

describe('cross-site writes with the session cookie', () => {
  it('are refused from a foreign origin or with no origin at all; ours, ALLOWED_ORIGINS and Bearer pass', async () => {
    const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    const cookie = sessionCookie(res)!;
    const create = (headers: Record<string, string>, id: string) =>
      request(server, 'POST', '/api/rooms', { cookie, headers, body: { id, title: id } });

    expectError(await create({ origin: 'https://evil.example' }, 'evil'), 403, 'forbidden');
    expectError(await create({ referer: 'https://evil.example/page' }, 'evil2'), 403, 'forbidden');
    expectError(await create({}, 'bare'), 403, 'forbidden');
    expect((await request(server, 'GET', '/api/rooms', { cookie })).body.rooms).toEqual([]);
    // Our own origin, by Origin or by Referer.
    expect((await create({ origin: server.url }, 'ours')).status).toBe(201);
    expect((await create({ referer: `${server.url}/?room=x` }, 'ours2')).status).toBe(201);
    // A Bearer client sends no Origin: not a browser, not affected.
    expect((await request(server, 'POST', '/api/rooms', { token: res.body.token, body: { id: 'api', title: 'api' } })).status).toBe(201);
    // Reads are not writes.
    expect((await request(server, 'GET', '/api/rooms', { cookie, headers: { origin: 'https://evil.example' } })).status).toBe(200);
    // Signing out is a write too.
    expectError(await request(server, 'POST', '/api/auth/logout', { cookie, headers: { origin: 'https://evil.example' } }), 403, 'forbidden');
    expect((await request(server, 'GET', '/api/rooms', { cookie })).status).toBe(200);
  });

  it('follow ALLOWED_ORIGINS when it is set', async () => {
    const other = await build({ ALLOWED_ORIGINS: 'https://chat.example.org' });
    try {
      const cookie = sessionCookie(await request(other, 'POST', '/api/auth/guest', { body: { username: 'gina' } }))!;
      const create = (origin: string, id: string) => request(other, 'POST', '/api/rooms', { cookie, headers: { origin }, body: { id, title: id } });
      expect((await create('https://chat.example.org', 'allowed')).status).toBe(201);
      expectError(await create(other.url, 'not-listed'), 403, 'forbidden');
    } finally {
      await other.close();
    }
  });
});

describe('passwords and sessions', () => {
  it('refuses one of the most common passwords, in any case, and stores nothing', async () => {
    for (const password of ['password123', 'Password123', 'QWERTYUIOP', '12345678']) {
      const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'bob', password } });
      expectError(res, 400, 'invalid_request');
      expect(res.body.error.message).toMatch(/most common/);
    }
    expectError(await request(server, 'POST', '/api/auth/register', { body: { username: 'bob', password: 'short' } }), 400, 'invalid_request');
    expect((await request(server, 'POST', '/api/auth/register', { body: { username: 'bob', password: PASSWORD } })).status).toBe(201);
  });

  it('sets an HttpOnly, SameSite cookie and a new session at every sign-in (no fixation)', async () => {
    const first = await signUp(server, 'carol');
    const login = () => request(server, 'POST', '/api/auth/login', { body: { username: 'carol', password: PASSWORD } });
    const a = await login();
    // A sign-in carrying someone's planted cookie still gets a session of its own.
    const b = await request(server, 'POST', '/api/auth/login', {
      cookie: `session=${a.body.token}`,
      headers: { origin: server.url },
      body: { username: 'carol', password: PASSWORD },
    });
    const tokens = [first.token, a.body.token, b.body.token];
    expect(new Set(tokens).size).toBe(3);
    const setCookie = b.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^session=${b.body.token};`));
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Lax/i);
    expect(setCookie).toMatch(/; Path=\//i);
    expect(setCookie).not.toMatch(/; Secure/i); // plain HTTP; under TLS it is Secure (operations.test.ts)
  });
});
