/**
 * A token bucket: `rate` tokens a second up to `burst`; each action takes one.
 * Time is passed in so the bucket is pure and testable.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** When the bucket last changed. */
  get touchedAt(): number {
    return this.updatedAt;
  }

  /** Takes a token if there is one; returns whether it did. */
  take(now: number): boolean {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
      this.updatedAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Buckets by key (user id, IP, username), forgotten when full again so the
 * map holds only keys that acted recently.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  take(key: string, now = Date.now()): boolean {
    if (now - this.lastSweep > 60_000) this.sweep(now);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    // A bucket idle for the time it takes to refill is as good as new.
    const refillMs = (this.burst / this.rate) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (bucket.touchedAt + refillMs < now) this.buckets.delete(key);
    }
  }
}
