/**
 * A token bucket measured in bytes: `rate` bytes per second refill, at most `burst` bytes stored. Used for the
 * tenant ingestion rate (distributor) and the per-stream rate (ingester). Time is passed in (ms) so tests and
 * callers control the clock; no timers.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Changes the limits in place (runtime overrides reloaded) without refilling the bucket. */
  setLimits(rate: number, burst: number): void {
    if (rate === this.rate && burst === this.burst) return;
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes `n` tokens if they are there; a request larger than the burst can never pass, as in Loki. */
  allow(n: number, now: number): boolean {
    this.refill(now);
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
      this.last = now;
    }
  }
}

/** One bucket per key (tenant), created on first use with the limits of that moment. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  /** `limits(key)` returns [bytes per second, burst bytes]; a rate ≤ 0 means unlimited. */
  constructor(private readonly limits: (key: string) => readonly [number, number]) {}

  allow(key: string, n: number, now: number): boolean {
    const [rate, burst] = this.limits(key);
    if (rate <= 0) return true;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(rate, burst, now);
      this.buckets.set(key, bucket);
    } else {
      bucket.setLimits(rate, burst);
    }
    return bucket.allow(n, now);
  }

  limit(key: string): number {
    return this.limits(key)[0];
  }
}
