import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) read here. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  seconds: number;
  /** Share of samples the thread was busy (not idle). */
  busy: number;
  /** Top functions by self time, as a share of busy time. */
  self: Array<{ fn: string; share: number }>;
  /** Our code (apps/server, packages/protocol) by inclusive time, as a share of busy time. */
  inclusive: Array<{ fn: string; share: number }>;
  /** Self time summed by where the code lives. */
  areas: Array<{ area: string; share: number }>;
}

function shortUrl(url: string, root: string): string {
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length + 1);
  u = u.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '');
  return u;
}

function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native, unattributed';
  if (url.includes('/packages/protocol/')) return '@chat/protocol (WebSocket)';
  if (url.includes('/packages/chat-schema/')) return '@chat/schema';
  if (url.includes('/apps/server/')) return 'apps/server';
  if (url.includes('node_modules/zod')) return 'zod (validation)';
  if (url.includes('better-sqlite3')) return 'better-sqlite3';
  if (/node_modules\/(fastify|pino|avvio|light-my-request|find-my-way|@fastify)/.test(url)) return 'fastify/pino';
  if (url.startsWith('node:internal/streams') || url === 'node:net' || url.startsWith('node:internal/stream_base')) return 'node: streams & net';
  if (url.startsWith('node:')) return 'node: other core';
  if (url === '') return 'native (bindings, builtins)';
  return 'other';
}

/**
 * Reads a profile and sums its samples by function and by area, counting only
 * the samples inside `window` (µs of CLOCK_MONOTONIC, the clock V8 stamps
 * profiles with and process.hrtime reads) when given: the measured part of a
 * run, without start-up, joins and shutdown.
 */
export function summarizeProfile(file: string, root: string, window?: [fromUs: number, toUs: number]): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hitsOf = new Map<number, number>();
  let t = p.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
    hitsOf.set(p.samples[i]!, (hitsOf.get(p.samples[i]!) ?? 0) + 1);
  }
  const key = (n: CpuProfile['nodes'][number]) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    return url ? `${name} ${shortUrl(url, root)}:${lineNumber + 1}` : name;
  };
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const n of p.nodes) {
    const hits = hitsOf.get(n.id) ?? 0;
    total += hits;
    if (n.callFrame.functionName === '(idle)') {
      idle += hits;
      continue;
    }
    if (hits === 0) continue;
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + hits);
    const a = area(n.callFrame.url, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + hits);
  }
  const busy = total - idle;

  // Inclusive time of our own functions: each sample counts once per function on its stack.
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id)!;
    let hits = hitsOf.get(n.id) ?? 0;
    const k = key(n);
    const ours = /apps\/server|packages\/protocol/.test(n.callFrame.url) && !onStack.has(k);
    if (ours) onStack.add(k);
    for (const c of n.children ?? []) hits += walk(c, onStack);
    if (ours) {
      onStack.delete(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + hits);
    }
    return hits;
  };
  walk(p.nodes[0]!.id, new Set());

  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => ({ k, share: busy > 0 ? v / busy : 0 }));
  return {
    seconds: last > first ? (last - first) / 1e6 : 0,
    busy: total > 0 ? busy / total : 0,
    self: top(self, 20).map(({ k, share }) => ({ fn: k, share })),
    inclusive: top(inclusive, 15).map(({ k, share }) => ({ fn: k, share })),
    areas: top(areas, 20).map(({ k, share }) => ({ area: k, share })),
  };
}

export function renderProfile(s: ProfileSummary, title: string): string {
  const pc = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [`### ${title}`, '', `${s.seconds.toFixed(1)} s profiled, the main thread busy ${pc(s.busy)} of it; shares below are of busy time.`, ''];
  lines.push('| self time by area | share |', '|---|--:|');
  for (const a of s.areas) lines.push(`| ${a.area} | ${pc(a.share)} |`);
  lines.push('', '| top functions, self time | share |', '|---|--:|');
  for (const f of s.self) lines.push(`| \`${f.fn}\` | ${pc(f.share)} |`);
  lines.push('', '| our functions, inclusive time | share |', '|---|--:|');
  for (const f of s.inclusive) lines.push(`| \`${f.fn}\` | ${pc(f.share)} |`);
  return lines.join('\n');
}
