import { describe, expect, it } from 'vitest';
import { Histogram, HISTOGRAM_SIZE } from '../src/lib/histogram.js';

describe('Histogram', () => {
  it('is exact below 64 µs', () => {
    const h = new Histogram();
    for (let us = 0; us < 64; us++) h.recordNs(us * 1000);
    expect(h.total).toBe(64);
    expect(h.quantileMs(0)).toBe(0);
    expect(h.quantileMs(1)).toBe(0.063);
  });

  it('keeps quantiles within 3 % above 64 µs', () => {
    const h = new Histogram();
    for (let i = 1; i <= 10_000; i++) h.recordNs(i * 1_000_000); // 1 … 10,000 ms
    for (const [q, ms] of [
      [0.5, 5000],
      [0.99, 9900],
    ] as const) {
      expect(Math.abs(h.quantileMs(q)! - ms) / ms).toBeLessThan(0.03);
    }
  });

  it('clamps what it cannot hold to its last bucket, and negatives to its first', () => {
    const h = new Histogram();
    h.recordNs(-5);
    h.recordNs(1e15);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[HISTOGRAM_SIZE - 1]).toBe(1);
  });

  it('adds up histograms sent as arrays', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.recordNs(10_000);
    b.recordNs(2_000_000);
    const sum = new Histogram(a.toArray());
    sum.add(b.toArray());
    expect(sum.total).toBe(2);
    expect(sum.quantileMs(0.5)).toBe(0.01);
  });

  it('has no quantile when empty', () => {
    expect(new Histogram().quantileMs(0.5)).toBeUndefined();
  });
});
