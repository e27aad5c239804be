// Interoperability with `ws`, a widely deployed implementation, as a foreign
// peer in both directions.
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { afterEach, describe, expect, test } from 'vitest';
import { connect } from '../src/client.js';
import type { WebSocketConnection } from '../src/connection.js';
import { createRng } from './helpers/bytes.js';
import { Resources, echo, next, startServer } from './helpers/net.js';

const resources = new Resources();
afterEach(() => resources.release());

/** A `ws` echo server on 127.0.0.1, port 0. */
async function wsServer(perMessageDeflate: boolean | WsDeflateOptions): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  resources.add(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await next(wss, 'listening');
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, wss };
}

/** A `ws` client, open. */
async function wsClient(url: string, perMessageDeflate: boolean | WsDeflateOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate });
  resources.add(() => ws.terminate());
  await next(ws, 'open');
  return ws;
}

async function ourClient(url: string, perMessageDeflate: boolean): Promise<WebSocketConnection> {
  const c = await connect(url, { perMessageDeflate });
  resources.add(() => c.terminate());
  return c;
}

function collect(c: WebSocketConnection, count: number): Promise<Array<[Buffer, boolean]>> {
  return new Promise((resolve) => {
    const out: Array<[Buffer, boolean]> = [];
    c.on('message', (data, isBinary) => {
      out.push([data, isBinary]);
      if (out.length === count) resolve(out);
    });
  });
}

function collectWs(ws: WebSocket, count: number): Promise<Array<[Buffer, boolean]>> {
  return new Promise((resolve) => {
    const out: Array<[Buffer, boolean]> = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      out.push([data, isBinary]);
      if (out.length === count) resolve(out);
    });
  });
}

const big = createRng(1).bytes(1 << 20);

for (const perMessageDeflate of [false, true]) {
  const mode = perMessageDeflate ? 'with permessage-deflate' : 'without compression';

  describe(`our client and a ws server, ${mode}`, () => {
    test('agree on the extension', async () => {
      const { url } = await wsServer(perMessageDeflate);
      const c = await ourClient(url, perMessageDeflate);
      if (perMessageDeflate) expect(c.extensions).toMatch(/^permessage-deflate/);
      else expect(c.extensions).toBe('');
    });

    test('echo text and binary messages, small and large', async () => {
      const { url } = await wsServer(perMessageDeflate);
      const c = await ourClient(url, perMessageDeflate);
      const got = collect(c, 4);
      c.send('Hello from @chat/protocol');
      c.send(Buffer.from([1, 2, 3]));
      c.send('ünïcödé €𝄞 '.repeat(5000));
      c.send(big);
      const [a, b, t, d] = await got;
      expect(a).toEqual([Buffer.from('Hello from @chat/protocol'), false]);
      expect(b).toEqual([Buffer.from([1, 2, 3]), true]);
      expect(t![0].toString()).toBe('ünïcödé €𝄞 '.repeat(5000));
      expect(t![1]).toBe(false);
      expect(d![0].equals(big)).toBe(true);
      expect(d![1]).toBe(true);
    });

    test('keep 1000 messages in order', async () => {
      const { url } = await wsServer(perMessageDeflate);
      const c = await ourClient(url, perMessageDeflate);
      const sent = Array.from({ length: 1000 }, (_, i) => `${i} ${'x'.repeat(i * 7)}`);
      const got = collect(c, sent.length);
      for (const m of sent) c.send(m);
      expect((await got).map(([d]) => d.toString())).toEqual(sent);
    });

    test('close with the code and reason each side gave', async () => {
      const { url, wss } = await wsServer(perMessageDeflate);
      const serverSide = next<[WebSocket]>(wss, 'connection');
      const c = await ourClient(url, perMessageDeflate);
      const [ws] = await serverSide;
      const wsClosed = next<[number, Buffer]>(ws, 'close');
      const ourClosed = next<[number, string]>(c, 'close');
      c.close(4002, 'client leaving');
      const [code, reason] = await wsClosed;
      expect([code, reason.toString()]).toEqual([4002, 'client leaving']);
      expect((await ourClosed)[0]).toBe(4002);
    });

    test('receive the ws server\'s close code and reason', async () => {
      const { url, wss } = await wsServer(perMessageDeflate);
      const serverSide = next<[WebSocket]>(wss, 'connection');
      const c = await ourClient(url, perMessageDeflate);
      const [ws] = await serverSide;
      const ourClosed = next<[number, string]>(c, 'close');
      ws.close(4001, 'server leaving');
      expect(await ourClosed).toEqual([4001, 'server leaving']);
    });

    test('answer a ws server ping', async () => {
      const { url, wss } = await wsServer(perMessageDeflate);
      const serverSide = next<[WebSocket]>(wss, 'connection');
      await ourClient(url, perMessageDeflate);
      const [ws] = await serverSide;
      const pong = next<[Buffer]>(ws, 'pong');
      ws.ping('are you alive');
      expect((await pong)[0].toString()).toBe('are you alive');
    });
  });

  describe(`a ws client and our server, ${mode}`, () => {
    test('agree on the extension', async () => {
      const srv = await startServer(resources, { perMessageDeflate });
      const ws = await wsClient(srv.url, perMessageDeflate);
      expect(ws.extensions).toBe(perMessageDeflate ? 'permessage-deflate' : '');
      expect(srv.connections[0]!.extensions).toBe(ws.extensions);
    });

    test('echo text and binary messages, small and large', async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const ws = await wsClient(srv.url, perMessageDeflate);
      const got = collectWs(ws, 4);
      ws.send('Hello from ws');
      ws.send(Buffer.from([9, 8, 7]));
      ws.send('ünïcödé €𝄞 '.repeat(5000));
      ws.send(big);
      const [a, b, t, d] = await got;
      expect(a).toEqual([Buffer.from('Hello from ws'), false]);
      expect(b).toEqual([Buffer.from([9, 8, 7]), true]);
      expect(t![0].toString()).toBe('ünïcödé €𝄞 '.repeat(5000));
      expect(d![0].equals(big)).toBe(true);
    });

    test('assemble messages ws sends in fragments (fin: false)', async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const ws = await wsClient(srv.url, perMessageDeflate);
      const got = collectWs(ws, 2);
      ws.send('Hel', { fin: false });
      ws.send('lo, ', { fin: false });
      ws.send('fragments', { fin: true });
      const part = Buffer.alloc(4000, 0x42);
      ws.send(part, { binary: true, fin: false });
      ws.send(part, { binary: true, fin: false });
      ws.send(part, { binary: true, fin: true });
      const [text, binary] = await got;
      expect(text).toEqual([Buffer.from('Hello, fragments'), false]);
      expect(binary![1]).toBe(true);
      expect(binary![0].equals(Buffer.concat([part, part, part]))).toBe(true);
    });

    test('keep 1000 messages in order', async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const ws = await wsClient(srv.url, perMessageDeflate);
      const sent = Array.from({ length: 1000 }, (_, i) => `${i} ${'y'.repeat(i * 7)}`);
      const got = collectWs(ws, sent.length);
      for (const m of sent) ws.send(m);
      expect((await got).map(([d]) => d.toString())).toEqual(sent);
    });

    test('answer a ws ping with the same payload', async () => {
      const srv = await startServer(resources, { perMessageDeflate });
      const ws = await wsClient(srv.url, perMessageDeflate);
      const pong = next<[Buffer]>(ws, 'pong');
      ws.ping('ping from ws');
      expect((await pong)[0].toString()).toBe('ping from ws');
    });

    test('close with the code and reason each side gave', async () => {
      const srv = await startServer(resources, { perMessageDeflate });
      const ws = await wsClient(srv.url, perMessageDeflate);
      const ourClosed = next<[number, string]>(srv.connections[0]!, 'close');
      const wsClosed = next<[number, Buffer]>(ws, 'close');
      ws.close(4003, 'ws leaving');
      expect(await ourClosed).toEqual([4003, 'ws leaving']);
      expect((await wsClosed)[0]).toBe(4003);
    });

    test('report 1009 to ws when it sends more than maxPayload', async () => {
      const srv = await startServer(resources, { perMessageDeflate, maxPayload: 10_000 });
      const ws = await wsClient(srv.url, perMessageDeflate);
      ws.on('error', () => {});
      const wsClosed = next<[number, Buffer]>(ws, 'close');
      ws.send(createRng(2).bytes(20_000));
      expect((await wsClosed)[0]).toBe(1009);
    });
  });
}

describe('permessage-deflate parameters across implementations', () => {
  const variants: WsDeflateOptions[] = [
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 10 },
    { clientMaxWindowBits: 9 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 11 },
  ];

  test.each(variants)('a ws client offering %j talks to our server', async (options) => {
    const srv = await startServer(resources, { perMessageDeflate: true }, echo);
    const ws = await wsClient(srv.url, { ...options, threshold: 0 });
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    const sent = Array.from({ length: 20 }, (_, i) => `message ${i}: ${'abc'.repeat(500 * i)}`);
    const got = collectWs(ws, sent.length);
    for (const m of sent) ws.send(m);
    expect((await got).map(([d]) => d.toString())).toEqual(sent);
  });

  test.each(variants)('our client talks to a ws server configured with %j', async (options) => {
    const { url } = await wsServer({ ...options, threshold: 0 });
    const c = await connect(url, { perMessageDeflate: { threshold: 0 } });
    resources.add(() => c.terminate());
    expect(c.extensions).toMatch(/^permessage-deflate/);
    const sent = Array.from({ length: 20 }, (_, i) => `message ${i}: ${'abc'.repeat(500 * i)}`);
    const got = collect(c, sent.length);
    for (const m of sent) c.send(m);
    expect((await got).map(([d]) => d.toString())).toEqual(sent);
  });
});
