import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { WebSocketConnection } from '../src/connection.js';
import { Opcode } from '../src/constants.js';
import { acceptUpgrade, limitHandshakeTime, rejectUpgrade } from '../src/server.js';
import { Resources, listen, next, rawUpgrade, startServer } from './helpers/net.js';

const resources = new Resources();
afterEach(async () => {
  vi.useRealTimers();
  await resources.release();
});

/** The whole HTTP error response a refused client reads, once the server closes. */
async function refusedResponse(port: number, headers: Record<string, string>, method = 'GET'): Promise<string> {
  const socket = resources.socket(net.connect(port, '127.0.0.1'));
  const lines = Object.entries({ Host: 'x', Upgrade: 'websocket', Connection: 'Upgrade', ...headers })
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`${method} / HTTP/1.1\r\n${lines}\r\n`);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  await next(socket, 'close');
  return text;
}

const GOOD = { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

describe('acceptUpgrade', () => {
  test('answers 101 with the accept value of RFC 6455 §1.3 and returns an open connection', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    expect(peer.response).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(srv.connections).toHaveLength(1);
    expect(srv.connections[0]!.readyState).toBe(1);
  });

  test.each([
    ['a bad key', { ...GOOD, 'Sec-WebSocket-Key': 'short' }, 'GET', 400, []],
    ['a missing Upgrade token', { ...GOOD, Upgrade: 'h2c' }, 'GET', 400, []],
    ['version 8', { ...GOOD, 'Sec-WebSocket-Version': '8' }, 'GET', 426, ['Sec-WebSocket-Version: 13']],
    ['POST', GOOD, 'POST', 405, ['Allow: GET']],
  ] as Array<[string, Record<string, string>, string, number, string[]]>)(
    'refuses %s with a complete HTTP error and closes the socket',
    async (_what, headers, method, status, extra) => {
      let result: WebSocketConnection | undefined | 'unset' = 'unset';
      const server = resources.server(http.createServer());
      server.on('upgrade', (req, socket, head) => (result = acceptUpgrade(req, socket, head)));
      const port = await listen(server);
      const response = await refusedResponse(port, headers, method);
      expect(response).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(response).toContain('\r\nConnection: close\r\n');
      for (const line of extra) expect(response).toContain(`\r\n${line}\r\n`);
      const [head, body] = response.split('\r\n\r\n');
      expect(head).toContain(`Content-Length: ${Buffer.byteLength(body!)}`);
      expect(result).toBeUndefined();
    },
  );

  test('refuses a disallowed Origin with 403', async () => {
    const srv = await startServer(resources, { verifyOrigin: (origin) => origin === 'https://ok.example' });
    expect(await refusedResponse(srv.port, { ...GOOD, Origin: 'https://evil.example' })).toMatch(/^HTTP\/1\.1 403 /);
    expect(srv.connections).toHaveLength(0);
  });

  test('returns undefined, without throwing, for a client that is already gone', async () => {
    let result: WebSocketConnection | undefined | 'unset' = 'unset';
    const server = resources.server(http.createServer());
    const handled = new Promise<void>((resolve) =>
      server.on('upgrade', (req, socket, head) => {
        socket.destroy();
        result = acceptUpgrade(req, socket, head);
        resolve();
      }),
    );
    const port = await listen(server);
    const socket = resources.socket(net.connect(port, '127.0.0.1'));
    socket.on('error', () => {});
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${GOOD['Sec-WebSocket-Key']}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await handled;
    expect(result).toBeUndefined();
  });
});

describe('rejectUpgrade', () => {
  test('writes the status, message and headers, then closes', async () => {
    const server = resources.server(http.createServer());
    server.on('upgrade', (_req, socket) => rejectUpgrade(socket, 401, 'log in first', { 'WWW-Authenticate': 'Bearer' }));
    const port = await listen(server);
    const response = await refusedResponse(port, GOOD);
    expect(response).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(response).toContain('\r\nWWW-Authenticate: Bearer\r\n');
    expect(response.endsWith('\r\n\r\nlog in first\n')).toBe(true);
  });
});

describe('limitHandshakeTime', () => {
  test('drops a TCP client that never sends a request', async () => {
    const server = resources.server(http.createServer());
    limitHandshakeTime(server, 100);
    const port = await listen(server);
    const socket = resources.socket(net.connect(port, '127.0.0.1'));
    await next(socket, 'close');
    expect(socket.destroyed).toBe(true);
  });

  test('drops a client whose upgrade request never finishes (slowloris)', async () => {
    const server = resources.server(http.createServer());
    limitHandshakeTime(server, 100);
    const port = await listen(server);
    const socket = resources.socket(net.connect(port, '127.0.0.1'));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); // and no more
    await next(socket, 'close');
  });

  test('does not drop a connection once it has upgraded', async () => {
    const timers = vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const srv = await startServer(resources);
    limitHandshakeTime(srv.server, 100);
    const peer = await rawUpgrade(resources, srv.port);
    // Every timer the limit armed fires now; the upgraded connection's was disarmed.
    timers.runAllTimers();
    vi.useRealTimers();
    srv.connections[0]!.ping('still here');
    await peer.until(() => peer.payloads(Opcode.Ping).length === 1);
    expect(peer.closed).toBe(false);
  });

  test('does not drop a connection that made a plain HTTP request', async () => {
    const timers = vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = resources.server(http.createServer((_req, res) => res.end('ok')));
    limitHandshakeTime(server, 100);
    const port = await listen(server);
    const socket = resources.socket(net.connect(port, '127.0.0.1'));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await next(socket, 'data');
    timers.runAllTimers();
    vi.useRealTimers();
    expect(socket.destroyed).toBe(false);
    // The server still answers on this connection.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(String((await next<[Buffer]>(socket, 'data'))[0])).toMatch(/^HTTP\/1\.1 200/);
  });
});
