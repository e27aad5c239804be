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

const userShape = (username: string, guest: boolean) => ({ id: expect.any(Number), username, guest, admin: false });

describe('POST /api/auth/register', () => {
  it('creates an account and answers 201 with the user and a session token', async () => {
    const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ user: userShape('alice', false), token: expect.any(String) });
    expect(res.body.token.length).toBeGreaterThan(0);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax with the same token', async () => {
    const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie!.split(';')[0]).toBe(`session=${res.body.token}`);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
  });

  it('refuses a username taken in another case with 409 conflict', async () => {
    await signUp(server, 'Alice');
    const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'aLICE', password: PASSWORD } });
    expectError(res, 409, 'conflict');
  });

  it.each([
    ['too short', 'a'],
    ['too long', 'a'.repeat(33)],
    ['with a space', 'al ice'],
    ['with a slash', 'al/ice'],
  ])('refuses a username %s with 400', async (_why, username) => {
    const res = await request(server, 'POST', '/api/auth/register', { body: { username, password: PASSWORD } });
    expectError(res, 400, 'invalid_request');
  });

  it('refuses a password shorter than 8 characters with 400', async () => {
    const res = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: '1234567' } });
    expectError(res, 400, 'invalid_request');
  });

  it('answers a body that is not JSON with 400 bad_json', async () => {
    const res = await request(server, 'POST', '/api/auth/register', { rawBody: '{"username": "alice", ' });
    expectError(res, 400, 'bad_json');
  });
});

describe('POST /api/auth/login', () => {
  it('answers 200 with the user and a new token, and sets the cookie', async () => {
    const registered = await signUp(server, 'alice');
    const res = await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: registered.user.id, username: 'alice', guest: false, admin: false }, token: expect.any(String) });
    expect(res.body.token).not.toBe(registered.token);
    const cookie = sessionCookie(res);
    expect(cookie!.split(';')[0]).toBe(`session=${res.body.token}`);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
  });

  it('accepts the username in any case', async () => {
    await signUp(server, 'Alice');
    const res = await request(server, 'POST', '/api/auth/login', { body: { username: 'ALICE', password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe('Alice');
  });

  it('refuses a wrong password with 401', async () => {
    await signUp(server, 'alice');
    const res = await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'wrong-password' } });
    expectError(res, 401, 'unauthorized');
  });

  it('refuses an unknown username with 401, like a wrong password', async () => {
    const res = await request(server, 'POST', '/api/auth/login', { body: { username: 'nobody', password: PASSWORD } });
    expectError(res, 401, 'unauthorized');
  });

  it('refuses a guest name, which has no password, with 401', async () => {
    await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } });
    const res = await request(server, 'POST', '/api/auth/login', { body: { username: 'visitor', password: PASSWORD } });
    expectError(res, 401, 'unauthorized');
  });

  it('answers a body that is not JSON with 400 bad_json', async () => {
    const res = await request(server, 'POST', '/api/auth/login', { rawBody: 'username=alice' });
    expectError(res, 400, 'bad_json');
  });
});

describe('POST /api/auth/guest', () => {
  it('answers 201 with a guest user and a token, and sets the cookie', async () => {
    const res = await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ user: userShape('visitor', true), token: expect.any(String) });
    const cookie = sessionCookie(res);
    expect(cookie!.split(';')[0]).toBe(`session=${res.body.token}`);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Lax/i);
  });

  it('refuses a name a registered user has, in any case, with 409', async () => {
    await signUp(server, 'alice');
    const res = await request(server, 'POST', '/api/auth/guest', { body: { username: 'ALICE' } });
    expectError(res, 409, 'conflict');
  });

  it('refuses a bad username with 400', async () => {
    const res = await request(server, 'POST', '/api/auth/guest', { body: { username: 'no spaces' } });
    expectError(res, 400, 'invalid_request');
  });
});

describe('GET /api/me', () => {
  it('answers the signed-in user for a Bearer token', async () => {
    const alice = await signUp(server, 'alice');
    const res = await request(server, 'GET', '/api/me', { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: alice.user.id, username: 'alice', guest: false, admin: false } });
  });

  it('answers the signed-in user for the session cookie', async () => {
    const alice = await signUp(server, 'alice');
    const res = await request(server, 'GET', '/api/me', { cookie: `session=${alice.token}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: alice.user.id, username: 'alice', guest: false, admin: false } });
  });

  it('answers a guest as a guest', async () => {
    const guest = await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } });
    const res = await request(server, 'GET', '/api/me', { token: guest.body.token });
    expect(res.body).toEqual({ user: { id: guest.body.user.id, username: 'visitor', guest: true, admin: false } });
  });

  it('answers 401 without a session', async () => {
    expectError(await request(server, 'GET', '/api/me'), 401, 'unauthorized');
  });

  it('answers 401 for a token it never issued', async () => {
    expectError(await request(server, 'GET', '/api/me', { token: 'not-a-real-token' }), 401, 'unauthorized');
    expectError(await request(server, 'GET', '/api/me', { cookie: 'session=not-a-real-token' }), 401, 'unauthorized');
  });
});

describe('GET /api/session', () => {
  it('answers who is signed in, by cookie or Bearer token', async () => {
    const alice = await signUp(server, 'alice');
    for (const credentials of [{ token: alice.token }, { cookie: `session=${alice.token}` }]) {
      const res = await request(server, 'GET', '/api/session', credentials);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: { id: alice.user.id, username: 'alice', guest: false, admin: false } });
    }
  });

  it('answers 200 with user null when nobody is signed in, or the session is unknown or ended', async () => {
    const alice = await signUp(server, 'alice');
    await request(server, 'POST', '/api/auth/logout', { token: alice.token });
    for (const credentials of [{}, { token: 'not-a-real-token' }, { cookie: `session=${alice.token}` }]) {
      const res = await request(server, 'GET', '/api/session', credentials);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: null });
    }
  });
});

describe('POST /api/auth/logout', () => {
  it('revokes the session: the same token then gets 401', async () => {
    const alice = await signUp(server, 'alice');
    const res = await request(server, 'POST', '/api/auth/logout', { token: alice.token });
    expect(res.status).toBe(204);
    expectError(await request(server, 'GET', '/api/me', { token: alice.token }), 401, 'unauthorized');
    expectError(await request(server, 'GET', '/api/me', { cookie: `session=${alice.token}` }), 401, 'unauthorized');
  });

  it('clears the session cookie', async () => {
    const alice = await signUp(server, 'alice');
    // As the page sends it: a browser names the origin of a write (web-security.test.ts refuses one without).
    const res = await request(server, 'POST', '/api/auth/logout', { cookie: `session=${alice.token}`, headers: { origin: server.url } });
    expect(res.status).toBe(204);
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/^session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/i);
  });

  it('revokes only that session, not the user’s others', async () => {
    const alice = await signUp(server, 'alice');
    const second = await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: PASSWORD } });
    await request(server, 'POST', '/api/auth/logout', { token: alice.token });
    expect((await request(server, 'GET', '/api/me', { token: second.body.token })).status).toBe(200);
  });

  it('answers 401 without a session', async () => {
    expectError(await request(server, 'POST', '/api/auth/logout'), 401, 'unauthorized');
  });
});

describe('sign-in rate limit', () => {
  it('answers 429 rate_limited once RATE_LOGINS_PER_MINUTE attempts are spent', async () => {
    const limited = await build({ RATE_LOGINS_PER_MINUTE: '2' });
    try {
      const attempt = () =>
        request(limited, 'POST', '/api/auth/login', { body: { username: 'nobody', password: 'wrong-password' } });
      expect((await attempt()).status).toBe(401);
      expect((await attempt()).status).toBe(401);
      expectError(await attempt(), 429, 'rate_limited');
    } finally {
      await limited.close();
    }
  });
});
