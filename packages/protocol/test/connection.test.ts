import zlib from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { connect } from '../src/client.js';
import type { WebSocketConnection } from '../src/connection.js';
import { Opcode, ReadyState } from '../src/constants.js';
import { ProtocolError, ProtocolErrorCode } from '../src/errors.js';
import { encodeFrameBuffer } from '../src/index.js';
import { createRng, hex } from './helpers/bytes.js';
import { frameBytes } from './helpers/frames.js';
import { Resources, echo, next, rawUpgrade, startServer } from './helpers/net.js';

const resources = new Resources();
afterEach(() => resources.release());

/** Opens a client to `url` that the test's afterEach terminates. */
async function client(url: string, options: Parameters<typeof connect>[1] = {}): Promise<WebSocketConnection> {
  const connection = await connect(url, options);
  resources.add(() => connection.terminate());
  return connection;
}

/** Resolves with the next `count` messages on `connection`, in order. */
function messages(connection: WebSocketConnection, count: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  return new Promise((resolve) => {
    const out: Array<{ data: Buffer; isBinary: boolean }> = [];
    const onMessage = (data: Buffer, isBinary: boolean) => {
      out.push({ data, isBinary });
      if (out.length === count) {
        connection.off('message', onMessage);
        resolve(out);
      }
    };
    connection.on('message', onMessage);
  });
}

const closeEvent = (c: WebSocketConnection) => next<[code: number, reason: string]>(c, 'close');
const masked = (opcode: number, payload: Buffer | string, options: { fin?: boolean; rsv1?: boolean } = {}) =>
  frameBytes(opcode, Buffer.from(payload), { ...options, mask: true });

describe('sending on a socket that was just destroyed', () => {
  test('answers "not open" at once instead of writing, until the close event comes', async () => {
    const srv = await startServer(resources, {}, echo);
    const c = await client(srv.url);
    const errors: Error[] = [];
    c.on('error', (err) => errors.push(err));
    const closed = closeEvent(c);
    (c as unknown as { socket: { destroy(): void } }).socket.destroy();
    // Same tick: the connection has not seen its socket close yet.
    const results = await Promise.all([
      new Promise<Error | null | undefined>((resolve) => c.send('late', (err) => resolve(err))),
      new Promise<Error | null | undefined>((resolve) => c.sendFrame(encodeFrameBuffer(Opcode.Text, Buffer.from('late')), (err) => resolve(err))),
      new Promise<Error | null | undefined>((resolve) => c.ping('x', (err) => resolve(err))),
    ]);
    expect(results.map((e) => e?.message)).toEqual(['the WebSocket is not open', 'the WebSocket is not open', 'the WebSocket is not open']);
    const [code] = await closed;
    expect(code).toBe(1006);
    expect(errors).toEqual([]);
  });
});

describe('WebSocketConnection messages over loopback', () => {
  for (const perMessageDeflate of [false, true]) {
    const mode = perMessageDeflate ? 'with permessage-deflate' : 'without compression';

    test(`echoes text and binary messages ${mode}`, async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const c = await client(srv.url, { perMessageDeflate });
      expect(c.extensions).toBe(perMessageDeflate ? 'permessage-deflate' : '');
      expect(srv.connections[0]!.extensions).toBe(c.extensions);
      const received = messages(c, 4);
      c.send('Hello');
      c.send(Buffer.from([0, 1, 2, 255]));
      c.send('€'.repeat(2000));
      c.send('as binary', { binary: true });
      expect(await received).toEqual([
        { data: Buffer.from('Hello'), isBinary: false },
        { data: Buffer.from([0, 1, 2, 255]), isBinary: true },
        { data: Buffer.from('€'.repeat(2000)), isBinary: false },
        { data: Buffer.from('as binary'), isBinary: true },
      ]);
    });

    test(`carries 5 MiB messages both ways ${mode}`, async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const c = await client(srv.url, { perMessageDeflate });
      const random = createRng(5).bytes(5 * 1024 * 1024);
      const textual = 'The quick brown fox jumps over the lazy dog. ñ € 𝄞\n'.repeat(100_000);
      const received = messages(c, 2);
      c.send(random);
      c.send(textual);
      const [a, b] = await received;
      expect(a!.isBinary).toBe(true);
      expect(a!.data.equals(random)).toBe(true);
      expect(b!.isBinary).toBe(false);
      expect(b!.data.toString()).toBe(textual);
    });

    test(`keeps many messages of mixed sizes in order ${mode}`, async () => {
      const srv = await startServer(resources, { perMessageDeflate }, echo);
      const c = await client(srv.url, { perMessageDeflate });
      const sent = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `${i}:${'y'.repeat(3000)}` : `${i}`));
      const received = messages(c, sent.length);
      for (const m of sent) c.send(m);
      expect((await received).map((m) => m.data.toString())).toEqual(sent);
    });
  }

  test('compresses on the wire when permessage-deflate is agreed', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const c = await client(srv.url, { perMessageDeflate: true });
    const received = next<[Buffer]>(srv.connections[0]!, 'message');
    c.send('a'.repeat(100_000));
    expect((await received)[0].length).toBe(100_000);
    expect((srv.sockets[0] as import('node:net').Socket).bytesRead).toBeLessThan(5_000);
  });

  test('sends uncompressed when asked, or below the threshold', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const c = await client(srv.url, { perMessageDeflate: true });
    const received = messages(srv.connections[0]!, 2);
    c.send('b'.repeat(50_000), { compress: false });
    c.send('c'.repeat(100));
    expect((await received).map((m) => m.data.length)).toEqual([50_000, 100]);
    expect((srv.sockets[0] as import('node:net').Socket).bytesRead).toBeGreaterThan(50_100);
  });

  test('assembles a fragmented message and answers a ping sent between its fragments', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    const received = next<[Buffer, boolean]>(srv.connections[0]!, 'message');
    peer.write(masked(Opcode.Text, 'Hello, ', { fin: false }));
    peer.write(masked(Opcode.Ping, 'are you there?'));
    peer.write(masked(Opcode.Continuation, 'fragmented ', { fin: false }));
    peer.write(masked(Opcode.Continuation, 'world'));
    const [data, isBinary] = await received;
    expect(data.toString()).toBe('Hello, fragmented world');
    expect(isBinary).toBe(false);
    await peer.until(() => peer.payloads(Opcode.Pong).length === 1);
    expect(peer.payloads(Opcode.Pong)[0]!.toString()).toBe('are you there?');
  });

  test('reads frames that arrive in the same packet as the upgrade request', async () => {
    const srv = await startServer(resources, {}, echo);
    const peer = await rawUpgrade(resources, srv.port, {}, masked(Opcode.Text, 'early'));
    await peer.until(() => peer.payloads(Opcode.Text).length === 1);
    expect(peer.payloads(Opcode.Text)[0]!.toString()).toBe('early');
  });

  test('broadcasts one encoded frame to many connections with sendFrame', async () => {
    const srv = await startServer(resources);
    const a = await client(srv.url);
    const b = await client(srv.url);
    const got = Promise.all([next<[Buffer]>(a, 'message'), next<[Buffer]>(b, 'message')]);
    const frame = encodeFrameBuffer(Opcode.Text, Buffer.from('to all'));
    for (const conn of srv.connections) expect(conn.sendFrame(frame)).toBe(true);
    expect((await got).map(([d]) => d.toString())).toEqual(['to all', 'to all']);
  });

  test('reports the peer address', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    expect(c.remoteAddress).toBe('127.0.0.1');
    expect(srv.connections[0]!.remoteAddress).toBe('127.0.0.1');
  });
});

describe('WebSocketConnection ping and pong', () => {
  test('answers a client ping with a pong carrying the same payload', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const serverPing = next<[Buffer]>(srv.connections[0]!, 'ping');
    const pong = next<[Buffer]>(c, 'pong');
    c.ping('payload 123');
    expect((await serverPing)[0].toString()).toBe('payload 123');
    expect((await pong)[0].toString()).toBe('payload 123');
  });

  test('answers a server ping with a pong carrying the same payload, binary included', async () => {
    const srv = await startServer(resources);
    await client(srv.url); // it answers the ping by itself
    const pong = next<[Buffer]>(srv.connections[0]!, 'pong');
    srv.connections[0]!.ping(hex('00 ff 7f 80'));
    expect((await pong)[0]).toEqual(hex('00 ff 7f 80'));
  });

  test('sends an unsolicited pong that needs no answer', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const pong = next<[Buffer]>(srv.connections[0]!, 'pong');
    c.pong('heartbeat');
    expect((await pong)[0].toString()).toBe('heartbeat');
  });

  test('refuses a ping payload over 125 bytes', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    expect(() => c.ping(Buffer.alloc(126))).toThrow(RangeError);
  });
});

describe('WebSocketConnection close handshake', () => {
  test('closes from the client: the server sees the code and reason, the client the echoed code', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const serverClosed = closeEvent(srv.connections[0]!);
    const clientClosed = closeEvent(c);
    c.close(4000, 'bye');
    expect(c.readyState).toBe(ReadyState.Closing);
    expect(await serverClosed).toEqual([4000, 'bye']);
    expect(await clientClosed).toEqual([4000, '']);
    expect(c.readyState).toBe(ReadyState.Closed);
    expect(srv.connections[0]!.readyState).toBe(ReadyState.Closed);
  });

  test('closes from the server: the client sees the code and reason, the server the echoed code', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const serverClosed = closeEvent(srv.connections[0]!);
    const clientClosed = closeEvent(c);
    srv.connections[0]!.close(1001, 'going away');
    expect(await clientClosed).toEqual([1001, 'going away']);
    expect(await serverClosed).toEqual([1001, '']);
  });

  test('closes without a code: both sides report 1005', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const closed = Promise.all([closeEvent(srv.connections[0]!), closeEvent(c)]);
    c.close();
    expect(await closed).toEqual([
      [1005, ''],
      [1005, ''],
    ]);
  });

  test('completes when both sides close at the same moment', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const closed = Promise.all([closeEvent(srv.connections[0]!), closeEvent(c)]);
    c.close(1000, 'client');
    srv.connections[0]!.close(1000, 'server');
    const [[serverCode], [clientCode]] = await closed;
    expect(serverCode).toBe(1000);
    expect(clientCode).toBe(1000);
  });

  test('the server closes the TCP connection first after the handshake (RFC 6455 §7.1.1)', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    peer.write(masked(Opcode.Close, hex('03 e8')));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]).toEqual(hex('03 e8'));
    await peer.closedByServer();
  });

  test('refuses to send after close, reporting to the callback', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    c.close(1000);
    const err = await new Promise<Error | null | undefined>((resolve) => {
      expect(c.send('late', resolve)).toBe(false);
    });
    expect(err).toBeInstanceOf(Error);
  });

  test('refuses close codes that may not be sent and over-long reasons', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    expect(() => c.close(1006)).toThrow(RangeError);
    expect(() => c.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(c.readyState).toBe(ReadyState.Open);
  });

  test('drops the connection with 1006 when the peer never answers its close frame', async () => {
    const srv = await startServer(resources, { closeTimeoutMs: 100 });
    const peer = await rawUpgrade(resources, srv.port);
    const conn = srv.connections[0]!;
    const closed = closeEvent(conn);
    conn.close(1000, 'bye');
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]).toEqual(hex('03 e8 62 79 65'));
    expect(await closed).toEqual([1006, '']);
    await peer.closedByServer();
  });

  test('drops the connection on the client side too when the server never answers', async () => {
    const srv = await startServer(resources, { closeTimeoutMs: 100 });
    const c = await client(srv.url, { closeTimeoutMs: 100 });
    // The server stops reading, so it never sees the close frame.
    srv.connections[0]!.pause();
    const closed = closeEvent(c);
    c.close(1000);
    expect((await closed)[0]).toBe(1006);
  });

  test('terminate() drops at once: both sides report 1006', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const closed = Promise.all([closeEvent(srv.connections[0]!), closeEvent(c)]);
    srv.connections[0]!.terminate();
    expect((await closed).map(([code]) => code)).toEqual([1006, 1006]);
  });
});

describe('WebSocketConnection failures', () => {
  test('fails a message over maxPayload with 1009, seen by the client', async () => {
    const srv = await startServer(resources, { maxPayload: 1000 });
    const c = await client(srv.url);
    const conn = srv.connections[0]!;
    const errors: Error[] = [];
    conn.on('error', (e) => errors.push(e));
    const closed = Promise.all([closeEvent(conn), closeEvent(c)]);
    c.send(Buffer.alloc(1000)); // exactly the limit: fine
    c.send(Buffer.alloc(1001));
    const [[serverCode], [clientCode]] = await closed;
    expect(clientCode).toBe(1009);
    expect(serverCode).toBe(1009);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe(ProtocolErrorCode.MessageTooBig);
  });

  test('fails a message over the client\'s maxPayload with 1009, seen by the server', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url, { maxPayload: 10 });
    const closed = Promise.all([closeEvent(srv.connections[0]!), closeEvent(c)]);
    srv.connections[0]!.send('more than ten bytes');
    expect((await closed).map(([code]) => code)).toEqual([1009, 1009]);
  });

  test('fails an inflation bomb with 1009: a small compressed message that inflates past maxPayload', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true, maxPayload: 100_000 });
    const peer = await rawUpgrade(resources, srv.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    expect(peer.response).toMatch(/\r\nSec-WebSocket-Extensions: permessage-deflate\r\n/i);
    const conn = srv.connections[0]!;
    const errors: ProtocolError[] = [];
    conn.on('error', (e) => errors.push(e as ProtocolError));
    const closed = closeEvent(conn);
    const bomb = zlib.deflateRawSync(Buffer.alloc(20 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const payload = bomb.subarray(0, bomb.length - 4);
    expect(payload.length).toBeLessThan(100_000); // small on the wire: the header check lets it through
    peer.write(masked(Opcode.Binary, payload, { rsv1: true }));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]!.readUInt16BE(0)).toBe(1009);
    expect((await closed)[0]).toBe(1009);
    expect(errors.map((e) => e.code)).toEqual([ProtocolErrorCode.MessageTooBig]);
  });

  test('fails a compressed text message that inflates to invalid UTF-8 with 1007', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const peer = await rawUpgrade(resources, srv.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    const wire = zlib.deflateRawSync(hex('48 65 ff 6c 6f'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    peer.write(masked(Opcode.Text, wire.subarray(0, wire.length - 4), { rsv1: true }));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]!.readUInt16BE(0)).toBe(1007);
    await peer.closedByServer();
  });

  test('fails invalid UTF-8 in a fragment with 1007 before the message ends', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    const closed = closeEvent(srv.connections[0]!);
    peer.write(masked(Opcode.Text, 'ok', { fin: false }));
    peer.write(masked(Opcode.Continuation, hex('c0 80'), { fin: false }));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]!.readUInt16BE(0)).toBe(1007);
    expect((await closed)[0]).toBe(1007);
  });

  test('fails an unmasked frame from a client with 1002 and closes the TCP connection', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    const closed = closeEvent(srv.connections[0]!);
    peer.write(frameBytes(Opcode.Text, Buffer.from('not masked')));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]!.readUInt16BE(0)).toBe(1002);
    expect((await closed)[0]).toBe(1002);
    await peer.closedByServer();
  });

  test('fails a compressed frame with 1002 when no compression was agreed', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const peer = await rawUpgrade(resources, srv.port); // offers no extension
    peer.write(masked(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv1: true }));
    await peer.until(() => peer.payloads(Opcode.Close).length === 1);
    expect(peer.payloads(Opcode.Close)[0]!.readUInt16BE(0)).toBe(1002);
  });

  test('delivers nothing more after a failure, even messages already received', async () => {
    const srv = await startServer(resources);
    const peer = await rawUpgrade(resources, srv.port);
    const conn = srv.connections[0]!;
    const seen: string[] = [];
    conn.on('message', (d) => seen.push(d.toString()));
    const closed = closeEvent(conn);
    peer.write(Buffer.concat([masked(Opcode.Text, 'one'), masked(Opcode.Text, hex('ff')), masked(Opcode.Text, 'three')]));
    await closed;
    expect(seen).toEqual(['one']);
  });
});

describe('WebSocketConnection heartbeat', () => {
  test('reaps a silent peer: pings it, then drops it with 1006', async () => {
    const srv = await startServer(resources, { idleTimeoutMs: 100 });
    const peer = await rawUpgrade(resources, srv.port);
    const closed = closeEvent(srv.connections[0]!);
    await peer.until(() => peer.payloads(Opcode.Ping).length >= 1);
    expect(await closed).toEqual([1006, '']);
    await peer.closedByServer();
  });

  test('drops a silent peer between 1 and 1¼ × idleTimeoutMs after its last byte (issue #24.8)', async () => {
    // Before, the check ran once per timeout and a silent peer lived 2–3 × it.
    const idleTimeoutMs = 800;
    const srv = await startServer(resources, { idleTimeoutMs });
    const accepted = srv.nextConnection();
    const sent = performance.now(); // the upgrade request: the last byte this peer sends
    const peer = await rawUpgrade(resources, srv.port);
    const closed = closeEvent(await accepted);
    expect(await closed).toEqual([1006, '']);
    const lived = performance.now() - sent;
    expect(peer.payloads(Opcode.Ping).length).toBeGreaterThanOrEqual(1);
    expect(lived).toBeGreaterThanOrEqual(idleTimeoutMs - 20); // timers may round a millisecond early
    expect(lived).toBeLessThan(idleTimeoutMs * 1.25 + 300); // the margin: a loaded machine's timer lag
  });

  test('keeps a peer that answers its pings', async () => {
    const srv = await startServer(resources, { idleTimeoutMs: 50 });
    const c = await client(srv.url);
    let closed = false;
    srv.connections[0]!.on('close', () => (closed = true));
    // Each heartbeat ping is answered by the client's automatic pong.
    await new Promise<void>((resolve) => {
      let pings = 0;
      c.on('ping', () => {
        if (++pings === 4) resolve();
      });
    });
    expect(closed).toBe(false);
    expect(srv.connections[0]!.readyState).toBe(ReadyState.Open);
  });
});

describe('WebSocketConnection ping flood', () => {
  test('fails a peer that pings without reading the pongs with 1013 once they pass maxBufferedBytes (issue #24.6)', async () => {
    const maxBufferedBytes = 64 * 1024;
    const srv = await startServer(resources, { maxBufferedBytes, closeTimeoutMs: 200 });
    const accepted = srv.nextConnection();
    const peer = await rawUpgrade(resources, srv.port);
    const conn = await accepted;
    peer.socket.pause(); // reads nothing: pongs pile up in the kernel's buffers, then in ours
    const errors: unknown[] = [];
    conn.on('error', (err) => errors.push(err));
    let closed: [number, string] | undefined;
    conn.on('close', (code, reason) => (closed = [code, reason]));
    let largest = 0;
    conn.on('ping', () => (largest = Math.max(largest, conn.bufferedAmount)));

    // Bounded: 40 MB of pings at most, far past what loopback's buffers hold.
    const ping = masked(Opcode.Ping, Buffer.alloc(125, 0x70));
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => ping));
    for (let i = 0; i < 320 && closed === undefined && !peer.socket.destroyed; i++) {
      if (!peer.write(batch)) await Promise.race([next(peer.socket, 'drain'), new Promise((r) => setTimeout(r, 50))]);
      else await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < 40 && closed === undefined; i++) await new Promise((r) => setTimeout(r, 50));

    expect(closed?.[0]).toBe(1013);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe(ProtocolErrorCode.SendBufferFull);
    // Each queued pong was charged (bytes and overhead), and the charge never passed the bound.
    expect(largest).toBeGreaterThan(maxBufferedBytes / 2);
    expect(largest).toBeLessThanOrEqual(maxBufferedBytes);
  });

  test('charges a pong waiting to be written in bufferedAmount: its payload and a fixed overhead', async () => {
    const srv = await startServer(resources);
    const accepted = srv.nextConnection();
    await rawUpgrade(resources, srv.port);
    const conn = await accepted;
    conn.cork(); // the pong stays in the socket's buffer
    conn.pong('abc');
    expect(conn.bufferedAmount).toBeGreaterThan(2 + 3);
    conn.uncork();
    await new Promise((r) => setTimeout(r, 50));
    expect(conn.bufferedAmount).toBe(0);
  });
});

describe('WebSocketConnection backpressure', () => {
  test('send returns false when the socket is full, bufferedAmount grows, and drain follows', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    c.pause(); // the client stops reading, so the server's writes back up
    const conn = srv.connections[0]!;
    const chunk = Buffer.alloc(1 << 20, 0x61);
    // Send until the kernel's buffers are full and bytes stay in ours.
    let sent = 0;
    while (conn.bufferedAmount === 0) {
      conn.send(chunk);
      sent++;
      expect(sent).toBeLessThan(256);
    }
    const before = conn.bufferedAmount;
    expect(conn.send(chunk)).toBe(false);
    sent++;
    expect(conn.bufferedAmount).toBeGreaterThanOrEqual(before + chunk.length);

    const received = messages(c, sent);
    const drained = next(conn, 'drain');
    c.resume();
    await drained;
    expect((await received).every((m) => m.data.equals(chunk))).toBe(true);
  });

  test('counts messages queued behind a compression in bufferedAmount', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const c = await client(srv.url, { perMessageDeflate: true });
    const conn = srv.connections[0]!;
    const received = messages(c, 2);
    conn.send('z'.repeat(100_000)); // compression starts; later sends wait behind it
    conn.send(Buffer.alloc(5000, 1), { compress: false });
    expect(conn.bufferedAmount).toBeGreaterThanOrEqual(5000);
    expect((await received).map((m) => m.data.length)).toEqual([100_000, 5000]);
  });

  // A send that returns false promises a 'drain' (the documented contract, and
  // what the echo server waits on before it reads again).
  test('emits drain after a send that returned false because a compression was in flight', async () => {
    const srv = await startServer(resources, { perMessageDeflate: true });
    const c = await client(srv.url, { perMessageDeflate: true });
    const conn = srv.connections[0]!;
    let drained = false;
    conn.on('drain', () => (drained = true));
    const received = messages(c, 2);
    expect(conn.send('x'.repeat(5000))).toBe(true);
    const accepted = conn.send('small');
    await received;
    // One more round trip, so that any pending 'drain' has had its turn.
    const pong = next(c, 'pong');
    c.ping();
    await pong;
    if (!accepted) expect(drained, 'send returned false but no drain followed').toBe(true);
  });

  test('pause() stops message delivery until resume()', async () => {
    const srv = await startServer(resources);
    const c = await client(srv.url);
    const conn = srv.connections[0]!;
    const seen: string[] = [];
    conn.on('message', (d) => seen.push(d.toString()));
    const first = next(conn, 'message');
    c.send('one');
    await first;
    conn.pause();
    c.send('two');
    // The client's pong proves its later frames were sent; the paused server must not read them.
    const pong = next(c, 'pong');
    c.ping();
    await expectNot(pong);
    expect(seen).toEqual(['one']);
    const second = next(conn, 'message');
    conn.resume();
    await second;
    await pong;
    expect(seen).toEqual(['one', 'two']);
  });
});

/** Asserts a promise has not settled after the current I/O has been processed (a few turns of the loop). */
async function expectNot(promise: Promise<unknown>): Promise<void> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  expect(settled).toBe(false);
}
