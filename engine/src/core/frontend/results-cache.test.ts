import type { MetricResult } from '../logql/engine/index.js';
import { ManualClock } from '../util/clock.js';
import { ResultsCache } from './results-cache.js';

const MS = 1_000_000n;
const STEP = 10_000n * MS; // 10 s

/** A fake query: one series whose value at each step is the step's time in seconds (+ `bias`). */
function evaluator(bias = 0) {
  const calls: Array<[bigint, bigint]> = [];
  const fetch = async (start: bigint, end: bigint): Promise<MetricResult> => {
    calls.push([start, end]);
    const ms: number[] = [];
    const values: number[] = [];
    for (let t = start; t <= end; t += STEP) {
      ms.push(Number(t / MS));
      values.push(Number(t / MS) / 1000 + bias);
    }
    return { type: 'matrix', series: ms.length > 0 ? [{ labels: [['app', 'x']], ms, values }] : [] };
  };
  return { calls, fetch };
}

const steps = (r: MetricResult): number[] => (r.type === 'matrix' ? (r.series[0]?.ms ?? []) : []);
const at = (s: number): bigint => BigInt(s) * 1000n * MS;

describe('ResultsCache', () => {
  const big = { maxBytes: 1 << 20, ttlMs: 3_600_000 };

  it('answers a repeated query from the cache and computes only what is missing', async () => {
    const cache = new ResultsCache(big);
    const a = evaluator();
    const first = await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(10_000), a.fetch);
    expect(first.hit).toBe(false);
    expect(first.stored).toBe(true);
    expect(a.calls).toEqual([[at(100), at(200)]]);
    // Same range: no call.
    const again = await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(10_000), a.fetch);
    expect(again.result).toEqual(first.result);
    expect(again.servedNs).toBe(at(110));
    expect(a.calls).toHaveLength(1);
    // A wider range: only the steps before and after the extent are computed.
    const wider = await cache.fetchRange('k', 't', { start: at(50), end: at(260), step: STEP }, at(10_000), a.fetch);
    expect(a.calls.slice(1)).toEqual([
      [at(50), at(90)],
      [at(210), at(260)],
    ]);
    expect(steps(wider.result)).toEqual(Array.from({ length: 22 }, (_, i) => (50 + i * 10) * 1000));
    // And the extents merged into one: a sub-range is a pure hit.
    await cache.fetchRange('k', 't', { start: at(60), end: at(250), step: STEP }, at(10_000), a.fetch);
    expect(a.calls).toHaveLength(3);
  });

  it('never stores or serves steps newer than the freshness bound', async () => {
    const cache = new ResultsCache(big);
    const a = evaluator();
    await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(155), a.fetch);
    // Steps up to 150 were stored; 160..200 must be computed again, every time.
    const b = evaluator(1000);
    const r = await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(155), b.fetch);
    expect(b.calls).toEqual([[at(160), at(200)]]);
    expect(r.result.type === 'matrix' && r.result.series[0]!.values).toEqual([100, 110, 120, 130, 140, 150, 1160, 1170, 1180, 1190, 1200]);
    // A stricter bound later (a longer max_cache_freshness_per_query): cached steps past it are not served.
    const c = evaluator(2000);
    const r2 = await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(125), c.fetch);
    expect(c.calls).toEqual([[at(130), at(200)]]);
    expect(r2.result.type === 'matrix' && r2.result.series[0]!.values.slice(0, 4)).toEqual([100, 110, 120, 2130]);
    // A query entirely inside the window bypasses the cache.
    const d = evaluator();
    const r3 = await cache.fetchRange('k', 't', { start: at(300), end: at(320), step: STEP }, at(155), d.fetch);
    expect(r3.stored).toBe(false);
    expect(d.calls).toEqual([[at(300), at(320)]]);
  });

  it('ignores extents on another step grid', async () => {
    const cache = new ResultsCache(big);
    const a = evaluator();
    await cache.fetchRange('k', 't', { start: at(100), end: at(200), step: STEP }, at(10_000), a.fetch);
    const b = evaluator();
    await cache.fetchRange('k', 't', { start: at(105), end: at(195), step: STEP }, at(10_000), b.fetch);
    expect(b.calls).toEqual([[at(105), at(195)]]);
  });

  it('evicts the least recently used keys beyond its byte bound, and expires entries after the TTL', async () => {
    const clock = new ManualClock(0);
    const one = new ResultsCache({ maxBytes: 1 << 20, ttlMs: 1000, clock });
    await one.fetchRange('a', 't', { start: at(0), end: at(90), step: STEP }, at(10_000), evaluator().fetch);
    const perKey = one.size.bytes;
    expect(perKey).toBeGreaterThan(0);

    const cache = new ResultsCache({ maxBytes: perKey * 2 + 10, ttlMs: 1000, clock });
    for (const k of ['a', 'b']) await cache.fetchRange(k, 't', { start: at(0), end: at(90), step: STEP }, at(10_000), evaluator().fetch);
    // Touch a, then add c: b is the least recently used.
    const touch = evaluator();
    await cache.fetchRange('a', 't', { start: at(0), end: at(90), step: STEP }, at(10_000), touch.fetch);
    expect(touch.calls).toHaveLength(0);
    await cache.fetchRange('c', 't', { start: at(0), end: at(90), step: STEP }, at(10_000), evaluator().fetch);
    expect(cache.size.keys).toBe(2);
    expect(cache.size.bytes).toBeLessThanOrEqual(perKey * 2 + 10);
    const b = evaluator();
    await cache.fetchRange('b', 't', { start: at(0), end: at(90), step: STEP }, at(10_000), b.fetch);
    expect(b.calls).toHaveLength(1);

    clock.advance(1001);
    const late = evaluator();
    await cache.fetchRange('b', 't', { start: at(0), end: at(90), step: STEP }, at(10_000), late.fetch);
    expect(late.calls).toHaveLength(1);
  });

  it('drops a tenant\'s entries on request', async () => {
    const cache = new ResultsCache(big);
    await cache.fetchRange('k1', 't1', { start: at(0), end: at(50), step: STEP }, at(10_000), evaluator().fetch);
    await cache.fetchRange('k2', 't2', { start: at(0), end: at(50), step: STEP }, at(10_000), evaluator().fetch);
    cache.invalidateTenant('t1');
    expect(cache.size.keys).toBe(1);
    const a = evaluator();
    await cache.fetchRange('k1', 't1', { start: at(0), end: at(50), step: STEP }, at(10_000), a.fetch);
    expect(a.calls).toHaveLength(1);
  });
});
