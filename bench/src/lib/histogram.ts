/**
 * A latency histogram in microseconds: exact below 64 µs, then 32 buckets per
 * power of two (about 3 % wide), up to 2^31 µs. Fixed size, so workers send it
 * as a plain array and the orchestrator adds them up.
 *
 * The log-linear layout is the idea behind HdrHistogram; this is a small
 * version of it, written for this suite.
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS; // 32 buckets per power of two
const EXACT = 2 * SUB; // 0..63 µs are counted one by one
const MAX_EXP = 30;
export const HISTOGRAM_SIZE = EXACT + (MAX_EXP - SUB_BITS) * SUB;

function bucketOf(us: number): number {
  if (us < EXACT) return Math.max(us, 0);
  if (us >= 2 ** (MAX_EXP + 1)) return HISTOGRAM_SIZE - 1;
  const exp = 31 - Math.clz32(us); // floor(log2(us)) ≥ 6
  const mantissa = us >>> (exp - SUB_BITS); // 32..63
  return EXACT + (exp - SUB_BITS - 1) * SUB + (mantissa - SUB);
}

/** The middle of a bucket, in µs. */
function middleOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const i = bucket - EXACT;
  const exp = Math.floor(i / SUB) + SUB_BITS + 1;
  const mantissa = (i % SUB) + SUB;
  const width = 2 ** (exp - SUB_BITS);
  return mantissa * width + width / 2;
}

export class Histogram {
  readonly counts: Float64Array;
  total = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Float64Array(HISTOGRAM_SIZE);
    if (counts) this.add(counts);
  }

  /** Records one duration given in nanoseconds. */
  recordNs(ns: number): void {
    this.counts[bucketOf(Math.floor(ns / 1000))]! += 1;
    this.total++;
  }

  add(counts: ArrayLike<number>): void {
    for (let i = 0; i < HISTOGRAM_SIZE; i++) {
      const c = counts[i] ?? 0;
      this.counts[i]! += c;
      this.total += c;
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** The q-quantile (0..1) in milliseconds; undefined when empty. */
  quantileMs(q: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return middleOf(i) / 1000;
    }
    return middleOf(HISTOGRAM_SIZE - 1) / 1000;
  }

  toArray(): number[] {
    return Array.from(this.counts);
  }
}
