import { SERVER_NAMES, type ServerName } from './servers.js';

/** Which way is better for a metric; `info` rows (the generator's CPU) get no ratio. */
export type Better = 'higher' | 'lower' | 'info';

export interface Metric {
  scenario: string;
  name: string;
  unit: string;
  better: Better;
  /** One value per run, per server. */
  values: Partial<Record<ServerName, number[]>>;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(xs: number[] | undefined): Summary | undefined {
  const v = (xs ?? []).filter((x) => Number.isFinite(x));
  if (v.length === 0) return undefined;
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

/**
 * ours ÷ twin, run by run (run i of ours against run i of the twin: within a
 * run the servers are measured back to back, so load from outside the
 * benchmark weighs on both alike), summarised as median and min–max.
 * Undefined when no run has both values (or the twin's is 0).
 */
export function ratioSummary(m: Metric, twin: ServerName): Summary | undefined {
  if (m.better === 'info') return undefined;
  const a = m.values.ours ?? [];
  const b = m.values[twin] ?? [];
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) ratios.push(a[i]! / b[i]!);
  }
  return summarize(ratios);
}

export function ratio(m: Metric, twin: ServerName): number | undefined {
  return ratioSummary(m, twin)?.median;
}

/** Collects every measured value of a run, in the order scenarios report them. */
export class Results {
  readonly metrics: Metric[] = [];
  readonly failures: Array<{ scenario: string; error: string }> = [];

  add(scenario: string, name: string, unit: string, better: Better, server: ServerName, value: number | undefined): void {
    let m = this.metrics.find((x) => x.scenario === scenario && x.name === name);
    if (!m) {
      m = { scenario, name, unit, better, values: {} };
      this.metrics.push(m);
    }
    (m.values[server] ??= []).push(value ?? Number.NaN);
  }

  fail(scenario: string, error: string): void {
    this.failures.push({ scenario, error });
  }
}

export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (Number.isInteger(x) && a < 1e4) return String(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(xs: number[] | undefined): string {
  const s = summarize(xs);
  if (!s) return 'n/a';
  if (s.runs === 1) return fmt(s.median);
  return `${fmt(s.median)} <sub>${fmt(s.min)}–${fmt(s.max)}</sub>`;
}

function ratioCell(m: Metric, twin: ServerName): string {
  const r = ratioSummary(m, twin);
  if (r === undefined) return m.better === 'info' ? '—' : 'n/a';
  // Bold when ours is better by this metric's own direction.
  const better = m.better === 'higher' ? r.median > 1 : r.median < 1;
  const median = better ? `**${r.median.toFixed(2)}**` : r.median.toFixed(2);
  return r.runs === 1 ? median : `${median} <sub>${r.min.toFixed(2)}–${r.max.toFixed(2)}</sub>`;
}

/** Whether a metric's name already says its unit ("round trips/s"), as a word of its own. */
function namesItsUnit(m: Metric): boolean {
  const i = m.name.indexOf(m.unit);
  if (i < 0) return false;
  const before = m.name[i - 1];
  const after = m.name[i + m.unit.length];
  return (before === undefined || before === ' ') && (after === undefined || after === ' ');
}

/** The results table, one row per metric, grouped by scenario. */
export function renderTable(results: Results, titles: Record<string, string>): string {
  const lines: string[] = [];
  lines.push('| scenario | metric | better | ours | ws | socket.io | ours/ws | ours/socket.io |');
  lines.push('|---|---|:-:|--:|--:|--:|--:|--:|');
  let last = '';
  for (const m of results.metrics) {
    const title = m.scenario === last ? '' : (titles[m.scenario] ?? m.scenario);
    last = m.scenario;
    const better = m.better === 'higher' ? '↑' : m.better === 'lower' ? '↓' : '';
    const values = SERVER_NAMES.map((s) => cell(m.values[s]));
    lines.push(
      `| ${title} | ${namesItsUnit(m) ? m.name : `${m.name} (${m.unit})`} | ${better} | ${values.join(' | ')} | ${ratioCell(m, 'ws')} | ${ratioCell(m, 'socket.io')} |`,
    );
  }
  for (const f of results.failures) lines.push(`| ${titles[f.scenario] ?? f.scenario} | **failed**: ${f.error} | | | | | | |`);
  return lines.join('\n');
}
