import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, type TestServer } from './helpers/build.js';
import { request } from './helpers/http.js';

let server: TestServer;
beforeAll(async () => {
  server = await build({ NODE_ID: 'node-a' });
});
afterAll(async () => {
  await server.close();
});

describe('GET /healthz', () => {
  it('answers 200 {status: ok} with the node id while the database answers', async () => {
    const res = await request(server, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', node: 'node-a' });
  });
});

describe('API documentation', () => {
  it('serves the OpenAPI UI at /docs', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/swagger/i);
    // Its own policy: scripts by hash only, and nothing sent to https on a server that speaks plain HTTP.
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
  });

  it('lists every route in /docs/json', async () => {
    const res = await request(server, 'GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const operations = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'POST /api/auth/register',
        'POST /api/auth/login',
        'POST /api/auth/guest',
        'POST /api/auth/logout',
        'GET /api/me',
        'GET /api/rooms',
        'POST /api/rooms',
        'GET /api/rooms/{id}/messages',
        'GET /api/admin/rooms',
        'POST /api/admin/rooms',
        'GET /api/admin/rooms/{id}',
        'PATCH /api/admin/rooms/{id}',
        'DELETE /api/admin/rooms/{id}',
        'GET /api/admin/rooms/{id}/members',
        'DELETE /api/admin/rooms/{id}/messages/{messageId}',
        'POST /api/admin/rooms/{id}/kick',
        'POST /api/admin/rooms/{id}/bans',
        'DELETE /api/admin/rooms/{id}/bans',
        'POST /api/conversations',
        'POST /api/rooms/{id}/invitations',
        'PUT /api/rooms/{id}/members/{username}/role',
        'GET /api/rooms/{id}/messages/{messageId}/replies',
        'PUT /api/rooms/{id}/messages/{messageId}/reactions/{emoji}',
        'DELETE /api/rooms/{id}/messages/{messageId}/reactions/{emoji}',
        'PUT /api/rooms/{id}/messages/{messageId}/pin',
        'DELETE /api/rooms/{id}/messages/{messageId}/pin',
        'GET /api/rooms/{id}/pins',
        'PUT /api/me/password',
        'GET /api/me/sessions',
        'DELETE /api/me/sessions/{id}',
        'PUT /api/admin/users/{username}/role',
        'GET /api/admin/admins',
        'GET /api/admin/audit',
        'GET /api/admin/stats',
        'DELETE /api/admin/users/{username}',
        'POST /api/admin/guests/purge',
        'DELETE /api/me',
        'GET /api/admin/users',
        'GET /api/admin/users/{username}',
        'POST /api/admin/users/{username}/deactivate',
        'POST /api/admin/users/{username}/reactivate',
        'PUT /api/admin/users/{username}/password',
      ]),
    );
  });
});
