import { RateLimiter, TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows up to the burst at once, then refills at the rate', () => {
    const b = new TokenBucket(100, 300, 0);
    expect(b.allow(300, 0)).toBe(true);
    expect(b.allow(1, 0)).toBe(false);
    expect(b.allow(50, 500)).toBe(true); // 0.5 s → 50 bytes
    expect(b.allow(1, 500)).toBe(false);
    expect(b.allow(300, 10_000)).toBe(true); // refill is capped at the burst
    expect(b.allow(1, 10_000)).toBe(false);
  });

  it('never lets a request larger than the burst through', () => {
    const b = new TokenBucket(1000, 10, 0);
    expect(b.allow(11, 60_000)).toBe(false);
  });

  it('applies changed limits without refilling', () => {
    const b = new TokenBucket(100, 100, 0);
    expect(b.allow(100, 0)).toBe(true);
    b.setLimits(1000, 1000);
    expect(b.allow(1, 0)).toBe(false);
    expect(b.allow(500, 500)).toBe(true);
  });
});

describe('RateLimiter', () => {
  it('keeps one bucket per key and follows the current limits', () => {
    let limits: [number, number] = [10, 10];
    const r = new RateLimiter(() => limits);
    expect(r.allow('a', 10, 0)).toBe(true);
    expect(r.allow('a', 1, 0)).toBe(false);
    expect(r.allow('b', 10, 0)).toBe(true);
    limits = [0, 0]; // unlimited
    expect(r.allow('a', 1e9, 0)).toBe(true);
  });
});
