import { copyFileSync, existsSync } from 'node:fs';
import { benchDatabaseName, benchRedisPrefix, countRows, createDatabase, deleteRedisKeys, dropDatabase, infraPids, membersByNode, redactUrl, withDatabase } from './cluster.js';
import { Histogram } from './lib/histogram.js';
import { CpuMeter } from './lib/proc.js';
import type { LoadGenerator } from './load/generator.js';
import type { Command, JoinResult, OpenResult, Phase, PhaseStats, StopResult } from './load/messages.js';
import type { Results } from './results.js';
import { runSearchBench, withoutSearchIndex, type SearchConfig } from './search.js';
import { ADMIN_TOKEN, SERVER_NAMES, startServer, tempDatabase, type ServerHandle, type ServerName } from './servers.js';

/** Sizes and durations; `--quick` shrinks them for a smoke test. */
export interface Config {
  runs: number;
  /** Guest users created on our server (connections share them round-robin). */
  users: number;
  warmMs: number;
  measureMs: number;
  fanout: { members: number; window: number; rate: number; textBytes: number };
  rooms: { rooms: number; size: number; perRoomRate: number; textBytes: number };
  echo: { conns: number; window: number; textBytes: number };
  storm: { conns: number; rate: number };
  persist: { senders: number[]; textBytes: number };
  /** Scenario 6: cluster sizes compared (the room and its load are scenario 1's). */
  cluster: { nodes: number[] };
  /** Scenario 7: the corpus searched and how often each query is asked. */
  search: SearchConfig;
}

export const FULL: Config = {
  runs: 3,
  users: 1000,
  warmMs: 1500,
  measureMs: 5000,
  fanout: { members: 1000, window: 8, rate: 50, textBytes: 64 },
  rooms: { rooms: 1000, size: 10, perRoomRate: 2, textBytes: 64 },
  echo: { conns: 100, window: 8, textBytes: 32 },
  storm: { conns: 10_000, rate: 2000 },
  persist: { senders: [1, 50], textBytes: 64 },
  cluster: { nodes: [1, 2, 3] },
  search: { messages: 1_000_000, rooms: 1000, queries: 200 },
};

export const QUICK: Config = {
  runs: 1,
  users: 200,
  warmMs: 500,
  measureMs: 2000,
  fanout: { members: 200, window: 8, rate: 50, textBytes: 64 },
  rooms: { rooms: 100, size: 10, perRoomRate: 2, textBytes: 64 },
  echo: { conns: 20, window: 8, textBytes: 32 },
  storm: { conns: 1000, rate: 1000 },
  persist: { senders: [1, 10], textBytes: 64 },
  cluster: { nodes: [1, 2, 3] },
  search: { messages: 20_000, rooms: 100, queries: 20 },
};

export interface Context {
  cfg: Config;
  gen: LoadGenerator;
  results: Results;
  /** Our server's SQLite file, kept across its restarts within the run. */
  databasePath: string;
  /** Session tokens of the guest users of the SQLite server (filled on its first start; scenario 6 keeps its own). */
  tokens: string[];
  /** Node flags for our server in the profiling pass; undefined: no profile. */
  profileArgs: string[] | undefined;
  /** The scenario whose load the profiling pass runs (`--profile`). */
  profiled?: 'fanout' | 'echo' | 'echo-1';
  /** When the profiled pass measured (µs of CLOCK_MONOTONIC): the part of the profile to read. */
  profileWindow?: [number, number];
  log: (line: string) => void;
}

export const SCENARIOS = ['fanout', 'rooms', 'echo', 'storm', 'persist', 'cluster', 'search', 'pgecho'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Connections of the three servers live side by side in the workers: each server gets its own numbers. */
const CONN_SPACE = 100_000;
const OPEN_TIMEOUT_MS = 30_000;
const pct = (share: number) => share * 100;

// ---- helpers --------------------------------------------------------------------

async function start(ctx: Context, name: ServerName, nodeArgs?: string[]): Promise<ServerHandle> {
  const server = await startServer(name, { databasePath: ctx.databasePath, ...(nodeArgs ? { nodeArgs } : {}) });
  if (name === 'ours' && ctx.tokens.length === 0) ctx.tokens = await createGuests(ctx, server);
  return server;
}

async function post(server: ServerHandle, path: string, body: object, bearer?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** `cfg.users` guests through POST /api/auth/guest, as a client would sign up; their session tokens. */
async function createGuests(ctx: Context, server: ServerHandle): Promise<string[]> {
  const t0 = Date.now();
  const tokens: string[] = new Array(ctx.cfg.users);
  const ids = Array.from({ length: ctx.cfg.users }, (_, i) => i);
  await inParallel(ids, 16, async (i) => {
    const { status, json } = await post(server, '/api/auth/guest', { username: `bench-${i}` });
    if (status !== 201) throw new Error(`POST /api/auth/guest answered ${status}: ${JSON.stringify(json)}`);
    tokens[i] = (json as { token: string }).token;
  });
  ctx.log(`  created ${tokens.length} guest users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return tokens;
}

/** Rooms through POST /api/admin/rooms (our server only; the twins create rooms on join). */
async function createRooms(server: ServerHandle, ids: string[]): Promise<void> {
  if (server.name !== 'ours') return;
  await inParallel(ids, 8, async (id) => {
    const { status, json } = await post(server, '/api/admin/rooms', { id, title: id }, ADMIN_TOKEN);
    if (status !== 201 && status !== 409) throw new Error(`POST /api/admin/rooms answered ${status}: ${JSON.stringify(json)}`);
  });
}

/** Groups `conns` by worker. */
function byWorker<T>(items: readonly T[], workerOf: (item: T) => number, workers: number): T[][] {
  const out: T[][] = Array.from({ length: workers }, () => []);
  for (const item of items) out[workerOf(item)]!.push(item);
  return out;
}

interface Opened {
  opened: number;
  failed: number;
  firstError?: string;
  seconds: number;
  handshakesPerSecond: number;
  hist: Histogram;
}

/**
 * Opens connections `base + k` (k < count) on the workers `workerOf(k)`
 * chooses; paced at `rate` per second in all when given.
 */
function openConns(
  ctx: Context,
  server: ServerHandle,
  base: number,
  count: number,
  workerOf: (k: number) => number,
  rate?: number,
): Promise<Opened> {
  return openSome(
    ctx,
    server,
    base,
    Array.from({ length: count }, (_, k) => k),
    workerOf,
    ctx.tokens,
    rate,
  );
}

/**
 * Opens connections `base + k` for the given `k`s on the workers `workerOf(k)`
 * chooses; connection k signs in to our server with `tokens[k mod length]`.
 */
async function openSome(
  ctx: Context,
  server: ServerHandle,
  base: number,
  members: readonly number[],
  workerOf: (k: number) => number,
  tokens: readonly string[],
  rate?: number,
): Promise<Opened> {
  const ks = byWorker(members, workerOf, ctx.gen.size);
  const active = ks.filter((l) => l.length > 0).length;
  const t0 = Date.now();
  const results = await ctx.gen.all<OpenResult>((w) => {
    const mine = ks[w]!;
    if (mine.length === 0) return undefined;
    const cmd: Command = {
      cmd: 'open',
      target: {
        kind: server.clientKind,
        url: server.url,
        ...(server.name === 'ours' ? { tokens: mine.map((k) => tokens[k % tokens.length]!) } : {}),
      },
      conns: mine.map((k) => base + k),
      concurrency: rate ? 1000 : 100,
      timeoutMs: OPEN_TIMEOUT_MS,
      ...(rate ? { ratePerSec: rate / active } : {}),
    };
    return cmd;
  });
  const hist = new Histogram();
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  let first = Infinity;
  let last = 0;
  for (const r of results) {
    if (!r) continue;
    opened += r.opened;
    failed += r.failed;
    firstError ??= r.firstError;
    hist.add(r.hist);
    first = Math.min(first, r.firstStartNs);
    if (r.opened > 0) last = Math.max(last, r.lastDoneNs);
  }
  const spanS = last > first ? (last - first) / 1e9 : Number.NaN;
  return {
    opened,
    failed,
    ...(firstError === undefined ? {} : { firstError }),
    seconds: (Date.now() - t0) / 1000,
    handshakesPerSecond: opened / spanS,
    hist,
  };
}

async function joinConns(ctx: Context, assign: Array<[conn: number, room: string]>, workerOf: (conn: number) => number): Promise<void> {
  const parts = byWorker(assign, ([conn]) => workerOf(conn), ctx.gen.size);
  const results = await ctx.gen.all<JoinResult>((w) =>
    parts[w]!.length > 0 ? { cmd: 'join', assign: parts[w]!, concurrency: 50 } : undefined,
  );
  const failed = results.reduce((n, r) => n + (r?.failed ?? 0), 0);
  if (failed > 0) throw new Error(`${failed} joins failed: ${results.find((r) => r?.firstError)?.firstError}`);
}

async function closeConns(ctx: Context): Promise<void> {
  await ctx.gen.all({ cmd: 'close' });
}

interface Window {
  /** process.hrtime of the measured window's start and end, in µs. */
  fromUs: number;
  toUs: number;
  /** Messages received per second, all workers. */
  rate: number;
  sentRate: number;
  hist: Histogram;
  /** All the measured servers' CPU together. */
  serverCpu: number;
  /** Each server's, in the order they were given. */
  serverCpuEach: number[];
  generatorCpu: number;
  /** CPU of the other processes `measure` was given (PostgreSQL, Redis), by name. */
  otherCpu: Record<string, number>;
  errors: number;
  firstError?: string;
  lost: number;
}

/** One server, or the nodes of a cluster measured as one. */
type Measured = ServerHandle | readonly ServerHandle[];
const asList = (m: Measured): readonly ServerHandle[] => ('pid' in m ? [m as ServerHandle] : (m as readonly ServerHandle[]));

/**
 * Measures for `ms`: what the workers received, and the CPU of the server(s)
 * and of the generator; also of `others` (their pids are looked up when the
 * window opens).
 */
async function measure(ctx: Context, measured: Measured, ms: number, others: Record<string, () => number[]> = {}): Promise<Window> {
  const servers = asList(measured);
  const serverMeters = servers.map((s) => new CpuMeter(() => [s.pid]));
  const genMeter = new CpuMeter(() => [...ctx.gen.pids(), process.pid]);
  const otherMeters = Object.entries(others).map(([name, pids]) => [name, new CpuMeter(pids)] as const);
  await ctx.gen.all({ cmd: 'measure', on: true });
  for (const m of serverMeters) m.mark();
  genMeter.mark();
  for (const [, m] of otherMeters) m.mark();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  await sleep(ms);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const stats = await ctx.gen.all<PhaseStats>({ cmd: 'measure', on: false });
  const serverCpuEach = serverMeters.map((m) => m.read().total);
  const serverCpu = serverCpuEach.reduce((a, b) => a + b, 0);
  const generatorCpu = genMeter.read().total;
  const otherCpu = Object.fromEntries(otherMeters.map(([name, m]) => [name, m.read().total]));
  const hist = new Histogram();
  let rate = 0;
  let sentRate = 0;
  let errors = 0;
  let lost = 0;
  let firstError: string | undefined;
  for (const s of stats) {
    rate += s.received / s.seconds;
    sentRate += s.sent / s.seconds;
    hist.add(s.hist);
    errors += s.errors;
    lost += s.lost;
    firstError ??= s.firstError;
  }
  return {
    fromUs,
    toUs,
    rate,
    sentRate,
    hist,
    serverCpu,
    serverCpuEach,
    generatorCpu,
    otherCpu,
    errors,
    lost,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Starts a phase on the workers, warms up, measures, stops and waits for what is in flight. */
async function runPhase(
  ctx: Context,
  measured: Measured,
  phases: Array<Phase | undefined>,
  warmMs = ctx.cfg.warmMs,
  others: Record<string, () => number[]> = {},
): Promise<Window> {
  await ctx.gen.all((w) => (phases[w] ? { cmd: 'start', phase: phases[w]! } : undefined));
  await sleep(warmMs);
  const win = await measure(ctx, measured, ctx.cfg.measureMs, others);
  const stops = await ctx.gen.all<StopResult>((w) => (phases[w] ? { cmd: 'stop', timeoutMs: 15_000 } : undefined));
  const outstanding = stops.reduce((n, s) => n + (s?.outstanding ?? 0), 0);
  if (win.errors > 0 || win.lost > 0 || outstanding > 0) {
    const servers = asList(measured);
    const who = servers.length === 1 ? servers[0]!.name : `${servers[0]!.name} (${servers.length} nodes)`;
    ctx.log(`    ${who}: ${win.errors} errors (${win.firstError ?? '-'}), ${win.lost} connections lost, ${outstanding} unanswered`);
  }
  return win;
}

function tag(): string {
  return `b${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Rotates the order servers are measured in from run to run, so drifting background load hits all alike. */
function rotation<T>(items: readonly T[], run: number): T[] {
  const k = run % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function logWindow(ctx: Context, label: string, name: ServerName, w: Window, unit: string): void {
  const p50 = w.hist.quantileMs(0.5);
  const p99 = w.hist.quantileMs(0.99);
  ctx.log(
    `    ${label} ${name}: ${Math.round(w.rate)} ${unit}, p50 ${p50?.toFixed(2)} ms, p99 ${p99?.toFixed(2)} ms, ` +
      `server CPU ${Math.round(pct(w.serverCpu))}%, generator ${Math.round(pct(w.generatorCpu))}%`,
  );
}

// ---- 1. room fan-out -------------------------------------------------------------------

/**
 * Scenario 1's load on the connections `base + k` (k < cfg.fanout.members,
 * member k on worker k mod workers), all in `room`: member 0 sends, keeping
 * `window` messages in flight or at `rate` per second. Scenario 6 reuses it.
 */
function fanoutPhases(ctx: Context, room: string, base: number, mode: 'window' | 'rate'): Phase[] {
  const { members, window, rate, textBytes } = ctx.cfg.fanout;
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  const t = tag();
  ctx.gen.senderWorker = workerOf(0);
  return Array.from({ length: W }, (_, w) => {
    const mine = Array.from({ length: members }, (_, k) => k).filter((k) => workerOf(k) === w);
    return {
      kind: 'fanout',
      room,
      members: mine.map((k) => base + k),
      ...(w === workerOf(0) ? { sender: base } : {}),
      workers: Math.min(W, members),
      mode,
      window,
      rate,
      textBytes,
      tag: t,
    } satisfies Phase;
  });
}

export async function fanout(ctx: Context): Promise<void> {
  const { members, window, rate, textBytes } = ctx.cfg.fanout;
  const S = 'fanout';
  const room = 'fanout';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  ctx.log(`1. room fan-out: ${members} members, 1 sender, ${textBytes} B; window ${window}, then ${rate} msgs/s`);
  const servers: ServerHandle[] = [];
  const setup = async (name: ServerName, index: number, nodeArgs?: string[]) => {
    const server = await start(ctx, name, nodeArgs);
    await createRooms(server, [room]);
    const base = index * CONN_SPACE;
    const o = await openConns(ctx, server, base, members, workerOf);
    if (o.failed > 0) throw new Error(`${name}: ${o.failed} connections failed (${o.firstError})`);
    const t0 = Date.now();
    await joinConns(
      ctx,
      Array.from({ length: members }, (_, k) => [base + k, room] as [number, string]),
      (conn) => workerOf(conn - base),
    );
    ctx.log(`  ${name}: ${members} connected in ${o.seconds.toFixed(1)} s, joined in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Presence and join replies settle before anything is measured.
    await sleep(1000);
    return server;
  };
  const phasesFor = (index: number, mode: 'window' | 'rate'): Phase[] => fanoutPhases(ctx, room, index * CONN_SPACE, mode);

  try {
    for (const [i, name] of SERVER_NAMES.entries()) servers.push(await setup(name, i));
    for (let run = 0; run < ctx.cfg.runs; run++) {
      ctx.log(`  run ${run + 1}/${ctx.cfg.runs}`);
      for (const i of rotation([0, 1, 2], run)) {
        const server = servers[i]!;
        const sat = await runPhase(ctx, server, phasesFor(i, 'window'));
        logWindow(ctx, 'saturating', server.name, sat, 'deliveries/s');
        const r = ctx.results;
        r.add(S, 'saturating: deliveries/s', 'deliveries/s', 'higher', server.name, sat.rate);
        r.add(S, 'saturating: p50 send→receive', 'ms', 'lower', server.name, sat.hist.quantileMs(0.5));
        r.add(S, 'saturating: p99 send→receive', 'ms', 'lower', server.name, sat.hist.quantileMs(0.99));
        r.add(S, 'saturating: server CPU', '% of a core', 'lower', server.name, pct(sat.serverCpu));
        r.add(S, 'saturating: server CPU per delivery', 'µs', 'lower', server.name, (sat.serverCpu * 1e6) / sat.rate);
        r.add(S, 'saturating: generator CPU', '% of a core', 'info', server.name, pct(sat.generatorCpu));

        const fixed = await runPhase(ctx, server, phasesFor(i, 'rate'));
        logWindow(ctx, `${rate} msgs/s`, server.name, fixed, 'deliveries/s');
        r.add(S, `${rate} msgs/s: deliveries/s (offered ${(rate * members).toLocaleString('en-US')})`, 'deliveries/s', 'higher', server.name, fixed.rate);
        r.add(S, `${rate} msgs/s: p50 send→receive`, 'ms', 'lower', server.name, fixed.hist.quantileMs(0.5));
        r.add(S, `${rate} msgs/s: p99 send→receive`, 'ms', 'lower', server.name, fixed.hist.quantileMs(0.99));
        r.add(S, `${rate} msgs/s: server CPU`, '% of a core', 'lower', server.name, pct(fixed.serverCpu));
        r.add(S, `${rate} msgs/s: generator CPU`, '% of a core', 'info', server.name, pct(fixed.generatorCpu));

        // The same room, reactions instead of messages (ours stores each one; the twins count in memory).
        const reacting = await runPhase(ctx, server, phasesFor(i, 'window').map((p) => ({ ...p, event: 'reaction' as const })));
        logWindow(ctx, 'reactions', server.name, reacting, 'deliveries/s');
        r.add(S, 'reactions, saturating: deliveries/s', 'deliveries/s', 'higher', server.name, reacting.rate);
        r.add(S, 'reactions, saturating: p99 react→own copy', 'ms', 'lower', server.name, reacting.hist.quantileMs(0.99));
        r.add(S, 'reactions, saturating: server CPU per delivery', 'µs', 'lower', server.name, (reacting.serverCpu * 1e6) / reacting.rate);
      }
    }
  } finally {
    await closeConns(ctx);
    for (const s of servers) await s.stop();
  }

  if (ctx.profileArgs && ctx.profiled === 'fanout') {
    // A separate pass, so the profiler's overhead is in no reported figure.
    ctx.log('  profiling our server (--cpu-prof) under the saturating load…');
    let server: ServerHandle | undefined;
    try {
      server = await setup('ours', 0, ctx.profileArgs);
      const w = await runPhase(ctx, server, phasesFor(0, 'window'));
      ctx.profileWindow = [w.fromUs, w.toUs];
      logWindow(ctx, 'profiled', 'ours', w, 'deliveries/s');
    } finally {
      await closeConns(ctx);
      await server?.stop(); // SIGTERM: a clean exit writes the profile
    }
  }
}

// ---- 2. many small rooms -------------------------------------------------------------

export async function rooms(ctx: Context): Promise<void> {
  const { rooms: n, size, perRoomRate, textBytes } = ctx.cfg.rooms;
  const S = 'rooms';
  const W = ctx.gen.size;
  const conns = n * size;
  // A room lives in one worker, so each worker drives whole rooms.
  const roomOf = (k: number) => Math.floor(k / size);
  const workerOf = (k: number) => roomOf(k) % W;
  const roomId = (r: number) => `small-${r}`;
  ctx.log(
    `2. many small rooms: ${conns} connections in ${n} rooms of ${size}, ${perRoomRate} msgs/s per room ` +
      `(${n * perRoomRate} msgs/s in, ${n * perRoomRate * size} deliveries/s out)`,
  );
  // One server at a time: 30,000 client connections at once would crowd the fd limits (often
  // 20,000 per process) and the machine; so these runs are not interleaved between servers.
  for (const [index, name] of SERVER_NAMES.entries()) {
    const base = index * CONN_SPACE;
    let server: ServerHandle | undefined;
    try {
      server = await start(ctx, name);
      const t0 = Date.now();
      await createRooms(
        server,
        Array.from({ length: n }, (_, r) => roomId(r)),
      );
      const t1 = Date.now();
      const o = await openConns(ctx, server, base, conns, workerOf);
      if (o.failed > 0) throw new Error(`${name}: ${o.failed} connections failed (${o.firstError})`);
      const t2 = Date.now();
      await joinConns(
        ctx,
        Array.from({ length: conns }, (_, k) => [base + k, roomId(roomOf(k))] as [number, string]),
        (conn) => workerOf(conn - base),
      );
      const t3 = Date.now();
      ctx.log(
        `  ${name}: rooms created in ${((t1 - t0) / 1000).toFixed(1)} s, ${conns} connected in ${((t2 - t1) / 1000).toFixed(1)} s, ` +
          `joined in ${((t3 - t2) / 1000).toFixed(1)} s`,
      );
      ctx.results.add(S, 'setup: join every connection', 's', 'lower', name, (t3 - t2) / 1000);
      await sleep(1000);
      for (let run = 0; run < ctx.cfg.runs; run++) {
        const t = tag();
        const phases = Array.from({ length: W }, (_, w) => {
          const mine = Array.from({ length: n }, (_, r) => r).filter((r) => r % W === w);
          if (mine.length === 0) return undefined;
          return {
            kind: 'rooms',
            rooms: mine.map((r) => ({ room: roomId(r), conns: Array.from({ length: size }, (_, j) => base + r * size + j) })),
            perRoomRate,
            textBytes,
            tag: `${t}w${w}`,
          } satisfies Phase;
        });
        const win = await runPhase(ctx, server, phases, Math.max(ctx.cfg.warmMs, 2000));
        logWindow(ctx, `run ${run + 1}`, name, win, 'deliveries/s');
        const r = ctx.results;
        r.add(S, `deliveries/s (offered ${(n * perRoomRate * size).toLocaleString('en-US')})`, 'deliveries/s', 'higher', name, win.rate);
        r.add(S, 'p50 send→receive', 'ms', 'lower', name, win.hist.quantileMs(0.5));
        r.add(S, 'p99 send→receive', 'ms', 'lower', name, win.hist.quantileMs(0.99));
        r.add(S, 'server CPU', '% of a core', 'lower', name, pct(win.serverCpu));
        r.add(S, 'server CPU per delivery', 'µs', 'lower', name, (win.serverCpu * 1e6) / win.rate);
        r.add(S, 'generator CPU', '% of a core', 'info', name, pct(win.generatorCpu));
      }
    } finally {
      await closeConns(ctx);
      await server?.stop();
    }
  }
}

// ---- 3. echo-like round trip ------------------------------------------------------------

export async function echo(ctx: Context): Promise<void> {
  const { conns, window, textBytes } = ctx.cfg.echo;
  const S = 'echo';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  const roomId = (k: number) => `echo-${k}`;
  ctx.log(`3. echo-like round trip: ${conns} connections, each alone in a room, ${textBytes} B, ${window} in flight each, then 1`);
  const setup = async (name: ServerName, index: number, nodeArgs?: string[]): Promise<ServerHandle> => {
    const server = await start(ctx, name, nodeArgs);
    const base = index * CONN_SPACE;
    await createRooms(
      server,
      Array.from({ length: conns }, (_, k) => roomId(k)),
    );
    const o = await openConns(ctx, server, base, conns, workerOf);
    if (o.failed > 0) throw new Error(`${name}: ${o.failed} connections failed (${o.firstError})`);
    await joinConns(
      ctx,
      Array.from({ length: conns }, (_, k) => [base + k, roomId(k)] as [number, string]),
      (conn) => workerOf(conn - base),
    );
    return server;
  };
  const phasesFor = (index: number, inFlight = window) => {
    const base = index * CONN_SPACE;
    const t = tag();
    return Array.from({ length: W }, (_, w) => {
      const mine = Array.from({ length: conns }, (_, k) => k).filter((k) => workerOf(k) === w);
      if (mine.length === 0) return undefined;
      return { kind: 'echo', conns: mine.map((k) => [base + k, roomId(k)]), window: inFlight, textBytes, tag: `${t}w${w}` } satisfies Phase;
    });
  };
  const servers: ServerHandle[] = [];
  try {
    for (const [index, name] of SERVER_NAMES.entries()) servers.push(await setup(name, index));
    await sleep(500);
    for (let run = 0; run < ctx.cfg.runs; run++) {
      ctx.log(`  run ${run + 1}/${ctx.cfg.runs}`);
      // `window` in flight per connection, then one: each connection sends its next message only
      // when the previous one is back, so every round trip waits for its own commit (issue #23.5).
      for (const inFlight of [window, 1]) {
        const label = inFlight === window ? '' : '1 in flight: ';
        for (const index of rotation([0, 1, 2], run)) {
          const server = servers[index]!;
          const win = await runPhase(ctx, server, phasesFor(index, inFlight));
          logWindow(ctx, `echo, ${inFlight} in flight`, server.name, win, 'msgs/s');
          const r = ctx.results;
          r.add(S, `${label}round trips/s`, 'round trips/s', 'higher', server.name, win.rate);
          r.add(S, `${label}p50 round trip`, 'ms', 'lower', server.name, win.hist.quantileMs(0.5));
          r.add(S, `${label}p99 round trip`, 'ms', 'lower', server.name, win.hist.quantileMs(0.99));
          r.add(S, `${label}server CPU`, '% of a core', 'lower', server.name, pct(win.serverCpu));
          r.add(S, `${label}server CPU per message`, 'µs', 'lower', server.name, (win.serverCpu * 1e6) / win.rate);
          r.add(S, `${label}generator CPU`, '% of a core', 'info', server.name, pct(win.generatorCpu));
        }
      }
    }
  } finally {
    await closeConns(ctx);
    for (const s of servers) await s.stop();
  }

  if (ctx.profileArgs && (ctx.profiled === 'echo' || ctx.profiled === 'echo-1')) {
    // A separate pass, so the profiler's overhead is in no reported figure.
    ctx.log('  profiling our server (--cpu-prof) under the echo load…');
    let server: ServerHandle | undefined;
    try {
      server = await setup('ours', 0, ctx.profileArgs);
      await sleep(500);
      const w = await runPhase(ctx, server, phasesFor(0, ctx.profiled === 'echo-1' ? 1 : window));
      ctx.profileWindow = [w.fromUs, w.toUs];
      logWindow(ctx, 'profiled', 'ours', w, 'msgs/s');
    } finally {
      await closeConns(ctx);
      await server?.stop(); // SIGTERM: a clean exit writes the profile
    }
  }
}

// ---- 4. connection storm and idle cost ---------------------------------------------------

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export async function storm(ctx: Context): Promise<void> {
  const { conns, rate } = ctx.cfg.storm;
  const S = 'storm';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  ctx.log(`4. connection storm: ${conns} connections opened at ${rate}/s, then held idle`);
  for (let run = 0; run < ctx.cfg.runs; run++) {
    ctx.log(`  run ${run + 1}/${ctx.cfg.runs}`);
    for (const index of rotation([0, 1, 2], run)) {
      const name = SERVER_NAMES[index]!;
      const base = index * CONN_SPACE;
      // A fresh server each time: a clean memory baseline, and a new port (no TIME_WAIT reuse).
      let server: ServerHandle | undefined;
      try {
        server = await start(ctx, name);
        // Warm-up: the first handshakes compile the code later ones share.
        await openConns(ctx, server, base, 200, workerOf);
        await closeConns(ctx);
        const s = server;
        const idleFds = s.fds();
        await waitFor(() => s.fds() <= idleFds, 5000);
        await sleep(300);
        const rssBefore = await s.settledRss();
        const fdsBefore = s.fds();

        const meter = new CpuMeter(() => [s.pid]);
        const genMeter = new CpuMeter(() => [...ctx.gen.pids(), process.pid]);
        meter.mark();
        genMeter.mark();
        const o = await openConns(ctx, s, base, conns, workerOf, rate);
        const { total: serverCpu, cpuSeconds: serverCpuSeconds } = meter.read();
        const generatorCpu = genMeter.read().total;
        // The server may still be finishing handshakes the clients already count.
        await waitFor(() => s.fds() >= fdsBefore + o.opened, 10_000);
        await sleep(500);
        const rssAfter = await s.settledRss();
        const held = Math.max(1, s.fds() - fdsBefore);
        const perConn = (rssAfter - rssBefore) / held;
        ctx.log(
          `    ${name}: ${o.opened} opened, ${o.failed} failed${o.firstError ? ` (${o.firstError})` : ''}, ` +
            `${Math.round(o.handshakesPerSecond)} handshakes/s, p99 ${o.hist.quantileMs(0.99)?.toFixed(1)} ms, ` +
            `RSS +${(perConn / 1024).toFixed(1)} KiB per connection (${held} held), server CPU ${Math.round(pct(serverCpu))}%`,
        );
        const r = ctx.results;
        r.add(S, 'handshakes/s', 'handshakes/s', 'higher', name, o.handshakesPerSecond);
        r.add(S, 'failed handshakes', 'of ' + conns.toLocaleString('en-US'), 'info', name, o.failed);
        r.add(S, 'p99 handshake time', 'ms', 'lower', name, o.hist.quantileMs(0.99));
        r.add(S, 'server CPU during the storm', '% of a core', 'lower', name, pct(serverCpu));
        // CPU seconds per handshake hold steadier than handshakes/s on a machine shared with other work.
        r.add(S, 'server CPU per handshake', 'µs', 'lower', name, (serverCpuSeconds * 1e6) / Math.max(1, o.opened));
        r.add(S, 'generator CPU during the storm', '% of a core', 'info', name, pct(generatorCpu));
        r.add(S, 'RSS per idle connection (after GC)', 'KiB', 'lower', name, perConn / 1024);
      } finally {
        await closeConns(ctx);
        await server?.stop();
      }
    }
  }
}

// ---- 5. persistence ---------------------------------------------------------------------

export async function persist(ctx: Context): Promise<void> {
  const { senders, textBytes } = ctx.cfg.persist;
  const S = 'persist';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  const most = Math.max(...senders);
  const roomId = (k: number) => `persist-${k}`;
  ctx.log(`5. persistence (ours only): ack-after-commit messages/s with ${senders.join(' and ')} senders, each alone in a room, 1 in flight`);
  // The same server on a copy of its database whose search index writes nothing (search.ts): what the index costs.
  const unindexed = tempDatabase();
  const variants = [
    { suffix: '', databasePath: ctx.databasePath },
    { suffix: ', no search index', databasePath: unindexed.file },
  ];
  try {
    {
      const server = await start(ctx, 'ours');
      try {
        await createRooms(
          server,
          Array.from({ length: most }, (_, k) => roomId(k)),
        );
      } finally {
        // Stopped, its file holds the guests and rooms for the copy.
        await server.stop();
      }
      copyFileSync(ctx.databasePath, unindexed.file);
      if (existsSync(`${ctx.databasePath}-wal`)) copyFileSync(`${ctx.databasePath}-wal`, `${unindexed.file}-wal`);
      await withoutSearchIndex(unindexed.file);
    }
    // The two take turns within each run, in a rotating order, so drifting background load
    // falls on both (a difference of a few per cent is what this measures).
    for (let run = 0; run < ctx.cfg.runs; run++) {
      const order = run % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        let server: ServerHandle | undefined;
        try {
          server = await startServer('ours', { databasePath: variant.databasePath });
          const o = await openConns(ctx, server, 0, most, workerOf);
          if (o.failed > 0) throw new Error(`${o.failed} connections failed (${o.firstError})`);
          await joinConns(
            ctx,
            Array.from({ length: most }, (_, k) => [k, roomId(k)] as [number, string]),
            workerOf,
          );
          for (const n of senders) {
            const t = tag();
            const phases = Array.from({ length: W }, (_, w) => {
              const mine = Array.from({ length: n }, (_, k) => k).filter((k) => workerOf(k) === w);
              if (mine.length === 0) return undefined;
              return { kind: 'echo', conns: mine.map((k) => [k, roomId(k)]), window: 1, textBytes, tag: `${t}w${w}` } satisfies Phase;
            });
            const win = await runPhase(ctx, server, phases);
            const label = `${n} sender${n > 1 ? 's' : ''}${variant.suffix}`;
            logWindow(ctx, label, 'ours', win, 'msgs/s');
            const r = ctx.results;
            r.add(S, `${label}: acked msgs/s`, 'msgs/s', 'higher', 'ours', win.rate);
            r.add(S, `${label}: p50 send→ack`, 'ms', 'lower', 'ours', win.hist.quantileMs(0.5));
            r.add(S, `${label}: p99 send→ack`, 'ms', 'lower', 'ours', win.hist.quantileMs(0.99));
            r.add(S, `${label}: server CPU`, '% of a core', 'lower', 'ours', pct(win.serverCpu));
          }
        } finally {
          await closeConns(ctx);
          await server?.stop();
        }
      }
    }
  } finally {
    unindexed.remove();
  }
}

// ---- 6. scale-out: fan-out over several nodes --------------------------------------------

const nodesLabel = (n: number) => `${n} node${n > 1 ? 's' : ''}`;

interface ClusterUnderTest {
  /** Nodes in the cluster; the sender is on nodes[0]. */
  n: number;
  nodes: ServerHandle[];
  /** Its members are connections base + k. */
  base: number;
  room: string;
}

/**
 * The PostgreSQL and Redis a scenario runs our server on, from DATABASE_URL and
 * REDIS_URL (undefined, said in the log, without them): a database and a Redis
 * prefix of the scenario's own, named after a fresh tag.
 */
function benchInfrastructure(ctx: Context, title: string) {
  const adminUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!adminUrl || !redisUrl) {
    ctx.log(`${title}: skipped (set DATABASE_URL and REDIS_URL)`);
    return undefined;
  }
  const runTag = tag();
  const database = benchDatabaseName(runTag);
  return { adminUrl, redisUrl, database, prefix: benchRedisPrefix(runTag), databaseUrl: withDatabase(adminUrl, database) };
}

/**
 * Scenario 1's room and load (1 sender, `cfg.fanout.members` members) on our
 * server run as N nodes sharing one PostgreSQL database and one Redis, for
 * each N of cfg.cluster.nodes. Member k connects to node k mod N and the
 * sender (member 0) to the first node, so every message is committed and
 * published by that node and crosses Redis to each of the others.
 *
 * The clusters (6 nodes for 1, 2 and 3) run side by side, each with its own
 * room, and take turns within each run in a rotating order, as the servers of
 * scenario 1 do: drifting background load then falls on all of them alike.
 * Rooms are separate Redis channels, so an idle cluster's nodes hear nothing
 * of the measured one's messages.
 */
export async function cluster(ctx: Context): Promise<void> {
  const infrastructure = benchInfrastructure(ctx, '6. cluster');
  if (!infrastructure) return;
  const { adminUrl, redisUrl, database, prefix, databaseUrl } = infrastructure;
  const { members, rate } = ctx.cfg.fanout;
  const sizes = ctx.cfg.cluster.nodes;
  const S = 'cluster';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  ctx.log(
    `6. scale-out: scenario 1's fan-out (${members} members, 1 sender) over ${sizes.join(', ')} nodes; ` +
      `database ${redactUrl(databaseUrl)}, Redis ${redactUrl(redisUrl)} prefix ${prefix}`,
  );
  // Each node gets a SQLite path too, in a folder of our own: a server that ignored
  // DATABASE_URL would otherwise create ./data/chat.db in the repository.
  const sqlite = tempDatabase();
  const clusters: ClusterUnderTest[] = [];
  const allNodes = () => clusters.flatMap((c) => c.nodes);
  await createDatabase(adminUrl, database);
  try {
    const startNode = (i: number) =>
      startServer('ours', {
        databasePath: sqlite.file,
        env: { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, NODE_ID: `n${i + 1}` },
      });
    let tokens: string[] = [];
    for (const [index, n] of sizes.entries()) {
      const c: ClusterUnderTest = { n, nodes: [], base: index * CONN_SPACE, room: `cluster-${n}` };
      clusters.push(c);
      const t0 = Date.now();
      // The first node alone first: it creates the schema in the new database.
      if (tokens.length === 0) c.nodes.push(await startNode(0));
      const started = await Promise.allSettled(Array.from({ length: n - c.nodes.length }, (_, j) => startNode(c.nodes.length + j)));
      for (const r of started) if (r.status === 'fulfilled') c.nodes.push(r.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const t1 = Date.now();
      if (tokens.length === 0) {
        // Guests of the cluster's own database; ctx.tokens stay those of the SQLite server.
        tokens = await createGuests(ctx, c.nodes[0]!);
        const users = await countRows(databaseUrl, 'users');
        if (users !== tokens.length) {
          throw new Error(
            `the nodes did not store their users in ${database} (found ${users ?? 'no users table'}, expected ${tokens.length}): ` +
              'does apps/server/dist honour DATABASE_URL? (pnpm --filter @chat/server build)',
          );
        }
      }
      await createRooms(c.nodes[0]!, [c.room]);
      const t2 = Date.now();
      for (const [node, ks] of membersByNode(members, n).entries()) {
        const o = await openSome(ctx, c.nodes[node]!, c.base, ks, workerOf, tokens);
        if (o.failed > 0) throw new Error(`${nodesLabel(n)}: ${o.failed} connections to node n${node + 1} failed (${o.firstError})`);
      }
      const t3 = Date.now();
      await joinConns(
        ctx,
        Array.from({ length: members }, (_, k) => [c.base + k, c.room] as [number, string]),
        (conn) => workerOf(conn - c.base),
      );
      const secs = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
      ctx.log(`  ${nodesLabel(n)}: started in ${secs(t0, t1)} s, ${members} connected in ${secs(t2, t3)} s, joined in ${secs(t3, Date.now())} s`);
    }
    // Presence and join replies settle before anything is measured.
    await sleep(1000);

    // Looked up as each window opens: a node's pool may open new PostgreSQL backends.
    const infra = infraPids(database);
    const others: Record<string, () => number[]> = {};
    if (infra.postgres.length > 0) others.postgres = () => infraPids(database).postgres;
    if (infra.redis.length > 0) others.redis = () => infraPids(database).redis;
    if (infra.postgres.length === 0 || infra.redis.length === 0) {
      ctx.log(`  (no local ${infra.postgres.length === 0 ? 'PostgreSQL' : 'Redis'} process found: its CPU is not recorded)`);
    }

    const r = ctx.results;
    const smallest = Math.min(...sizes);
    const largest = Math.max(...sizes);
    const saturating = new Map<number, Window>();
    for (let run = 0; run < ctx.cfg.runs; run++) {
      ctx.log(`  run ${run + 1}/${ctx.cfg.runs}`);
      for (const index of rotation(
        sizes.map((_, i) => i),
        run,
      )) {
        const c = clusters[index]!;
        const L = nodesLabel(c.n);
        const sat = await runPhase(ctx, c.nodes, fanoutPhases(ctx, c.room, c.base, 'window'), ctx.cfg.warmMs, others);
        saturating.set(c.n, sat);
        logWindow(ctx, `${L} saturating`, 'ours', sat, 'deliveries/s');
        ctx.log(
          `      per node CPU ${sat.serverCpuEach.map((x) => `${Math.round(pct(x))}%`).join(' ')}` +
            Object.entries(sat.otherCpu)
              .map(([name, x]) => `, ${name} ${Math.round(pct(x))}%`)
              .join(''),
        );
        r.add(S, `${L}, saturating: deliveries/s`, 'deliveries/s', 'higher', 'ours', sat.rate);
        r.add(S, `${L}, saturating: p50 send→receive`, 'ms', 'lower', 'ours', sat.hist.quantileMs(0.5));
        r.add(S, `${L}, saturating: p99 send→receive`, 'ms', 'lower', 'ours', sat.hist.quantileMs(0.99));
        r.add(S, `${L}, saturating: server CPU, all nodes`, '% of a core', 'lower', 'ours', pct(sat.serverCpu));
        r.add(S, `${L}, saturating: server CPU per delivery`, 'µs', 'lower', 'ours', (sat.serverCpu * 1e6) / sat.rate);
        if (c.n > 1) {
          // Each node's CPU per delivery it made (its share of the members): the sender's node
          // also commits and publishes; the others only take each message from Redis.
          const perNode = membersByNode(members, c.n).map((ks, i) => (sat.serverCpuEach[i]! * 1e6) / ((sat.rate * ks.length) / members));
          const rest = perNode.slice(1);
          r.add(S, `${L}, saturating: CPU per delivery, sender's node`, 'µs', 'info', 'ours', perNode[0]);
          r.add(S, `${L}, saturating: CPU per delivery, other nodes (mean)`, 'µs', 'info', 'ours', rest.reduce((a, b) => a + b, 0) / rest.length);
        }
        r.add(S, `${L}, saturating: generator CPU`, '% of a core', 'info', 'ours', pct(sat.generatorCpu));
        if (sat.otherCpu.postgres !== undefined) r.add(S, `${L}, saturating: PostgreSQL CPU`, '% of a core', 'info', 'ours', pct(sat.otherCpu.postgres));
        if (sat.otherCpu.redis !== undefined) r.add(S, `${L}, saturating: Redis CPU`, '% of a core', 'info', 'ours', pct(sat.otherCpu.redis));

        const fixed = await runPhase(ctx, c.nodes, fanoutPhases(ctx, c.room, c.base, 'rate'));
        logWindow(ctx, `${L} ${rate} msgs/s`, 'ours', fixed, 'deliveries/s');
        r.add(S, `${L}, ${rate} msgs/s: deliveries/s (offered ${(rate * members).toLocaleString('en-US')})`, 'deliveries/s', 'higher', 'ours', fixed.rate);
        r.add(S, `${L}, ${rate} msgs/s: p50 send→receive`, 'ms', 'lower', 'ours', fixed.hist.quantileMs(0.5));
        r.add(S, `${L}, ${rate} msgs/s: p99 send→receive`, 'ms', 'lower', 'ours', fixed.hist.quantileMs(0.99));
        r.add(S, `${L}, ${rate} msgs/s: server CPU, all nodes`, '% of a core', 'lower', 'ours', pct(fixed.serverCpu));
      }
      // Scaling within the run, as the suite's ratios are: the clusters ran back to back.
      const big = saturating.get(largest);
      const small = saturating.get(smallest);
      if (largest > smallest && big && small) {
        const label = `${nodesLabel(largest)} ÷ ${nodesLabel(smallest)}`;
        const rateRatio = big.rate / small.rate;
        const cpuRatio = big.serverCpu / big.rate / (small.serverCpu / small.rate);
        r.add(S, `${label}: saturating deliveries/s`, '×', 'higher', 'ours', rateRatio);
        r.add(S, `${label}: server CPU per delivery`, '×', 'lower', 'ours', cpuRatio);
        ctx.log(`    ${label}: deliveries/s ×${rateRatio.toFixed(2)}, server CPU per delivery ×${cpuRatio.toFixed(2)}`);
      }
    }
  } finally {
    await closeConns(ctx);
    // Each closed connection's presence departure goes through Redis; stopping the
    // nodes at once would cut those calls short (the nodes log "presence failed").
    if (clusters.length > 0) await sleep(1000);
    await Promise.all(allNodes().map((s) => s.stop()));
    sqlite.remove();
    // Housekeeping failures are reported, not thrown: the figures above stand.
    await dropDatabase(adminUrl, database).catch((err: Error) => ctx.log(`  could not drop ${database}: ${err.message}`));
    await deleteRedisKeys(redisUrl, `${prefix}*`).then(
      (n) => ctx.log(`  dropped ${database}; deleted ${n} Redis keys ${prefix}*`),
      (err: Error) => ctx.log(`  could not delete Redis keys ${prefix}*: ${err.message}`),
    );
  }
}

// ---- 7. search over a million messages (search.ts) ---------------------------------------

export async function search(ctx: Context): Promise<void> {
  const { messages, rooms } = ctx.cfg.search;
  ctx.log(`7. search (ours only): ${messages.toLocaleString('en-US')} messages in ${rooms} rooms, GET /api/search one at a time`);
  const out = await runSearchBench(ctx.cfg.search, ctx.log);
  const r = ctx.results;
  r.add('search', 'corpus: µs per stored message (indexed, text made included)', 'µs', 'lower', 'ours', out.seedUsPerMessage);
  r.add('search', 'corpus: database file', 'MiB', 'lower', 'ours', out.fileMiB);
  for (const f of out.figures) {
    r.add('search', `${f.user}, ${f.query}: p50`, 'ms', 'lower', 'ours', f.p50Ms);
    r.add('search', `${f.user}, ${f.query}: p99`, 'ms', 'lower', 'ours', f.p99Ms);
    r.add('search', `${f.user}, ${f.query}: server CPU per query`, 'ms', 'lower', 'ours', f.cpuMsPerQuery);
  }
}

// ---- 8. the one-in-flight round trip on PostgreSQL + Redis ------------------------------

/**
 * Scenario 3's one-in-flight load (each connection alone in its room, its
 * next message sent when the previous one is back) on our server twice: on
 * its SQLite file and as one node on PostgreSQL and Redis, taking turns
 * within each run, so the two stores are compared on the same machine in the
 * same minutes (issue #23, item 6).
 */
export async function pgecho(ctx: Context): Promise<void> {
  const infrastructure = benchInfrastructure(ctx, '8. round trip on PostgreSQL');
  if (!infrastructure) return;
  const { adminUrl, redisUrl, database, prefix, databaseUrl } = infrastructure;
  const { conns, textBytes } = ctx.cfg.echo;
  const S = 'pgecho';
  const W = ctx.gen.size;
  const workerOf = (k: number) => k % W;
  ctx.log(`8. round trip on PostgreSQL: ${conns} connections, each alone in a room, ${textBytes} B, 1 in flight; SQLite against ${redactUrl(databaseUrl)} + Redis`);
  const sqlite = tempDatabase();
  const servers: Array<{ label: 'SQLite' | 'PostgreSQL'; server: ServerHandle; base: number; rooms: string[] }> = [];
  await createDatabase(adminUrl, database);
  try {
    const onSqlite = await start(ctx, 'ours');
    const onPostgres = await startServer('ours', {
      databasePath: sqlite.file,
      env: { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, NODE_ID: 'pg1' },
    });
    const pgTokens = await createGuests(ctx, onPostgres);
    for (const [index, [label, server, tokens]] of ([['SQLite', onSqlite, ctx.tokens], ['PostgreSQL', onPostgres, pgTokens]] as const).entries()) {
      const base = index * CONN_SPACE;
      const rooms = Array.from({ length: conns }, (_, k) => `pgecho-${k}`);
      servers.push({ label, server, base, rooms });
      await createRooms(server, rooms);
      const o = await openSome(ctx, server, base, Array.from({ length: conns }, (_, k) => k), workerOf, tokens);
      if (o.failed > 0) throw new Error(`${label}: ${o.failed} connections failed (${o.firstError})`);
      await joinConns(ctx, rooms.map((room, k) => [base + k, room] as [number, string]), (conn) => workerOf(conn - base));
    }
    await sleep(500);
    const infra = infraPids(database);
    const others: Record<string, () => number[]> = {};
    if (infra.postgres.length > 0) others.postgres = () => infraPids(database).postgres;
    if (infra.redis.length > 0) others.redis = () => infraPids(database).redis;
    const r = ctx.results;
    for (let run = 0; run < ctx.cfg.runs; run++) {
      ctx.log(`  run ${run + 1}/${ctx.cfg.runs}`);
      const rates: Partial<Record<'SQLite' | 'PostgreSQL', number>> = {};
      for (const index of rotation([0, 1], run)) {
        const { label, server, base, rooms } = servers[index]!;
        const t = tag();
        const phases = Array.from({ length: W }, (_, w) => {
          const mine = rooms.map((room, k) => [base + k, room] as [number, string]).filter(([conn]) => workerOf(conn - base) === w);
          return mine.length === 0 ? undefined : ({ kind: 'echo', conns: mine, window: 1, textBytes, tag: `${t}w${w}` } satisfies Phase);
        });
        const win = await runPhase(ctx, server, phases, ctx.cfg.warmMs, label === 'PostgreSQL' ? others : {});
        logWindow(ctx, `${label}, 1 in flight`, 'ours', win, 'msgs/s');
        rates[label] = win.rate;
        r.add(S, `${label}: round trips/s`, 'round trips/s', 'higher', 'ours', win.rate);
        r.add(S, `${label}: p50 round trip`, 'ms', 'lower', 'ours', win.hist.quantileMs(0.5));
        r.add(S, `${label}: p99 round trip`, 'ms', 'lower', 'ours', win.hist.quantileMs(0.99));
        r.add(S, `${label}: server CPU`, '% of a core', 'lower', 'ours', pct(win.serverCpu));
        r.add(S, `${label}: server CPU per message`, 'µs', 'lower', 'ours', (win.serverCpu * 1e6) / win.rate);
        if (win.otherCpu.postgres !== undefined) r.add(S, `${label}: PostgreSQL CPU`, '% of a core', 'info', 'ours', pct(win.otherCpu.postgres));
        if (win.otherCpu.redis !== undefined) r.add(S, `${label}: Redis CPU`, '% of a core', 'info', 'ours', pct(win.otherCpu.redis));
      }
      if (rates.SQLite && rates.PostgreSQL) r.add(S, 'PostgreSQL ÷ SQLite: round trips/s', '×', 'higher', 'ours', rates.PostgreSQL / rates.SQLite);
    }
  } finally {
    await closeConns(ctx);
    await sleep(500);
    for (const { server } of servers) await server.stop();
    sqlite.remove();
    await dropDatabase(adminUrl, database).catch((err: Error) => ctx.log(`  could not drop ${database}: ${err.message}`));
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch((err: Error) => ctx.log(`  could not delete Redis keys ${prefix}*: ${err.message}`));
  }
}

export const RUNNERS: Record<ScenarioName, (ctx: Context) => Promise<void>> = { fanout, rooms, echo, storm, persist, cluster, search, pgecho };
