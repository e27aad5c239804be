// The echo server binary, run as its own process: the smoke test of the
// package and the target for Autobahn|Testsuite. It runs from dist/, which is
// rebuilt here when older than src/.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { connect } from '../src/client.js';
import type { WebSocketConnection } from '../src/connection.js';
import { Opcode } from '../src/constants.js';
import { HandshakeError } from '../src/errors.js';
import { frameBytes } from './helpers/frames.js';
import { Resources, next, rawUpgrade } from './helpers/net.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(packageDir, 'bin', 'echo-server.mjs');

const resources = new Resources();
afterEach(() => resources.release());

beforeAll(() => {
  const built = join(packageDir, 'dist', 'index.js');
  const srcDir = join(packageDir, 'src');
  const newestSource = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs));
  if (!existsSync(built) || statSync(built).mtimeMs < newestSource) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: packageDir, stdio: 'inherit' });
  }
}, 120_000);

interface EchoServer {
  child: ChildProcessWithoutNullStreams;
  port: number;
  url: string;
}

/** Starts the binary on port 0 and reads the port it prints; stopped after the test. */
async function startEcho(...args: string[]): Promise<EchoServer> {
  const child = spawn(process.execPath, [bin, '--port', '0', ...args]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /echo server listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}: ${out}`)));
  });
  return { child, port, url: `ws://127.0.0.1:${port}` };
}

async function open(url: string, options: Parameters<typeof connect>[1] = {}): Promise<WebSocketConnection> {
  const c = await connect(url, options);
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

describe('bin/echo-server.mjs', () => {
  test('echoes text and binary messages, with permessage-deflate by default', async () => {
    const echo = await startEcho();
    const c = await open(echo.url, { perMessageDeflate: true });
    expect(c.extensions).toBe('permessage-deflate');
    const got = collect(c, 3);
    c.send('hello echo');
    c.send(Buffer.from([0, 1, 2]));
    c.send('big '.repeat(100_000));
    const [a, b, t] = await got;
    expect(a).toEqual([Buffer.from('hello echo'), false]);
    expect(b).toEqual([Buffer.from([0, 1, 2]), true]);
    expect(t![0].toString()).toBe('big '.repeat(100_000));
  });

  test('answers a plain HTTP request with 426', async () => {
    const echo = await startEcho();
    const response = await fetch(`http://127.0.0.1:${echo.port}/`);
    expect(response.status).toBe(426);
    expect(await response.text()).toMatch(/WebSocket echo server/);
  });

  test('with --origin, refuses other origins (and none) with 403 and accepts the listed one', async () => {
    const echo = await startEcho('--origin', 'http://a.example');
    for (const headers of [{ Origin: 'http://b.example' }, {}] as Array<Record<string, string>>) {
      const err = await connect(echo.url, { headers }).then(
        (c) => {
          c.terminate();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HandshakeError);
      expect((err as HandshakeError).status).toBe(403);
    }
    const c = await open(echo.url, { headers: { Origin: 'http://a.example' } });
    const reply = next<[Buffer]>(c, 'message');
    c.send('allowed');
    expect((await reply)[0].toString()).toBe('allowed');
  });

  test('with --handshake-timeout-ms, drops a TCP client that never sends a request', async () => {
    const echo = await startEcho('--handshake-timeout-ms', '200');
    const socket = resources.socket(net.connect(echo.port, '127.0.0.1'));
    socket.on('error', () => {});
    await next(socket, 'close');
  });

  test('with --idle-timeout-ms, pings a silent peer and then drops it', async () => {
    const echo = await startEcho('--idle-timeout-ms', '100');
    const peer = await rawUpgrade(resources, echo.port);
    await peer.until(() => peer.payloads(Opcode.Ping).length >= 1);
    await peer.closedByServer();
  });

  test('with --no-deflate, negotiates no extension', async () => {
    const echo = await startEcho('--no-deflate');
    const c = await open(echo.url, { perMessageDeflate: true });
    expect(c.extensions).toBe('');
    const reply = next<[Buffer]>(c, 'message');
    c.send('plain '.repeat(1000));
    expect((await reply)[0].toString()).toBe('plain '.repeat(1000));
  });

  test('with --max-payload 1000, closes with 1009 on a larger message', async () => {
    const echo = await startEcho('--max-payload', '1000');
    const c = await open(echo.url);
    const closed = next<[number, string]>(c, 'close');
    const reply = next<[Buffer]>(c, 'message');
    c.send(Buffer.alloc(1000, 1));
    expect((await reply)[0].length).toBe(1000);
    c.send(Buffer.alloc(1001, 1));
    expect((await closed)[0]).toBe(1009);
  });

  test('exits with status 2 on a bad argument', async () => {
    const child = spawn(process.execPath, [bin, '--port', 'nope']);
    const [code] = await next<[number]>(child, 'exit');
    expect(code).toBe(2);
  });

  test('stops reading from a peer that sends but never reads, and echoes everything once it reads again', async () => {
    const echo = await startEcho('--no-deflate');
    const peer = await rawUpgrade(resources, echo.port);
    peer.socket.pause(); // never read: the server's echoes pile up in the kernel, then in the server

    const payload = Buffer.alloc(64 * 1024, 0x37);
    const frame = frameBytes(Opcode.Binary, payload, { mask: true });
    const limit = 4096; // 256 MiB: far more than every socket buffer on the path together
    let sent = 0;
    let stalled = false;
    while (sent < limit) {
      const ok = peer.socket.write(frame);
      sent++;
      if (ok) continue;
      // The server reads only while it can echo. Once it stops, our writes
      // stop draining: no event can announce that, so a pause of half a
      // second without a 'drain' is taken as the stall. A slow machine can
      // only make the stall come earlier, never hide one.
      const drained = await Promise.race([
        next(peer.socket, 'drain').then(() => true),
        new Promise<boolean>((resolve) => setTimeout(resolve, 500, false)),
      ]);
      if (!drained) {
        stalled = true;
        break;
      }
    }
    expect(stalled, `the server read all ${sent} frames without the peer reading any`).toBe(true);
    expect(peer.socket.writableLength).toBeGreaterThan(0);
    expect(sent).toBeLessThan(limit);

    // Nor does the server hold the backlog in memory.
    const status = `/proc/${echo.child.pid}/status`;
    if (existsSync(status)) {
      const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(status, 'utf8'))?.[1]);
      expect(rssKiB).toBeLessThan(200 * 1024);
    }

    peer.socket.resume();
    await peer.until(() => peer.payloads(Opcode.Binary).length === sent);
    expect(peer.payloads(Opcode.Binary).every((p) => p.equals(payload))).toBe(true);
  });

  // Regression: a message that arrives while the previous echo is still being
  // compressed makes send() return false; the server then pauses until a
  // 'drain' that never comes, and stops echoing for good.
  test('keeps echoing after a message arrives while the previous echo is being compressed', { timeout: 5000 }, async () => {
    const echo = await startEcho();
    const peer = await rawUpgrade(resources, echo.port, { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    expect(peer.response).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/i);
    // Both in one packet: the second is read while the first's echo (≥ 1024 bytes) is compressing.
    peer.write(
      Buffer.concat([
        frameBytes(Opcode.Text, Buffer.alloc(5000, 0x78), { mask: true }),
        frameBytes(Opcode.Text, Buffer.from('small'), { mask: true }),
      ]),
    );
    await peer.until(() => peer.payloads(Opcode.Text).length === 2);
    peer.write(frameBytes(Opcode.Text, Buffer.from('third'), { mask: true }));
    await peer.until(() => peer.payloads(Opcode.Text).length === 3);
    expect(peer.payloads(Opcode.Text)[2]!.toString()).toBe('third');
  });
});
