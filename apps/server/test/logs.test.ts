import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessBroker, type NodeEvent } from '../src/chat/events.js';
import { ADMIN_TOKEN, build, type TestServer } from './helpers/build.js';
import { openClient, openConnection } from './helpers/chat-client.js';
import { LogCapture } from './helpers/log-capture.js';
import { admin, createRoom, request } from './helpers/http.js';

const PASSWORD = 'a-very-secret-passphrase';

let server: TestServer;
let log: LogCapture;
beforeEach(async () => {
  log = new LogCapture();
  server = await build({ LOG_LEVEL: 'info' }, { fastify: { logger: { level: 'info', stream: log } } });
});
afterEach(async () => {
  await server.close();
});

describe('logs', () => {
  it('has a line for a WebSocket opening and one for its closing', async () => {
    const alice = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    const client = await openClient(server, { token: alice.body.token, name: 'alice' });
    expect(await log.waitFor((e) => e.msg === 'ws open')).toMatchObject({ user: 'alice' });
    await client.close(1000);
    expect(await log.waitFor((e) => e.msg === 'ws close')).toMatchObject({ user: 'alice', code: 1000 });
  });

  it("records the client's address behind a trusted proxy, and the socket's peer otherwise", async () => {
    const forwarded = { 'x-forwarded-for': '203.0.113.9' };
    const alice = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    // Not trusted (TRUST_PROXY unset): the header is anyone's to write, so the peer is logged.
    const direct = await openClient(server, { token: alice.body.token, name: 'direct', headers: forwarded });
    expect(await log.waitFor((e) => e.msg === 'ws open' && e.user === 'alice')).toMatchObject({ ip: '127.0.0.1' });
    await direct.close();

    const proxiedLog = new LogCapture();
    const behind = await build({ LOG_LEVEL: 'info', TRUST_PROXY: '127.0.0.1' }, { fastify: { logger: { level: 'info', stream: proxiedLog } } });
    try {
      const bob = await request(behind, 'POST', '/api/auth/register', { body: { username: 'bob', password: PASSWORD } });
      const viaProxy = await openClient(behind, { token: bob.body.token, name: 'via proxy', headers: forwarded });
      expect(await proxiedLog.waitFor((e) => e.msg === 'ws open')).toMatchObject({ user: 'bob', ip: '203.0.113.9' });
      await expect(openConnection(behind, { token: 'made-up', headers: forwarded })).rejects.toMatchObject({ status: 401 });
      expect(await proxiedLog.waitFor((e) => e.msg === 'ws handshake refused')).toMatchObject({ ip: '203.0.113.9' });
      await viaProxy.close();
    } finally {
      await behind.close();
    }
  });

  it('has a line for a refused WebSocket handshake', async () => {
    await expect(openConnection(server, { token: 'made-up' })).rejects.toMatchObject({ status: 401 });
    expect(await log.waitFor((e) => e.msg === 'ws handshake refused')).toMatchObject({ status: 401 });
  });

  it('has a line for every admin action', async () => {
    await request(server, 'POST', '/api/auth/register', { body: { username: 'bob', password: PASSWORD } });
    await createRoom(server, 'general');
    await admin(server, 'PATCH', '/rooms/general', { topic: 'new' });
    await admin(server, 'POST', '/rooms/general/kick', { username: 'bob' });
    await admin(server, 'POST', '/rooms/general/bans', { username: 'bob' });
    await admin(server, 'DELETE', '/rooms/general/bans', { username: 'bob' });
    await admin(server, 'DELETE', '/rooms/general');
    const actions = log
      .entries()
      .filter((e) => e.msg === 'admin action')
      .map((e) => e.action);
    expect(actions).toEqual(['create_room', 'update_room', 'kick', 'ban', 'unban', 'delete_room']);
  });

  it('never logs a session token, a password or the admin token', async () => {
    const reg = await request(server, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
    const login = await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: PASSWORD } });
    await request(server, 'POST', '/api/auth/login', { body: { username: 'alice', password: `${PASSWORD}-wrong` } });
    const guest = await request(server, 'POST', '/api/auth/guest', { body: { username: 'visitor' } });
    const tokens = [reg.body.token, login.body.token, guest.body.token] as string[];
    await request(server, 'GET', '/api/me', { token: tokens[0] });
    await request(server, 'GET', '/api/me', { cookie: `session=${tokens[1]}` });
    await createRoom(server, 'general');
    const client = await openClient(server, { token: tokens[0], name: 'alice' });
    await client.join('general');
    await client.close();
    const viaCookie = await openClient(server, { cookie: `session=${tokens[1]}`, name: 'alice' });
    await viaCookie.close();
    await request(server, 'POST', '/api/auth/logout', { token: tokens[2] });
    await expect(openConnection(server, { token: tokens[2] })).rejects.toMatchObject({ status: 401 });
    await log.waitFor((e) => e.msg === 'ws handshake refused');

    expect(log.lines.length).toBeGreaterThan(10);
    for (const secret of [...tokens, PASSWORD, ADMIN_TOKEN]) {
      expect(log.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it('has an error line when the bus cannot tell the other nodes that a session ended; the sign-out still succeeds here', async () => {
    // A bus that delivers to this node, then fails, as Redis does when it is
    // unreachable (this node's handler runs before the publish, see RedisBroker).
    class BrokenBus extends InProcessBroker {
      override publishNode(event: NodeEvent): void {
        super.publishNode(event);
        throw new Error('the bus is down');
      }
    }
    const ownLog = new LogCapture();
    const node = await build({ LOG_LEVEL: 'info' }, { fastify: { logger: { level: 'info', stream: ownLog } }, broker: new BrokenBus() });
    try {
      const alice = await request(node, 'POST', '/api/auth/register', { body: { username: 'alice', password: PASSWORD } });
      const client = await openClient(node, { token: alice.body.token, name: 'alice' });
      expect((await request(node, 'POST', '/api/auth/logout', { token: alice.body.token })).status).toBe(204);
      expect(await client.closed).toEqual({ code: 4001, reason: 'signed out' });
      const line = await ownLog.waitFor((e) => e.msg === 'could not tell the other nodes that a session ended');
      expect(line).toMatchObject({ level: 50, err: { message: 'the bus is down' } });
      // The session is gone all the same.
      await expect(openConnection(node, { token: alice.body.token })).rejects.toMatchObject({ status: 401 });
    } finally {
      await node.close();
    }
  });
});
