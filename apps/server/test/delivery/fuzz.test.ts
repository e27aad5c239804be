import net from 'node:net';
import zlib from 'node:zlib';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ChatSocket,
  createCleanup,
  createRandom,
  createRoom,
  guest,
  killAtCleanup,
  parseServerFrames,
  rawFrame,
  rssBytes,
  rawUpgrade,
  sleep,
  startServer,
  tempDir,
  within,
  type Account,
  type Msg,
  type Random,
  type ServerProcess,
} from './support.js';

const cleanup = createCleanup();
afterEach(() => cleanup.run());

/** Replay a failure with FUZZ_SEED=<the seed printed> (and FUZZ_MS to run longer). */
const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const DURATION_MS = Number(process.env.FUZZ_MS ?? 5000);
const JSON_WORKERS = 4;
const FRAME_WORKERS = 2;
/** Stays under the server's frame limit (6 × MAX_MESSAGE_BYTES + 4 KiB): a larger one is a legitimate 1009. */
const MAX_FUZZ_TEXT = 20_000;
const ROOMS = ['fuzz', 'fuzz-two'];

// ---- generators ------------------------------------------------------------------

function randomString(rng: Random, max: number): string {
  const alphabets = [
    'abcdefghijklmnopqrstuvwxyz0123456789-',
    '{}[]":,\\ \t\n\r',
    '\u0000\u0001\u001f\u007f\u00e9\u2028\u2029\ud83d\ude00\ufeff\ufffd',
  ];
  const length = rng.int(0, max);
  let out = '';
  for (let i = 0; i < length; i++) out += rng.pick(rng.pick(alphabets).split(''));
  // A lone surrogate now and then (sent as U+FFFD, still valid UTF-8).
  if (rng.bool(0.05)) out += '\ud800';
  return out;
}

function nested(rng: Random, depth: number): unknown {
  let value: unknown = rng.pick([1, 'x', null, true]);
  for (let i = 0; i < depth; i++) value = rng.bool() ? [value] : { a: value };
  return value;
}

function oddValue(rng: Random): unknown {
  switch (rng.int(0, 14)) {
    case 0: return null;
    case 1: return rng.bool();
    case 2: return -1;
    case 3: return 1e308;
    case 4: return -1e308;
    case 5: return 2 ** 53 + 2;
    case 6: return 1.5;
    case 7: return 0;
    case 8: return '';
    case 9: return randomString(rng, 80);
    case 10: return 'x'.repeat(rng.int(60, 5000));
    case 11: return [];
    case 12: return { type: 'join', room: 'fuzz' };
    case 13: return nested(rng, rng.int(1, 200));
    default: return rng.int(-(2 ** 31), 2 ** 31);
  }
}

function validEnvelope(rng: Random, n: number): Record<string, unknown> {
  const room = rng.bool(0.8) ? rng.pick(ROOMS) : rng.pick(['no-such-room', 'general', 'a']);
  switch (rng.int(0, 7)) {
    case 0: return { type: 'join', room, ...(rng.bool() ? { since: rng.int(0, 50) } : {}) };
    case 1: return { type: 'leave', room };
    case 2: return { type: 'send', room, text: randomString(rng, 100) || 'x', clientMsgId: `f${n}-${rng.int(0, 20)}` };
    case 3: return { type: 'history', room, ...(rng.bool() ? { before: rng.int(0, 50) } : {}), ...(rng.bool() ? { limit: rng.int(1, 100) } : {}) };
    case 4: return { type: 'typing', room };
    case 5: return { type: 'edit', room, id: rng.int(0, 50), text: randomString(rng, 50) || 'y' };
    case 6: return { type: 'delete', room, id: rng.int(0, 50) };
    default: return { type: 'read', room, seq: rng.int(0, 60) };
  }
}

/** One text frame of fuzz: random text, a mutated envelope, odd JSON, deep nesting. */
function fuzzText(rng: Random, n: number): string {
  const kind = rng.int(0, 9);
  let text: string;
  if (kind === 0) {
    text = rng.bytes(rng.int(0, 400)).toString(rng.bool() ? 'latin1' : 'utf8');
  } else if (kind === 1) {
    text = randomString(rng, 300);
  } else if (kind === 2) {
    text = JSON.stringify(oddValue(rng)) ?? 'undefined';
  } else if (kind === 3) {
    const depth = rng.int(100, 6000);
    text = rng.bool() ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth / 4)}1${'}'.repeat(depth / 4)}`;
  } else if (kind === 4) {
    // Valid, then cut or with garbage after it.
    const json = JSON.stringify(validEnvelope(rng, n));
    text = rng.bool() ? json.slice(0, rng.int(0, json.length - 1)) : json + randomString(rng, 10);
  } else if (kind === 5) {
    text = `{"type":"join","room":"fuzz","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}`;
  } else {
    const message = validEnvelope(rng, n);
    for (let m = rng.int(1, 3); m > 0; m--) {
      const keys = Object.keys(message);
      const action = rng.int(0, 4);
      if (action === 0 && keys.length > 0) delete message[rng.pick(keys)];
      else if (action === 1 && keys.length > 0) message[rng.pick(keys)] = oddValue(rng);
      else if (action === 2) message[randomString(rng, 12) || 'k'] = oddValue(rng);
      else if (action === 3) message.type = rng.pick(['JOIN', 'send ', '', 'message', 'joined', 'error', randomString(rng, 10)]);
      else message.ref = oddValue(rng);
    }
    text = JSON.stringify(message);
  }
  return text.length > MAX_FUZZ_TEXT ? text.slice(0, MAX_FUZZ_TEXT) : text;
}

/** RFC 7692 §7.2.1: a message compressed with DEFLATE, the final empty block's 00 00 ff ff removed. */
function deflated(data: Buffer): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A compressed text frame (RSV1): real JSON, a bomb that inflates far past the limit, or corrupt data. */
function compressedFrame(rng: Random, n: number): Buffer {
  const kind = rng.int(0, 3);
  const payload =
    kind === 0
      ? deflated(Buffer.from(fuzzText(rng, n)))
      : kind === 1
        ? deflated(Buffer.alloc(rng.pick([100_000, 10_000_000]), rng.pick([0x20, 0x7b])))
        : kind === 2
          ? rng.bytes(rng.int(1, 300))
          : (() => {
              const good = deflated(Buffer.from(JSON.stringify(validEnvelope(rng, n))));
              const at = rng.int(0, good.length - 1);
              good[at] = good[at]! ^ (1 << rng.int(0, 7));
              return good;
            })();
  return rawFrame({ fin: rng.bool(0.9), rsv: 0b100, opcode: rng.pick([0x1, 0x1, 0x2, 0x0]), payload, mask: rng.bytes(4) });
}

/** Random frames for a raw connection: any opcode, FIN/RSV bits, mask or none, lying lengths, fragments, garbage. */
function fuzzFrames(rng: Random, compression: boolean): Buffer[] {
  const frames: Buffer[] = [];
  for (let i = rng.int(1, 5); i > 0; i--) {
    const kind = rng.int(0, 9);
    if (kind === 0) {
      frames.push(rng.bytes(rng.int(1, 64)));
      continue;
    }
    if (compression && kind <= 3) {
      frames.push(compressedFrame(rng, i));
      continue;
    }
    const opcode = kind <= 3 ? rng.pick([0x1, 0x2, 0x0]) : kind <= 5 ? rng.pick([0x8, 0x9, 0xa]) : rng.int(0, 15);
    let payload: Buffer;
    if (opcode === 0x8 && rng.bool(0.7)) {
      payload = Buffer.alloc(rng.pick([0, 1, 2, 2, 5]));
      if (payload.length >= 2) payload.writeUInt16BE(rng.pick([1000, 1001, 1004, 1005, 1006, 1015, 999, 2999, 3000, 4999, 5000, 0, 65535]), 0);
      if (payload.length > 2) payload.write('\u00ff', 2, 'latin1');
    } else if (rng.bool(0.4)) {
      payload = Buffer.from(fuzzText(rng, i));
    } else {
      payload = rng.bytes(rng.pick([0, 1, 7, 125, 126, 127, 200, 1000, 70_000]));
    }
    const lie = rng.bool(0.15);
    frames.push(
      rawFrame({
        fin: rng.bool(0.85),
        rsv: rng.bool(0.85) ? 0 : rng.int(1, 7),
        opcode,
        payload,
        mask: rng.bool(0.9) ? rng.bytes(4) : null,
        ...(lie ? { declaredLength: rng.pick([0, 1, 125, 126, 65_535, 65_536, 2 ** 31, 2n ** 63n, 2n ** 64n - 1n]) } : {}),
      }),
    );
  }
  return frames;
}

/** A malformed upgrade request: wrong version, missing or bad key, odd methods and headers. */
function fuzzHandshake(rng: Random, port: number, token: string): string {
  const lines = [
    rng.pick(['GET /ws HTTP/1.1', 'POST /ws HTTP/1.1', 'GET /ws HTTP/1.0', 'GET /elsewhere HTTP/1.1', 'GET /ws?x=%ff HTTP/1.1', randomString(rng, 30)]),
    `Host: 127.0.0.1:${port}`,
  ];
  if (rng.bool(0.8)) lines.push(`Upgrade: ${rng.pick(['websocket', 'WebSocket', 'h2c', ''])}`);
  if (rng.bool(0.8)) lines.push(`Connection: ${rng.pick(['Upgrade', 'keep-alive, Upgrade', 'close'])}`);
  if (rng.bool(0.8)) lines.push(`Sec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', '', randomString(rng, 40)])}`);
  if (rng.bool(0.8)) lines.push(`Sec-WebSocket-Version: ${rng.pick(['13', '8', '', 'x'])}`);
  if (rng.bool(0.5)) lines.push(`Sec-WebSocket-Extensions: ${rng.pick(['permessage-deflate; client_max_window_bits=99', 'permessage-deflate; x', randomString(rng, 30)])}`);
  if (rng.bool(0.5)) lines.push(`Sec-WebSocket-Protocol: ${rng.pick(['chat.v1', 'chat.v1, chat.v1', ',,,', randomString(rng, 20)])}`);
  if (rng.bool(0.7)) lines.push(`Authorization: Bearer ${rng.bool(0.8) ? token : randomString(rng, 300)}`);
  if (rng.bool(0.2)) lines.push(`Cookie: session=${randomString(rng, 50)}`);
  if (rng.bool(0.1)) lines.push(`X-Big: ${'a'.repeat(rng.int(1000, 20_000))}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// ---- workers ------------------------------------------------------------------------

interface JsonStats {
  frames: number;
  replies: number;
  internal: Msg[];
}

/** Sends batches of fuzz text; after each, a `history` with a ref whose reply proves the batch was handled. */
async function jsonWorker(
  server: ServerProcess,
  account: Account,
  rng: Random,
  deadline: number,
  compression: boolean,
): Promise<JsonStats & { socket: ChatSocket }> {
  const socket = await ChatSocket.open(server.wsUrl, account, {}, compression ? { perMessageDeflate: true } : {});
  cleanup.add(() => socket.connection.terminate());
  socket.keep = false;
  const stats: JsonStats = { frames: 0, replies: 0, internal: [] };
  socket.onMessage((m) => {
    stats.replies++;
    if (m.type === 'error' && m.code === 'internal') stats.internal.push(m);
  });
  for (const room of ROOMS) socket.send({ type: 'join', room });
  for (let batch = 0; batch < 10_000 && Date.now() < deadline && socket.open; batch++) {
    for (let i = 0; i < 20; i++) {
      socket.sendText(fuzzText(rng, stats.frames));
      stats.frames++;
    }
    const ref = `sync-${batch}`;
    socket.send({ type: 'history', room: 'fuzz', limit: 1, ref });
    await socket.waitFor(`the reply to ${ref}`, (m) => m.ref === ref, 10_000);
  }
  return { ...stats, socket };
}

interface FrameStats {
  connections: number;
  closedByServer: number;
  refused: number;
  closeCodes: Map<number, number>;
}

/** Opens raw connections one after another and sends each random frames or a malformed handshake. */
async function frameWorker(
  server: ServerProcess,
  account: Account,
  rng: Random,
  deadline: number,
  compression: boolean,
): Promise<FrameStats> {
  const stats: FrameStats = { connections: 0, closedByServer: 0, refused: 0, closeCodes: new Map() };
  for (let i = 0; i < 5000 && Date.now() < deadline; i++) {
    stats.connections++;
    if (rng.bool(0.15)) {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      socket.on('error', () => {});
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('data', () => {});
      socket.write(fuzzHandshake(rng, server.port, account.token));
      if (await Promise.race([closed.then(() => true), sleep(150).then(() => false)])) stats.closedByServer++;
      socket.destroy();
      await closed;
      continue;
    }
    const peer = await rawUpgrade(server.port, {
      Authorization: `Bearer ${account.token}`,
      ...(compression ? { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } : {}),
    });
    if (peer.status !== 101) {
      stats.refused++;
      peer.socket.destroy();
      continue;
    }
    if (compression) expect(peer.response.toLowerCase()).toContain('permessage-deflate');
    const bytes = Buffer.concat(fuzzFrames(rng, compression));
    // Written whole, or split at random points (the parser must not care).
    for (let at = 0; at < bytes.length; ) {
      const end = rng.bool(0.5) ? bytes.length : Math.min(bytes.length, at + rng.int(1, 64));
      peer.socket.write(bytes.subarray(at, end));
      at = end;
    }
    if (await Promise.race([peer.closed.then(() => true), sleep(rng.int(5, 120)).then(() => false)])) stats.closedByServer++;
    for (const f of parseServerFrames(peer.data)) {
      if (f.opcode === 0x8 && f.payload.length >= 2) {
        const code = f.payload.readUInt16BE(0);
        stats.closeCodes.set(code, (stats.closeCodes.get(code) ?? 0) + 1);
      }
    }
    peer.socket.destroy();
    await peer.closed;
  }
  return stats;
}

describe.each([
  { compression: false, label: 'without compression' },
  { compression: true, label: 'with permessage-deflate' },
])('fuzzing the WebSocket endpoint $label', ({ compression }) => {
  it(`survives random JSON, mutated envelopes and random frames (seed ${SEED}), then serves a normal client`, async () => {
    const dir = await tempDir();
    cleanup.add(() => dir.remove());
    const server = killAtCleanup(
      cleanup,
      await startServer({
        databasePath: path.join(dir.path, 'chat.db'),
        env: {
          RATE_MESSAGES_PER_SECOND: '1000000',
          RATE_JOINS_PER_MINUTE: '1000000',
          MAX_CONNECTIONS_PER_USER: '100',
          WS_COMPRESSION: String(compression),
        },
      }),
    );
    for (const room of ROOMS) await createRoom(server.url, room);
    const accounts = await Promise.all(Array.from({ length: JSON_WORKERS + FRAME_WORKERS }, (_, i) => guest(server.url, `z${i}`)));

    const deadline = Date.now() + DURATION_MS;
    let maxRss = rssBytes(server.pid) ?? 0;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssBytes(server.pid) ?? 0)), 50);
    cleanup.add(() => clearInterval(sampler));
    const [jsonResults, frameResults] = await within(
      'the fuzz workers to finish',
      Promise.all([
        Promise.all(accounts.slice(0, JSON_WORKERS).map((a, i) => jsonWorker(server, a, createRandom(SEED + i), deadline, compression))),
        Promise.all(accounts.slice(JSON_WORKERS).map((a, i) => frameWorker(server, a, createRandom(SEED + 100 + i), deadline, compression))),
      ]),
      DURATION_MS + 30_000,
    );

    const codes = new Map<number, number>();
    for (const r of frameResults) for (const [code, n] of r.closeCodes) codes.set(code, (codes.get(code) ?? 0) + n);
    console.log(
      `[fuzz] ${compression ? 'deflate' : 'plain'} seed ${SEED}: ${jsonResults.reduce((n, r) => n + r.frames, 0)} JSON frames on ${JSON_WORKERS} connections ` +
        `(${jsonResults.reduce((n, r) => n + r.replies, 0)} replies); ${frameResults.reduce((n, r) => n + r.connections, 0)} raw connections, ` +
        `${frameResults.reduce((n, r) => n + r.closedByServer, 0)} closed by the server, close codes ${JSON.stringify([...codes].sort())}; ` +
        `server max RSS ${(maxRss / 1048576).toFixed(0)} MB`,
    );

    expect(server.alive(), `the server died (seed ${SEED}):\n${server.output()}`).toBe(true);
    // Text that is not an acceptable message gets an error and the connection stays open (docs/protocol.md).
    for (const r of jsonResults) {
      expect(r.socket.closeInfo, `a JSON fuzz connection was closed (seed ${SEED})`).toBeUndefined();
      expect(r.internal, `the server failed on fuzz input (seed ${SEED})`).toEqual([]);
    }
    for (const r of frameResults) expect(r.refused).toBe(0);

    // A normal client still registers, joins, sends and receives.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const alice = await ChatSocket.open(server.wsUrl, await guest(server.url, 'after'));
    cleanup.add(() => alice.connection.terminate());
    const bob = await ChatSocket.open(server.wsUrl, await guest(server.url, 'after'));
    cleanup.add(() => bob.connection.terminate());
    await createRoom(server.url, 'after-fuzz');
    await alice.join('after-fuzz');
    await bob.join('after-fuzz');
    const own = await alice.call({ type: 'send', room: 'after-fuzz', text: 'still here', clientMsgId: 'ok-1' });
    expect(own).toMatchObject({ type: 'message', seq: 1, text: 'still here' });
    expect(await bob.waitFor('alice’s message', (m) => m.type === 'message')).toMatchObject({ seq: 1, text: 'still here', author: alice.name });
    expect(server.alive()).toBe(true);
  }, 90_000);
});
