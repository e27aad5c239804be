#!/usr/bin/env node
/**
 * The server benchmark suite: our chat server (persistence on, as shipped)
 * against two minimal twins speaking the same chat, one on `ws` 8 and one on
 * socket.io 4, each in its own process on 127.0.0.1, driven by our load
 * generator (worker processes). Prints a markdown table and writes
 * bench/results/latest.{md,json} and docs/benchmarks.svg.
 *
 *   pnpm bench:server [--quick] [--only=fanout,echo] [--runs=N] [--workers=N] [--no-profile]
 *
 *   --quick       small counts, 1 run: a smoke test (about a minute)
 *   --only        scenarios by name or number: 1 fanout, 2 rooms, 3 echo, 4 storm, 5 persist, 6 cluster, 7 search, 8 pgecho
 *                 (6 needs DATABASE_URL and REDIS_URL, and is skipped without them)
 *   --runs        measured runs per figure (default 3; 1 with --quick)
 *   --workers     load-generator processes (default 2)
 *   --no-profile  skip the --cpu-prof pass of our server
 *   --profile     which load that pass runs under: fanout (default), echo, or echo-1 (echo with 1 in flight)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.js';
import { fdLimits } from './lib/proc.js';
import { killChildren } from './lib/spawn.js';
import { LoadGenerator } from './load/generator.js';
import { renderProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { ratioSummary, renderTable, Results, summarize } from './results.js';
import { FULL, QUICK, RUNNERS, SCENARIOS, type Config, type Context, type ScenarioName } from './scenarios.js';
import { repoRoot, tempDatabase } from './servers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.resolve(here, '..');
const resultsDir = path.join(benchDir, 'results');
const chartFile = path.join(repoRoot, 'docs', 'benchmarks.svg');
/** Scenarios with a --cpu-prof pass, and how the report names each. */
const PROFILED = {
  fanout: 'scenario 1 (saturating fan-out; a separate pass, its measured window only)',
  echo: 'scenario 3 (echo round trip; a separate pass, its measured window only)',
  'echo-1': 'scenario 3 with 1 in flight per connection (a separate pass, its measured window only)',
} as const;
/** The scenario each profiled load belongs to. */
const PROFILED_SCENARIO: Record<keyof typeof PROFILED, ScenarioName> = { fanout: 'fanout', echo: 'echo', 'echo-1': 'echo' };

const { values: args } = parseArgs({
  // `pnpm bench:server -- --quick` hands node a literal `--`; both spellings work.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    workers: { type: 'string', default: '2' },
    'no-profile': { type: 'boolean', default: false },
    profile: { type: 'string', default: 'fanout' },
  },
});

const cfg: Config = structuredClone(args.quick ? QUICK : FULL);
if (args.runs) cfg.runs = Math.max(1, Number(args.runs));
const workers = Math.max(1, Number(args.workers));
const selected: ScenarioName[] = args.only
  ? args.only.split(',').map((s) => {
      const t = s.trim();
      const byNumber = SCENARIOS[Number(t) - 1];
      const name = /^\d+$/.test(t) ? byNumber : SCENARIOS.find((n) => n === t);
      if (!name) {
        console.error(`bench: unknown scenario ${t}; use ${SCENARIOS.map((n, i) => `${i + 1}/${n}`).join(', ')}`);
        process.exit(2);
      }
      return name;
    })
  : [...SCENARIOS];

const titles: Record<string, string> = {
  fanout: `1. fan-out: ${cfg.fanout.members.toLocaleString('en-US')} members, 1 sender`,
  rooms: `2. ${cfg.rooms.rooms.toLocaleString('en-US')} rooms of ${cfg.rooms.size}, ${cfg.rooms.perRoomRate} msgs/s each`,
  echo: `3. echo: ${cfg.echo.conns} conns, ${cfg.echo.textBytes} B, ${cfg.echo.window} in flight each, then 1`,
  storm: `4. storm: ${cfg.storm.conns.toLocaleString('en-US')} conns at ${cfg.storm.rate.toLocaleString('en-US')}/s`,
  persist: `5. persistence (ours only), with and without the search index`,
  search: `7. search: ${cfg.search.messages.toLocaleString('en-US')} messages in ${cfg.search.rooms} rooms (ours only)`,
  cluster: `6. scale-out: fan-out to ${cfg.fanout.members.toLocaleString('en-US')} members over ${cfg.cluster.nodes.join('/')} nodes (ours only)`,
  pgecho: `8. round trip, 1 in flight: ours on SQLite and on PostgreSQL + Redis (ours only)`,
};

const log = (line: string) => console.error(line);

function versionOf(pkg: string): string {
  try {
    const require = createRequire(path.join(benchDir, 'package.json'));
    const file = require.resolve(`${pkg}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function main(): Promise<number> {
  if (!existsSync(path.join(repoRoot, 'apps/server/dist/server.js'))) {
    log('bench: apps/server/dist/server.js is missing; run `pnpm build` first (pnpm bench:server does)');
    return 2;
  }
  const limits = fdLimits();
  const need = Math.max(cfg.storm.conns, cfg.rooms.rooms * cfg.rooms.size) + 1000;
  if (limits.hard < need) {
    log(`bench: warning: the hard fd limit is ${limits.hard}; 10,000 connections per process need about ${need}`);
  }
  const env = {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? '?',
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    ws: versionOf('ws'),
    socketIo: versionOf('socket.io'),
    socketIoClient: versionOf('socket.io-client'),
    bufferutil: versionOf('bufferutil'),
    utf8Validate: versionOf('utf-8-validate'),
    fdLimit: limits,
    loadAvgStart: os.loadavg(),
    loadAvgEnd: [] as number[],
    quick: args.quick,
    workers,
    config: cfg,
  };
  log(
    `bench: ${env.nproc} × ${env.cpu}, node ${env.node}, ws ${env.ws}, socket.io ${env.socketIo}; ` +
      `load average ${env.loadAvgStart.map((x) => x.toFixed(2)).join(' ')}; ${workers} generator workers; ` +
      `${cfg.runs} run${cfg.runs > 1 ? 's' : ''}${args.quick ? ' (--quick)' : ''}`,
  );
  if (env.loadAvgStart[0]! > env.nproc / 2) log('bench: warning: the machine is busy; expect noisy figures');

  mkdirSync(resultsDir, { recursive: true });
  const profiled = args.profile as keyof typeof PROFILED;
  if (!(profiled in PROFILED)) {
    console.error(`bench: --profile takes ${Object.keys(PROFILED).join(' or ')}`);
    process.exit(2);
  }
  const profileName = `ours-${profiled}.cpuprofile`;
  const profilePath = path.join(resultsDir, profileName);
  rmSync(profilePath, { force: true });
  const db = tempDatabase();
  const results = new Results();
  const gen = await LoadGenerator.start(workers);
  const profiling = !args['no-profile'] && selected.includes(PROFILED_SCENARIO[profiled]);
  const ctx: Context = {
    cfg,
    gen,
    results,
    databasePath: db.file,
    tokens: [],
    profileArgs: profiling ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${profileName}`] : undefined,
    profiled,
    log,
  };

  const t0 = Date.now();
  try {
    for (const name of selected) {
      const s0 = Date.now();
      try {
        await RUNNERS[name](ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log(`  ${name} failed: ${message}`);
        results.fail(name, message);
      }
      log(`  (${name}: ${((Date.now() - s0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await gen.close();
    db.remove();
  }
  env.loadAvgEnd = os.loadavg();

  let profile: ProfileSummary | undefined;
  if (profiling) {
    // node names the file itself when --cpu-prof-name is not honoured; take the newest profile.
    const file = existsSync(profilePath)
      ? profilePath
      : readdirSync(resultsDir)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => path.join(resultsDir, f))
          .at(-1);
    if (file) profile = summarizeProfile(file, repoRoot, ctx.profileWindow);
    else log('bench: the profile of our server was not written');
  }

  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  const la = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const subtitle = `${env.nproc} × ${env.cpu} · node ${env.node} · ${cfg.runs} run${cfg.runs > 1 ? 's' : ''}${args.quick ? ' (--quick)' : ''} · ${env.date.slice(0, 10)}`;
  const md: string[] = [];
  md.push(`# Server benchmarks — ${env.date}`, '');
  md.push(
    `${env.nproc} × ${env.cpu}, ${env.memoryGiB} GiB · node ${env.node} · ws ${env.ws} (bufferutil ${env.bufferutil}, utf-8-validate ${env.utf8Validate}) · ` +
      `socket.io ${env.socketIo} / socket.io-client ${env.socketIoClient} · ${workers} generator workers · fd limit ${limits.soft}/${limits.hard} · ` +
      `load average ${la(env.loadAvgStart)} → ${la(env.loadAvgEnd)} · ${minutes} min${args.quick ? ' · **--quick**' : ''}`,
    '',
  );
  md.push(
    `Cells: median of ${cfg.runs} run${cfg.runs > 1 ? 's' : ''}` +
      `${cfg.runs > 1 ? ' with min–max below' : ''}. Ratios are ours ÷ twin run by run (the servers take turns within a run), ` +
      `median and min–max; **bold** where ours is better ` +
      `(↑ higher is better, ↓ lower is better). CPU is utime+stime from /proc/<pid>/stat over the measured window, ` +
      `as a share of one core; the generator's is its workers' plus the orchestrator's.`,
    '',
  );
  md.push(renderTable(results, titles), '');
  if (profile) md.push(renderProfile(profile, `Profile of our server under ${PROFILED[profiled]}`), '');
  const markdown = md.join('\n');
  console.log(markdown);
  writeFileSync(path.join(resultsDir, 'latest.md'), markdown);
  const json = {
    env,
    metrics: results.metrics.map((m) => ({
      ...m,
      summary: Object.fromEntries(Object.entries(m.values).map(([k, v]) => [k, summarize(v)])),
      ratios: { ws: ratioSummary(m, 'ws'), 'socket.io': ratioSummary(m, 'socket.io') },
    })),
    failures: results.failures,
    profile,
  };
  writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  mkdirSync(path.dirname(chartFile), { recursive: true });
  writeFileSync(chartFile, renderChart(results, subtitle));
  log(`\nwrote ${path.relative(repoRoot, path.join(resultsDir, 'latest.md'))}, latest.json and ${path.relative(repoRoot, chartFile)} (${minutes} min)`);
  return results.failures.length > 0 ? 1 : 0;
}

// Bounded whatever happens: a stuck run is killed, not waited for.
const watchdog = setTimeout(
  () => {
    log('bench: the watchdog expired (25 min); giving up');
    killChildren();
    process.exit(1);
  },
  (args.quick ? 8 : 25) * 60_000,
);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

main().then(
  (code) => {
    killChildren();
    process.exit(code);
  },
  (err: unknown) => {
    log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killChildren();
    process.exit(1);
  },
);
