/**
 * A token bucket measured in bytes: `rate` bytes per second refill, at most `burst` bytes stored. Used for the
 * tenant ingestion rate (distributor) and the per-stream rate (ingester). Time is passed in (ms) so tests and
 * callers control the clock; no timers.
 */
/**
 * A bucket's state as two numbers, so a caller with many buckets (one per stream) keeps them on its own objects
 * instead of allocating one per bucket. `tokens < 0` marks a bucket not used yet (it starts full).
 */
export interface BucketState {
  tokens: number;
  tokensAt: number;
}

/** Refills the bucket for the time since it was last used, then takes `n` tokens if they are there. */
export function takeTokens(b: BucketState, n: number, rate: number, burst: number, now: number): boolean {
  if (b.tokens < 0) {
    b.tokens = burst;
    b.tokensAt = now;
  } else if (now > b.tokensAt) {
    b.tokens += ((now - b.tokensAt) / 1000) * rate;
    b.tokensAt = now;
  }
  // Capped after the refill and also when the limits shrank since the last use (no refill from a bigger burst).
  b.tokens = Math.min(b.tokens, burst);
  // A request larger than the burst can never pass, as in Loki.
  if (n > b.tokens) return false;
  b.tokens -= n;
  return true;
}

export class TokenBucket implements BucketState {
  tokens: number;
  tokensAt: number;

  constructor(
    private rate: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.tokensAt = now;
  }

  /** Changes the limits in place (runtime overrides reloaded) without refilling the bucket. */
  setLimits(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  allow(n: number, now: number): boolean {
    return takeTokens(this, n, this.rate, this.burst, now);
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
