#!/usr/bin/env node
// Benchmarks @chat/protocol side by side with `ws` (which picks up bufferutil
// on its own) in one process run, and prints a markdown table: ours, ws, and
// ours/ws for each row. Build first (`pnpm build`), then `pnpm bench`.
//
//   node bench/run.mjs [--quick] [--only=decode,encode,echo,idle] [--filter=TEXT] [--conns=N]
//
//   --quick     short durations and 1,000 idle connections (a smoke test)
//   --only      run only these groups
//   --filter    run only the rows whose name contains TEXT (for profiling one case)
//   --conns     idle connections for the RSS row (default 10,000; 1,000 with --quick)
//   --side      run only one side of the micro benchmarks, ours or ws (for a
//               clean profile: node --cpu-prof bench/run.mjs --side=ours --filter=...)
//
// BENCH_TARGET_NODE_ARGS adds node flags for the server child, e.g.
// BENCH_TARGET_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the echo server.
//
// Results also go to bench/results/latest.json (git-ignored: bench/.gitignore).
//
// Method. Micro benchmarks: each case is warmed up, then run 3 times for a
// fixed time, ours and ws alternating; the median run is reported. Only the
// work itself is timed (process.hrtime.bigint around each batch): both
// parsers unmask their input in place, so each batch is fed a fresh copy of
// the masked input, made outside the timed section. Decoding is fed ~64 KiB
// chunks holding many frames, split anywhere, as a socket delivers them.
// Loopback rows: the server runs in a child process (bench/echo-target.mjs),
// the clients in this one, so each side has a core.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { maskBackend } from '../dist/index.js';
import { openClient } from './clients.mjs';
import { encodeFrame } from '../dist/frame-encoder.js';
import { FrameParser } from '../dist/frame-parser.js';
import { MessageReader } from '../dist/message-reader.js';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');
// ws' package exports hide lib/; the same modules are reachable from its index
// (Receiver, Sender) or by absolute path (the very module instance ws uses).
const { Receiver, Sender } = WebSocket;
const wsDir = path.dirname(require.resolve('ws'));
const wsBufferUtil = require(path.join(wsDir, 'lib', 'buffer-util.js'));

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    filter: { type: 'string' },
    conns: { type: 'string' },
    side: { type: 'string' },
  },
});
const QUICK = args.quick;
const ONLY = args.only ? new Set(args.only.split(',')) : undefined;
const group = (name) => !ONLY || ONLY.has(name);
const selected = (rowName) => !args.filter || rowName.includes(args.filter);

const CFG = QUICK
  ? { microMs: 200, microWarmMs: 100, runs: 3, echoWarmMs: 200, echoWindowMs: 400, idleConns: 1000 }
  : { microMs: 700, microWarmMs: 300, runs: 7, echoWarmMs: 500, echoWindowMs: 2000, idleConns: 10_000 };
if (args.conns) CFG.idleConns = Number(args.conns);

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_PAYLOAD = 16 * MiB;
const CHUNK = 64 * KiB;
const ECHO_CONNS = 100;
const ECHO_WINDOW = 16;
const ECHO_SIZE = 32;
const IDLE_CONCURRENCY = 500;

const rows = [];
const children = new Set();

// Everything is bounded: a stuck run is killed, not waited for.
const watchdog = setTimeout(
  () => {
    console.error('bench: watchdog expired, giving up');
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  },
  (QUICK ? 4 : 20) * 60_000,
);
watchdog.unref();

// ---------------------------------------------------------------------------
// helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function addRow(row) {
  row.ratio = row.ours !== undefined && row.ws ? row.ours / row.ws : undefined;
  rows.push(row);
  const r = row.ratio === undefined ? 'n/a' : row.ratio.toFixed(2);
  console.error(`  ${row.name}: ours ${fmt(row.ours)} ${row.unit}, ws ${fmt(row.ws)}, ours/ws ${r}${row.note ? ` (${row.note})` : ''}`);
}

/** Valid UTF-8 of exactly `bytes` bytes, with 2-, 3- and 4-byte sequences in it. */
function utf8Text(bytes) {
  const pattern = [...'chat: héllo wörld — ça va? ✓ 😀 日本語 '];
  let s = '';
  let n = 0;
  for (let i = 0; ; i++) {
    const ch = pattern[i % pattern.length];
    const b = Buffer.byteLength(ch);
    if (n + b > bytes) break;
    s += ch;
    n += b;
  }
  const out = Buffer.from(s + 'x'.repeat(bytes - n));
  if (out.length !== bytes) throw new Error('utf8Text length');
  return out;
}

function randomBytes(n) {
  const b = Buffer.allocUnsafe(n);
  // crypto.randomFillSync caps at 2^31-1; fine for 16 MiB.
  return require('node:crypto').randomFillSync(b);
}

/** A masked (client) frame, built independently of both implementations. */
function maskedFrame(opcode, payload) {
  const len = payload.length;
  const hl = len < 126 ? 2 : len < 0x10000 ? 4 : 10;
  const f = Buffer.allocUnsafe(hl + 4 + len);
  f[0] = 0x80 | opcode;
  if (len < 126) f[1] = 0x80 | len;
  else if (len < 0x10000) {
    f[1] = 0x80 | 126;
    f.writeUInt16BE(len, 2);
  } else {
    f[1] = 0x80 | 127;
    f.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    f.writeUInt32BE(len >>> 0, 6);
  }
  const mask = randomBytes(4);
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) mask[0] = 1; // ws skips all-zero masks
  mask.copy(f, hl);
  const p = hl + 4;
  for (let i = 0; i < len; i++) f[p + i] = payload[i] ^ mask[i & 3];
  return f;
}

/**
 * Times `run` (which returns the operations it did) for `ms` of timed work;
 * `prepare` runs before each batch, untimed. Returns operations per second.
 */
function timed(prepare, run, ms) {
  const budget = BigInt(Math.round(ms * 1e6));
  const wallLimit = process.hrtime.bigint() + budget * 6n + 2_000_000_000n;
  let spent = 0n;
  let ops = 0;
  while (spent < budget) {
    prepare();
    const t0 = process.hrtime.bigint();
    ops += run();
    const t1 = process.hrtime.bigint();
    spent += t1 - t0;
    if (t1 > wallLimit) break;
  }
  return ops / (Number(spent) / 1e9);
}

/** Warm both, then alternating runs (7; 3 with --quick); medians, which a run or two disturbed by the machine cannot move. */
function compare(ours, theirs) {
  const doOurs = args.side !== 'ws';
  const doWs = args.side !== 'ours';
  if (doOurs) timed(ours.prepare, ours.run, CFG.microWarmMs);
  if (doWs) timed(theirs.prepare, theirs.run, CFG.microWarmMs);
  const a = [];
  const b = [];
  for (let i = 0; i < CFG.runs; i++) {
    if (doOurs) a.push(timed(ours.prepare, ours.run, CFG.microMs));
    if (doWs) b.push(timed(theirs.prepare, theirs.run, CFG.microMs));
  }
  return { ours: doOurs ? median(a) : undefined, ws: doWs ? median(b) : undefined, runs: { ours: a, ws: b } };
}

// ---------------------------------------------------------------------------
// 1–2. decode

function makeOursDecoder() {
  const state = { count: 0, last: undefined };
  const sink = {
    onMessage(data) {
      state.count++;
      state.last = data;
    },
    onCompressedMessage() {
      throw new Error('unexpected compressed message');
    },
    onPing() {},
    onPong() {},
    onClose() {},
  };
  const parser = new FrameParser(new MessageReader({ role: 'server', maxPayload: MAX_PAYLOAD, compression: false }, sink));
  return { state, push: (c) => parser.push(c) };
}

function makeWsDecoder() {
  const state = { count: 0, last: undefined, error: undefined };
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer', extensions: {} });
  receiver.on('message', (data) => {
    state.count++;
    state.last = data;
  });
  receiver.on('error', (err) => {
    state.error = err;
  });
  // What ws' socket 'data' handler does with each chunk.
  return { state, push: (c) => receiver.write(c) };
}

function decodeCase(name, opcode, payload, batchBytes, unit) {
  if (!selected(name)) return;
  const frame = maskedFrame(opcode, payload);
  const frames = Math.max(1, Math.floor(batchBytes / frame.length));
  const list = [];
  for (let i = 0; i < frames; i++) list.push(i === 0 ? frame : maskedFrame(opcode, payload));
  const pristine = Buffer.concat(list);
  const work = Buffer.allocUnsafe(pristine.length);
  const chunks = [];
  for (let o = 0; o < work.length; o += CHUNK) chunks.push(work.subarray(o, Math.min(o + CHUNK, work.length)));

  const side = (decoder) => {
    const prepare = () => {
      if (decoder.state.count % frames !== 0 || decoder.state.error) {
        throw new Error(`${name}: decoder lost frames (${decoder.state.error?.message ?? decoder.state.count})`);
      }
      pristine.copy(work);
    };
    const run = () => {
      for (let i = 0; i < chunks.length; i++) decoder.push(chunks[i]);
      return frames;
    };
    return { prepare, run };
  };

  // Check once that both decode the input to the original payload.
  for (const d of [makeOursDecoder(), makeWsDecoder()]) {
    pristine.copy(work);
    for (const c of chunks) d.push(c);
    if (d.state.count !== frames || !d.state.last?.equals(payload)) throw new Error(`${name}: decode check failed`);
  }

  const ours = makeOursDecoder();
  const ws = makeWsDecoder();
  const r = compare(side(ours), side(ws));
  const scale = unit === 'MB/s' ? payload.length / 1e6 : 1;
  addRow({
    group: 'decode',
    name,
    unit,
    ours: r.ours === undefined ? undefined : r.ours * scale,
    ws: r.ws === undefined ? undefined : r.ws * scale,
    runs: r.runs,
    note: `${frames} frame(s) per ${fmt(pristine.length)} B batch in ${chunks.length} chunk(s)`,
  });
}

// ---------------------------------------------------------------------------
// 3. encode

function encodeCase(name, opcode, payload, mask, unit) {
  if (!selected(name)) return;
  const size = payload.length;
  // Enough frames per batch that the timer is negligible.
  const perBatch = mask ? Math.min(20_000, Math.max(1, Math.floor(2 * MiB / size))) : 20_000;
  // readOnly: true is what ws.send() passes for a caller's Buffer: masked
  // frames are then copied (not masked in place), as ours always does.
  const wsOpts = { fin: true, opcode, mask, readOnly: true, rsv1: false };
  let sink = 0;

  // Check: both produce a well-formed frame of the right length.
  const len = (parts) => parts.reduce((n, p) => n + p.length, 0);
  const hl = (size < 126 ? 2 : size < 0x10000 ? 4 : 10) + (mask ? 4 : 0);
  if (len(encodeFrame(opcode, payload, true, false, mask)) !== hl + size || len(Sender.frame(payload, wsOpts)) !== hl + size) {
    throw new Error(`${name}: encode check failed`);
  }

  const ours = {
    prepare() {},
    run() {
      for (let i = 0; i < perBatch; i++) sink += encodeFrame(opcode, payload, true, false, mask).length;
      return perBatch;
    },
  };
  const ws = {
    prepare() {},
    run() {
      for (let i = 0; i < perBatch; i++) sink += Sender.frame(payload, wsOpts).length;
      return perBatch;
    },
  };
  const r = compare(ours, ws);
  if (sink === 0) throw new Error('unreachable');
  const scale = unit === 'MB/s' ? size / 1e6 : 1;
  const scaled = (x) => (x === undefined ? undefined : x * scale);
  addRow({ group: 'encode', name, unit, ours: scaled(r.ours), ws: scaled(r.ws), runs: r.runs });
}

// ---------------------------------------------------------------------------
// 4–5. loopback, with the server in a child process

function nofile() {
  try {
    const m = /Max open files\s+(\S+)\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? { soft: m[1], hard: m[2] } : undefined;
  } catch {
    return undefined;
  }
}

/** Starts bench/echo-target.mjs; the shell raises its fd limit to the hard limit first, where allowed. */
async function startTarget(impl) {
  const target = path.join(here, 'echo-target.mjs');
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
      process.execPath,
      ...(process.env.BENCH_TARGET_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
      '--expose-gc',
      target,
      impl,
    ],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  let nextId = 1;
  const pending = new Map();
  let ready;
  const readyP = new Promise((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`echo-target ${impl} exited (${code})`)));
    setTimeout(() => reject(new Error(`echo-target ${impl} did not start`)), 10_000).unref();
  });
  child.on('message', (msg) => {
    if (msg.ready) ready(msg);
    else if (pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  child.stdout.resume();
  const info = await readyP;
  const ask = (cmd) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ cmd, id });
      setTimeout(() => reject(new Error(`echo-target: no answer to ${cmd}`)), 30_000).unref();
    });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  return { url: `ws://127.0.0.1:${info.port}/`, nofile: info.nofile, ask, stop };
}

/** Runs `fn(i)` for i < n with at most `concurrency` in flight. */
async function pool(n, concurrency, fn) {
  let next = 0;
  let failed = 0;
  const results = [];
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try {
        results.push(await fn(i));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { results, failed };
}

/**
 * Echo load on one server: ECHO_CONNS clients, each keeping ECHO_WINDOW
 * messages in flight while running. Idle (no traffic) between bursts.
 */
async function echoDriver(serverImpl, clientKind) {
  const t = await startTarget(serverImpl);
  const opened = await pool(ECHO_CONNS, ECHO_CONNS, () => openClient(clientKind, t.url));
  const clients = opened.results;
  const close = async () => {
    for (const c of clients) c.terminate();
    await t.stop();
  };
  if (opened.failed) {
    await close();
    throw new Error(`${opened.failed} echo connections to the ${serverImpl} server failed`);
  }
  const msg = utf8Text(ECHO_SIZE);
  let received = 0;
  let inFlight = 0;
  let running = false;
  for (const c of clients) {
    c.onMessage(() => {
      received++;
      if (running) c.send(msg);
      else inFlight--;
    });
  }
  const start = () => {
    running = true;
    for (const c of clients) for (let i = 0; i < ECHO_WINDOW; i++) c.send(msg);
    inFlight = clients.length * ECHO_WINDOW;
  };
  // Stop and let what is in flight come back, so the next burst starts clean.
  const stop = async () => {
    running = false;
    const deadline = Date.now() + 5000;
    while (inFlight > 0 && Date.now() < deadline) await sleep(10);
    if (inFlight > 0) throw new Error(`${inFlight} echoes from the ${serverImpl} server never came back`);
  };
  return { burst: () => measureBurst(t, () => received, start, stop), close };
}

/** One burst of a driver's load: starts it, warms up, measures one window, stops it; msgs/s and CPU shares. */
async function measureBurst(t, received, start, stop) {
  start();
  await sleep(CFG.echoWarmMs);
  await t.ask('cpu-mark');
  const r0 = received();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await sleep(CFG.echoWindowMs);
  const r1 = received();
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3;
  const c1 = process.cpuUsage(c0);
  const serverCpu = (await t.ask('cpu-since-mark')).cpu;
  await stop();
  const rate = (r1 - r0) / (wallUs / 1e6);
  // Server CPU time per echoed message: steadier than msgs/s on a shared machine.
  return { rate, serverCpu, clientCpu: (c1.user + c1.system) / wallUs, serverUsPerMsg: (serverCpu * 1e6) / rate };
}

/**
 * The same load from `threads` worker threads (bench/echo-clients.mjs), the
 * connections split between them: for a client library that saturates one
 * thread before either server saturates its core, which would make the row
 * measure the client rather than the servers.
 */
async function threadedEchoDriver(serverImpl, clientKind, threads) {
  const t = await startTarget(serverImpl);
  const counts = new Int32Array(new SharedArrayBuffer(4 * threads));
  const workers = [];
  const exits = [];
  const close = async () => {
    for (const w of workers) w.postMessage('close');
    await Promise.race([Promise.all(exits), sleep(5000)]);
    for (const w of workers) await w.terminate();
    await t.stop();
  };
  const reply = (w, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`echo clients: no ${what} from a worker`)), 30_000);
      w.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  try {
    for (let i = 0; i < threads; i++) {
      const count = Math.floor(ECHO_CONNS / threads) + (i < ECHO_CONNS % threads ? 1 : 0);
      const w = new Worker(new URL('./echo-clients.mjs', import.meta.url), {
        workerData: { kind: clientKind, url: t.url, count, window: ECHO_WINDOW, message: utf8Text(ECHO_SIZE), counts, slot: i },
      });
      w.on('error', (err) => console.error(`echo clients: ${err.message}`));
      workers.push(w);
      exits.push(new Promise((r) => w.once('exit', r)));
    }
    const ready = await Promise.all(workers.map((w) => reply(w, 'ready')));
    const failed = ready.find((m) => m.failed);
    if (failed) throw new Error(`echo connections to the ${serverImpl} server failed: ${failed.failed}`);
  } catch (err) {
    await close();
    throw err;
  }
  const received = () => {
    let n = 0;
    for (let i = 0; i < threads; i++) n += Atomics.load(counts, i);
    return n;
  };
  const start = () => {
    for (const w of workers) w.postMessage('start');
  };
  const stop = async () => {
    const stopped = workers.map((w) => reply(w, 'stop'));
    for (const w of workers) w.postMessage('stop');
    await Promise.all(stopped);
  };
  const burst = () => measureBurst(t, received, start, stop);
  return { burst, close };
}

async function echoCase(clientKind, threads = 1) {
  const client = `${clientKind === 'ours' ? 'our' : 'ws'} client${threads > 1 ? ` in ${threads} threads` : ''}`;
  const name = `echo ${ECHO_CONNS} conns × ${ECHO_SIZE} B text, window ${ECHO_WINDOW}, ${client}`;
  if (!selected(name)) return;
  const drivers = [];
  try {
    // Both servers up at once; bursts alternate between them (ours, ws, ws,
    // ours, ours, ws, …) so that drifting background load hits both alike.
    const driver = threads > 1 ? (impl) => threadedEchoDriver(impl, clientKind, threads) : (impl) => echoDriver(impl, clientKind);
    drivers.push(await driver('ours'));
    drivers.push(await driver('ws'));
    const res = [[], []];
    for (let r = 0; r < CFG.runs; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) res[i].push(await drivers[i].burst());
    }
    const med = (xs, k) => median(xs.map((x) => x[k]));
    const pct = (x) => `${Math.round(x * 100)}%`;
    const [a, b] = res;
    addRow({
      group: 'echo',
      name,
      unit: 'msgs/s',
      ours: med(a, 'rate'),
      ws: med(b, 'rate'),
      runs: { ours: a, ws: b },
      note:
        `server CPU ours ${pct(med(a, 'serverCpu'))} / ws ${pct(med(b, 'serverCpu'))} of a core; ` +
        `client CPU ${pct(med(a, 'clientCpu'))} / ${pct(med(b, 'clientCpu'))}; ` +
        `runs ours ${a.map((x) => fmt(x.rate)).join(', ')}; ws ${b.map((x) => fmt(x.rate)).join(', ')}`,
    });
    addRow({
      group: 'echo',
      name: `echo server CPU per message, ${client}`,
      unit: 'µs/msg (lower is better)',
      ours: med(a, 'serverUsPerMsg'),
      ws: med(b, 'serverUsPerMsg'),
    });
  } catch (err) {
    addRow({ group: 'echo', name, unit: 'msgs/s', note: `failed: ${err.message}` });
  } finally {
    for (const d of drivers) await d.close();
  }
}

async function idleOnce(serverImpl, n) {
  const t = await startTarget(serverImpl);
  const clients = [];
  const waitOpen = async (target, ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await t.ask('stats');
      if (s.open === target) return s;
      if (Date.now() > deadline) throw new Error(`server has ${s.open} connections, expected ${target}`);
      await sleep(50);
    }
  };
  try {
    // Warm up: the first handshakes load and compile code that later ones share.
    const warm = await pool(100, 100, () => openClient('ours', t.url));
    await waitOpen(warm.results.length, 10_000);
    for (const c of warm.results) c.terminate();
    await waitOpen(0, 10_000);
    const before = await t.ask('gc-rss');
    if (!before.gc) throw new Error('echo-target has no global.gc (needs --expose-gc)');

    const t0 = Date.now();
    const opened = await pool(n, IDLE_CONCURRENCY, async () => {
      const c = await openClient('ours', t.url);
      clients.push(c);
      return c;
    });
    const openMs = Date.now() - t0;
    await waitOpen(clients.length, 30_000);
    await sleep(500);
    const after = await t.ask('gc-rss');
    const count = after.open;
    return {
      count,
      failed: opened.failed,
      openMs,
      rss: (after.rss - before.rss) / count,
      heap: (after.heapUsed - before.heapUsed) / count,
      external: (after.external - before.external) / count,
      before,
      after,
      nofile: t.nofile,
    };
  } finally {
    for (const c of clients) c.terminate();
    await t.stop();
  }
}

async function idleCase() {
  const n = CFG.idleConns;
  const name = `RSS per idle connection, ${n.toLocaleString('en-US')} open (server, after GC)`;
  if (!selected(name)) return;
  const parentLimit = nofile();
  const soft = parentLimit && parentLimit.soft !== 'unlimited' ? Number(parentLimit.soft) : Infinity;
  if (soft < n + 200) {
    addRow({ group: 'idle', name, unit: 'B/conn', note: `skipped: ulimit -n is ${soft} here, need > ${n + 200} (raise it: ulimit -n ${n + 1000})` });
    return;
  }
  try {
    const a = await idleOnce('ours', n);
    await sleep(500);
    const b = await idleOnce('ws', n);
    const incomplete = a.count !== n || b.count !== n ? ` — only ${a.count} / ${b.count} of ${n} opened` : '';
    addRow({
      group: 'idle',
      name,
      unit: 'B/conn (lower is better)',
      ours: a.rss,
      ws: b.rss,
      detail: { ours: a, ws: b, parentNofile: parentLimit },
      note: `JS heap/conn ours ${fmt(a.heap)} / ws ${fmt(b.heap)}; opened in ${a.openMs} / ${b.openMs} ms; server fd limit ${a.nofile?.soft}${incomplete}`,
    });
  } catch (err) {
    addRow({ group: 'idle', name, unit: 'B/conn', note: `failed: ${err.message}` });
  }
}

// ---------------------------------------------------------------------------

const wsVersion = require(path.join(wsDir, 'package.json')).version;
const bufferutilActive = /bufferUtil\.unmask/.test(wsBufferUtil.unmask.toString());
const env = {
  date: new Date().toISOString(),
  node: process.version,
  ws: wsVersion,
  bufferutil: bufferutilActive ? 'native (picked up by ws)' : 'NOT loaded',
  cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism?.() ?? os.cpus().length}`,
  quick: QUICK,
  config: CFG,
  loadavgAtStart: os.loadavg(),
};
if (os.loadavg()[0] > os.cpus().length / 2) {
  console.error(`bench: warning: load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs — other work will skew the numbers`);
}
console.error(`bench: node ${env.node}, ws ${env.ws}, bufferutil ${env.bufferutil}, ${env.cpu}${QUICK ? ', --quick' : ''}`);

if (group('decode')) {
  console.error('decode (masked client frames, 64 KiB chunks)…');
  decodeCase('decode 16 B text', 0x1, utf8Text(16), 1 * MiB, 'frames/s');
  decodeCase('decode 125 B text', 0x1, utf8Text(125), 1 * MiB, 'frames/s');
  decodeCase('decode 64 KiB binary', 0x2, randomBytes(64 * KiB), 4 * MiB, 'MB/s');
  decodeCase('decode 16 MiB binary', 0x2, randomBytes(16 * MiB), 16 * MiB, 'MB/s');
}
if (group('encode')) {
  console.error('encode…');
  const sizes = [
    ['16 B text', 0x1, utf8Text(16), 'frames/s'],
    ['125 B text', 0x1, utf8Text(125), 'frames/s'],
    ['64 KiB binary', 0x2, randomBytes(64 * KiB), 'MB/s'],
    ['16 MiB binary', 0x2, randomBytes(16 * MiB), 'MB/s'],
  ];
  for (const [label, op, payload, unit] of sizes) {
    // Unmasked large frames are a header plus the caller's buffer (no copy, both): count frames.
    encodeCase(`encode ${label}, server (unmasked)`, op, payload, false, payload.length > 2048 ? 'frames/s' : unit);
  }
  for (const [label, op, payload, unit] of sizes) encodeCase(`encode ${label}, client (masked)`, op, payload, true, unit);
}
if (group('echo')) {
  console.error('loopback echo (server in a child process)…');
  await echoCase('ours');
  // One thread of ws clients saturates before either server does (the rate
  // would be the client's): two threads, so the servers are what is compared.
  await echoCase('ws', 2);
}
if (group('idle')) {
  console.error(`idle connections (server in a child process, ${CFG.idleConns} clients here, ${IDLE_CONCURRENCY} handshakes at a time)…`);
  await idleCase();
}

// ---------------------------------------------------------------------------
// report

env.loadavgAtEnd = os.loadavg();
const la = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
const lines = [];
lines.push(
  `node ${env.node} · ws ${env.ws} · bufferutil: ${env.bufferutil} · ours masks with: ${maskBackend} · ${env.cpu}${QUICK ? ' · --quick' : ''} · load avg ${la(env.loadavgAtStart)} → ${la(env.loadavgAtEnd)}`,
);
lines.push('');
lines.push('| case | unit | ours | ws | ours/ws |');
lines.push('|---|---|--:|--:|--:|');
for (const r of rows) {
  const ratio = r.ratio === undefined ? 'n/a' : r.ratio.toFixed(2);
  lines.push(`| ${r.name} | ${r.unit} | ${fmt(r.ours)} | ${fmt(r.ws)} | ${ratio} |`);
}
lines.push('');
lines.push('ours/ws > 1: ours is faster, except where lower is better (µs/msg, B/conn): there < 1 is better.');
for (const r of rows) if (r.note && (r.group === 'echo' || r.group === 'idle')) lines.push(`- ${r.name}: ${r.note}`);
console.log(lines.join('\n'));

const outDir = path.join(here, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ env, rows }, null, 2) + '\n');
console.error(`\nwrote ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))}`);
process.exit(0);
