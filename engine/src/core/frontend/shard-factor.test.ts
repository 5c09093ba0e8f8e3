import type { IndexSource } from '../index/index-gateway.js';
import type { SeriesChunks } from '../index/index-reader.js';
import { defaultLimits } from '../limits/limits.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import { parseExpr } from '../logql/syntax/parser.js';
import { DEFAULT_SHARDS } from './query-frontend.js';
import { guessShardFactor, indexedBytes, indexShardCount } from './shard-factor.js';

const MIN = 60_000_000_000n;
const MB = 1024 * 1024;

/** An index of a few streams, one chunk per minute each (in-memory: the real index is covered by its own tests). */
class FakeIndex implements IndexSource {
  readonly calls: Array<{ tenant: string; from: bigint; through: bigint }> = [];
  constructor(private readonly streams: Array<{ tenant: string; labels: Record<string, string>; bytesPerMinute: number; minutes: number }>) {}

  series(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<SeriesChunks[]> {
    this.calls.push({ tenant, from, through });
    const out: SeriesChunks[] = [];
    for (const s of this.streams) {
      if (s.tenant !== tenant || !matchers.every((m) => m.matches(s.labels[m.name] ?? ''))) continue;
      const chunks = [];
      for (let i = 0; i < s.minutes; i++) {
        const c = { from: BigInt(i) * MIN, through: BigInt(i + 1) * MIN - 1n };
        if (c.through < from || c.from > through) continue;
        chunks.push({ tenant, fingerprint: 'f', checksum: i, entries: 1, uncompressedBytes: s.bytesPerMinute, compressedBytes: 1, ...c });
      }
      out.push({ labels: Object.entries(s.labels), fingerprint: JSON.stringify(s.labels), chunks });
    }
    return Promise.resolve(out);
  }
  labelNames(): Promise<string[]> {
    throw new Error('unused');
  }
  labelValues(): Promise<string[]> {
    throw new Error('unused');
  }
  stats(): never {
    throw new Error('unused');
  }
}

const expr = (q: string) => parseExpr(q) as SampleExpr;

describe('guessShardFactor (Loki)', () => {
  it('rounds bytes per shard up to a power of two, caps it, and does not shard what one shard holds', () => {
    expect(guessShardFactor(0, 600 * MB, 128)).toBe(0);
    expect(guessShardFactor(600 * MB, 600 * MB, 128)).toBe(0);
    expect(guessShardFactor(600 * MB + 1, 600 * MB, 128)).toBe(2);
    expect(guessShardFactor(5 * 600 * MB, 600 * MB, 128)).toBe(8);
    expect(guessShardFactor(1000 * 600 * MB, 600 * MB, 128)).toBe(128);
    expect(guessShardFactor(1000 * 600 * MB, 600 * MB, 0)).toBe(1024);
    expect(guessShardFactor(10, 0, 128)).toBe(0);
  });
});

describe('indexedBytes', () => {
  const index = new FakeIndex([
    { tenant: 'a', labels: { app: 'x' }, bytesPerMinute: 100, minutes: 60 },
    { tenant: 'a', labels: { app: 'y' }, bytesPerMinute: 10, minutes: 60 },
    { tenant: 'b', labels: { app: 'x' }, bytesPerMinute: 1000, minutes: 60 },
  ]);

  it('sums the chunks every selector reads, its range and offset included', async () => {
    // [20m − 5m, 30m]: minutes 15..30 → 16 chunks of app=x.
    expect(await indexedBytes(index, 'a', expr('sum(rate({app="x"}[5m]))'), 20n * MIN, 30n * MIN)).toBe(1600);
    // offset 10m moves the window to [5m, 20m]: 16 chunks again, and the index was asked for that window.
    index.calls.length = 0;
    expect(await indexedBytes(index, 'a', expr('sum(rate({app="x"}[5m] offset 10m))'), 20n * MIN, 30n * MIN)).toBe(1600);
    expect(index.calls).toEqual([{ tenant: 'a', from: 5n * MIN, through: 20n * MIN }]);
    // Both sides of a binary operation.
    expect(await indexedBytes(index, 'a', expr('sum(rate({app="x"}[1m])) / sum(rate({app=~"x|y"}[1m]))'), 10n * MIN, 10n * MIN)).toBe(200 + 220);
  });

  it('sums the tenants of a multi-tenant org ID, as __tenant_id__ matchers select them', async () => {
    expect(await indexedBytes(index, 'a|b', expr('count_over_time({app="x"}[1m])'), 10n * MIN, 10n * MIN)).toBe(2200);
    expect(await indexedBytes(index, 'a|b', expr('count_over_time({app="x", __tenant_id__="b"}[1m])'), 10n * MIN, 10n * MIN)).toBe(2000);
  });
});

describe('indexShardCount', () => {
  const limits = { ...defaultLimits(), tsdb_max_bytes_per_shard: 1000, tsdb_max_query_parallelism: 64 };
  const index = new FakeIndex([{ tenant: 'a', labels: { app: 'x' }, bytesPerMinute: 1000, minutes: 600 }]);
  const shards = (nowMin: number, withinMin = 180) =>
    indexShardCount({ index, limits: () => limits, queryIngestersWithinMs: withinMin * 60_000, now: () => nowMin * 60_000 });

  it('sizes the shards of each split from the index for a query older than query_ingesters_within', async () => {
    const q = { expr: expr('sum(count_over_time({app="x"}[1m]))'), start: 60n * MIN, end: 120n * MIN };
    // ~61 chunks of 1000 bytes over 1 split: 61 shards of 1000 → 64; over 4 splits ~15 per split → 16.
    expect(await shards(600)('a', { ...q, splits: 1 })).toBe(64);
    expect(await shards(600)('a', { ...q, splits: 4 })).toBe(16);
    expect(await shards(600)('a', { ...q, splits: 100 })).toBe(0);
  });

  it('keeps at least the fixed row_shards when ingesters may hold part of the range, or the index fails', async () => {
    const q = { expr: expr('sum(count_over_time({app="x"}[1m]))'), start: 60n * MIN, end: 120n * MIN, splits: 100 };
    expect(await shards(200)('a', q)).toBe(DEFAULT_SHARDS);
    expect(await shards(6000, 0)('a', q)).toBe(DEFAULT_SHARDS);
    const broken = indexShardCount({
      index: { ...index, series: () => Promise.reject(new Error('gateway down')) } as unknown as IndexSource,
      limits: () => limits,
      queryIngestersWithinMs: 0,
      now: () => 0,
    });
    expect(await broken('a', q)).toBe(DEFAULT_SHARDS);
  });
});
