import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { connect } from '../src/client.js';
import type { WebSocketConnection } from '../src/connection.js';
import { Opcode } from '../src/constants.js';
import { HandshakeError } from '../src/errors.js';
import { computeAccept } from '../src/handshake.js';
import { frameBytes } from './helpers/frames.js';
import { Resources, echo, listen, next, startServer } from './helpers/net.js';

const resources = new Resources();
afterEach(() => resources.release());

async function open(url: string, options: Parameters<typeof connect>[1] = {}): Promise<WebSocketConnection> {
  const connection = await connect(url, options);
  resources.add(() => connection.terminate());
  return connection;
}

/**
 * A TCP server that answers each upgrade request with `respond(key, request)`
 * written in one piece, and then with `onData` for whatever the client sends.
 */
async function rawServer(
  respond: (key: string, request: string) => Buffer | string | undefined,
  onData?: (socket: net.Socket, data: Buffer) => void,
): Promise<number> {
  const server = resources.server(
    net.createServer((socket) => {
      socket.on('error', () => {});
      let head = '';
      let upgraded = false;
      socket.on('data', (chunk: Buffer) => {
        if (upgraded) return onData?.(socket, chunk);
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        upgraded = true;
        const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head)?.[1] ?? '';
        const answer = respond(key, head);
        if (answer !== undefined) socket.write(answer);
      });
    }),
  );
  return listen(server);
}

const switching = (key: string, extra = '') =>
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  `Sec-WebSocket-Accept: ${computeAccept(key)}\r\n${extra}\r\n`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected connect() to reject');
    },
    (err: unknown) => err,
  );
}

describe('connect', () => {
  test('opens a connection and exchanges messages', async () => {
    const srv = await startServer(resources, {}, echo);
    const c = await open(srv.url);
    const reply = next<[Buffer, boolean]>(c, 'message');
    c.send('ping?');
    expect((await reply)[0].toString()).toBe('ping?');
  });

  test('sends the path, query and extra headers', async () => {
    let seen: http.IncomingMessage | undefined;
    const srv = await startServer(resources, {}, (_c, request) => (seen = request));
    await open(`${srv.url}/chat/room?id=7`, { headers: { Origin: 'https://app.example', Cookie: 'a=b' } });
    expect(seen!.url).toBe('/chat/room?id=7');
    expect(seen!.headers.origin).toBe('https://app.example');
    expect(seen!.headers.cookie).toBe('a=b');
    expect(seen!.headers['sec-websocket-version']).toBe('13');
  });

  test('negotiates the subprotocol the server prefers among those offered', async () => {
    const srv = await startServer(resources, { protocols: ['chat.v2', 'chat.v1'] });
    const c = await open(srv.url, { protocols: ['chat.v1', 'chat.v2'] });
    expect(c.protocol).toBe('chat.v2');
    expect(srv.connections[0]!.protocol).toBe('chat.v2');
  });

  test('negotiates permessage-deflate parameters with the server', async () => {
    const srv = await startServer(resources, { perMessageDeflate: { serverMaxWindowBits: 11 } }, echo);
    const c = await open(srv.url, { perMessageDeflate: { clientNoContextTakeover: true } });
    expect(c.extensions).toBe('permessage-deflate; client_no_context_takeover; server_max_window_bits=11');
    const reply = next<[Buffer]>(c, 'message');
    c.send('deflate '.repeat(1000));
    expect((await reply)[0].toString()).toBe('deflate '.repeat(1000));
  });

  test('rejects with HandshakeError 403 when the server refuses the Origin', async () => {
    const srv = await startServer(resources, { verifyOrigin: (o) => o === 'https://ok.example' });
    const err = await rejection(connect(srv.url, { headers: { Origin: 'https://evil.example' } }));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(403);
  });

  test('rejects with HandshakeError 426 when the server wants another version', async () => {
    const srv = await startServer(resources);
    // Rewrite the version the server sees, so it answers as it would to an old client.
    srv.server.prependListener('upgrade', (request: http.IncomingMessage) => {
      request.headers['sec-websocket-version'] = '8';
    });
    const err = await rejection(connect(srv.url));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(426);
  });

  test('rejects with the status of a plain HTTP answer', async () => {
    const server = resources.server(
      http.createServer((_req, res) => {
        res.writeHead(404).end('not here');
      }),
    );
    const port = await listen(server);
    const err = await rejection(connect(`ws://127.0.0.1:${port}/`));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(404);
  });

  test('rejects a 101 whose Sec-WebSocket-Accept does not match the key', async () => {
    const port = await rawServer(() => switching('AAAAAAAAAAAAAAAAAAAAAA=='));
    const err = await rejection(connect(`ws://127.0.0.1:${port}`));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as Error).message).toMatch(/Sec-WebSocket-Accept/);
  });

  test('rejects a 101 that selects a subprotocol it did not offer', async () => {
    const port = await rawServer((key) => switching(key, 'Sec-WebSocket-Protocol: other\r\n'));
    const err = await rejection(connect(`ws://127.0.0.1:${port}`, { protocols: ['mine'] }));
    expect(err).toBeInstanceOf(HandshakeError);
  });

  test('rejects a 101 that accepts an extension it did not offer', async () => {
    const port = await rawServer((key) => switching(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
    const err = await rejection(connect(`ws://127.0.0.1:${port}`));
    expect(err).toBeInstanceOf(HandshakeError);
  });

  test('rejects with HandshakeError 0 when the server never answers in time', async () => {
    const port = await rawServer(() => undefined);
    const err = await rejection(connect(`ws://127.0.0.1:${port}`, { handshakeTimeoutMs: 100 }));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(0);
    expect((err as Error).message).toMatch(/timed out/);
  });

  test('rejects when nothing listens on the port', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const err = await rejection(connect(`ws://127.0.0.1:${port}`));
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  test.each([
    ['an http: URL', 'http://127.0.0.1:1/'],
    ['a URL with a fragment', 'ws://127.0.0.1:1/#frag'],
  ])('rejects %s with a SyntaxError', async (_what, url) => {
    expect(await rejection(connect(url))).toBeInstanceOf(SyntaxError);
  });

  test('rejects a subprotocol that is not a token before connecting', async () => {
    expect(await rejection(connect('ws://127.0.0.1:1/', { protocols: ['not a token'] }))).toBeInstanceOf(SyntaxError);
  });

  // A server may send right after its 101; those frames can reach the client in
  // the same packet as the response (`head`), and must not be lost.
  test('delivers a message that arrives in the same packet as the 101 response', async () => {
    const port = await rawServer(
      (key) => Buffer.concat([Buffer.from(switching(key)), frameBytes(Opcode.Text, Buffer.from('first'))]),
      (socket) => socket.write(frameBytes(Opcode.Text, Buffer.from('second'))),
    );
    const c = await open(`ws://127.0.0.1:${port}`);
    const seen: string[] = [];
    const done = new Promise<void>((resolve) =>
      c.on('message', (data) => {
        seen.push(data.toString());
        if (seen.includes('second')) resolve();
      }),
    );
    c.send('go'); // the server answers anything with "second"
    await done;
    expect(seen).toEqual(['first', 'second']);
  });
});
