import { describe, expect, it } from 'vitest';
import { fmt, ratioSummary, renderTable, Results, summarize } from '../src/results.js';

describe('summarize', () => {
  it('gives the median, min and max, skipping values that are not numbers', () => {
    expect(summarize([3, Number.NaN, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(summarize([4, 1, 2, 3])?.median).toBe(2.5);
    expect(summarize([])).toBeUndefined();
  });
});

describe('ratioSummary', () => {
  it('divides run by run, then summarises', () => {
    const r = new Results();
    for (const [ours, ws] of [
      [10, 5],
      [30, 10],
      [8, 8],
    ]) {
      r.add('s', 'rate', '/s', 'higher', 'ours', ours);
      r.add('s', 'rate', '/s', 'higher', 'ws', ws);
    }
    expect(ratioSummary(r.metrics[0]!, 'ws')).toEqual({ median: 2, min: 1, max: 3, runs: 3 });
    expect(ratioSummary(r.metrics[0]!, 'socket.io')).toBeUndefined();
  });

  it('gives no ratio for information rows', () => {
    const r = new Results();
    r.add('s', 'generator CPU', '%', 'info', 'ours', 50);
    r.add('s', 'generator CPU', '%', 'info', 'ws', 40);
    expect(ratioSummary(r.metrics[0]!, 'ws')).toBeUndefined();
  });
});

describe('renderTable', () => {
  it('bolds a ratio where ours is better by the metric’s own direction', () => {
    const r = new Results();
    r.add('s', 'latency', 'ms', 'lower', 'ours', 1);
    r.add('s', 'latency', 'ms', 'lower', 'ws', 2);
    r.add('s', 'latency', 'ms', 'lower', 'socket.io', 0.5);
    const row = renderTable(r, { s: 'scenario' }).split('\n')[2]!;
    expect(row).toContain('| **0.50** |');
    expect(row).toContain('| 2.00 |');
  });

  it('lists failed scenarios', () => {
    const r = new Results();
    r.fail('s', 'boom');
    expect(renderTable(r, {})).toContain('**failed**: boom');
  });
});

describe('fmt', () => {
  it('abbreviates large numbers and keeps small integers whole', () => {
    expect(fmt(0)).toBe('0');
    expect(fmt(12_345)).toBe('12.3 k');
    expect(fmt(2_500_000)).toBe('2.50 M');
    expect(fmt(Math.PI)).toBe('3.14');
    expect(fmt(undefined)).toBe('n/a');
  });
});

describe('metric names', () => {
  it('gain their unit unless they already end in it as a word', () => {
    const r = new Results();
    r.add('s', 'round trips/s', 'round trips/s', 'higher', 'ours', 1);
    r.add('s', '50 msgs/s: p50 latency', 'ms', 'lower', 'ours', 1);
    r.add('s', 'deliveries/s (offered 5)', 'deliveries/s', 'higher', 'ours', 1);
    const rows = renderTable(r, {}).split('\n');
    expect(rows[2]).toContain('| round trips/s |');
    expect(rows[3]).toContain('| 50 msgs/s: p50 latency (ms) |');
    expect(rows[4]).toContain('| deliveries/s (offered 5) |');
  });
});
