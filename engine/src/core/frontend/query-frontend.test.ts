import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsString } from '../distributor/labels.js';
import { EngineError } from '../errors.js';
import { fingerprint } from '../index/fingerprint.js';
import { Ingester, type ValidStream } from '../ingester/ingester.js';
import type { Limits } from '../limits/limits.js';
import { evaluate, type MetricResult } from '../logql/engine/index.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { parseExpr } from '../logql/syntax/parser.js';
import type { Direction, LabelPair } from '../model.js';
import { newStats, Querier, type LogStream } from '../querier/querier.js';
import { SchemaConfig } from '../storage/schema.js';
import { ManualClock } from '../util/clock.js';
import { LocalDownstream } from './local-downstream.js';
import { QueryFrontend, type QueryFrontendOptions } from './query-frontend.js';
import { ResultsCache } from './results-cache.js';
import { inShard } from './shard.js';
import { alignToStep, splitLogsByInterval, splitMetricByInterval } from './split.js';
import type { Downstream, DownstreamRequest, DownstreamResponse } from './types.js';
import { localQuerier } from '../querier/testing/local-querier.js';
import { seededInts } from '../testing/random.js';

const S = 1_000_000_000n;
const M = 60n * S;
const H = 60n * M;
const NOW_MS = 1_700_000_000_000;
const NOW = BigInt(NOW_MS) * 1_000_000n;
/** The corpus spans [T0, T0 + 3h). */
const T0 = NOW - 4n * H;

const rng = seededInts;

interface Setup {
  ingester: Ingester;
  querier: Querier;
  clock: ManualClock;
  limits: Limits;
}

function setup(dir: string): Setup {
  return localQuerier(dir, {
    nowMs: NOW_MS,
    chunk: { encoding: 'snappy', blockSize: 2048, targetSize: 8192 },
    chunkIdlePeriodMs: 300 * 60_000,
    limits: { split_queries_by_interval: 30 * 60_000, max_query_parallelism: 8, max_query_series: 1000 },
  });
}

const STREAMS: Array<[string, string]> = [
  ['web', 'a'],
  ['web', 'b'],
  ['web', 'c'],
  ['web', 'd'],
  ['api', 'a'],
  ['api', 'b'],
  ['db', 'a'],
];

function streamOf(app: string, pod: string, entries: ValidStream['entries']): ValidStream {
  const labels: LabelPair[] = [
    ['app', app],
    ['pod', pod],
  ];
  return { labels, canonical: labelsString(labels), entries };
}

/**
 * Seven streams over three hours, a few seconds between entries, timestamps unique across streams; logfmt lines with
 * a level and a fractional latency, some entries with structured metadata. Three streams are flushed to the store,
 * the rest stay in memory.
 */
async function load(ingester: Ingester): Promise<void> {
  const r = rng(7);
  const byStream = STREAMS.map(([app, pod], k) => {
    const entries: ValidStream['entries'] = [];
    let ts = T0 + BigInt(k);
    for (;;) {
      ts += BigInt(4 + r(26)) * S + BigInt(r(1000)) * 1_000_000n;
      if (ts >= T0 + 3n * H) break;
      const level = ['info', 'warn', 'error'][r(3)]!;
      const latency = (r(5000) / 997).toFixed(3);
      const line = `level=${level} latency=${latency} msg="${'x'.repeat(r(40))}"`;
      entries.push({ ts, line: Buffer.from(line), metadata: r(5) === 0 ? [['trace', `t${r(3)}`]] : undefined });
    }
    return { app, pod, entries };
  });
  for (const [i, s] of byStream.entries()) {
    if (i % 2 === 1) continue;
    for (let j = 0; j < s.entries.length; j += 200) expect(await ingester.push('t', [streamOf(s.app, s.pod, s.entries.slice(j, j + 200))])).toEqual([]);
  }
  await ingester.flushAll();
  for (const [i, s] of byStream.entries()) {
    if (i % 2 === 0) continue;
    for (let j = 0; j < s.entries.length; j += 200) expect(await ingester.push('t', [streamOf(s.app, s.pod, s.entries.slice(j, j + 200))])).toEqual([]);
  }
}

function frontendFor(s: Setup, extra: Partial<QueryFrontendOptions> = {}, downstream?: Downstream): QueryFrontend {
  return new QueryFrontend({
    downstream: downstream ?? new LocalDownstream({ querier: s.querier, limits: () => s.limits }),
    limits: () => s.limits,
    shards: 4,
    retryBackoff: { minMs: 1, maxMs: 2 },
    clock: s.clock,
    ...extra,
  });
}

/**
 * What the querier answers for the whole query at once (the single binary without a frontend), with start and end
 * aligned to the step as the single binary's query_range handler does when split_queries_by_interval is set.
 */
async function reference(s: Setup, expr: SampleExpr, start: bigint, end: bigint, step: bigint): Promise<MetricResult> {
  const r = alignToStep(start, end, step);
  return evaluate({ expr, start: r.start, end: r.end, step }, { source: s.querier.sampleSource('t'), maxSeries: s.limits.max_query_series });
}

/** Values equal up to float rounding (results whose arithmetic order differs between sharded and unsharded). */
function close(got: MetricResult, want: MetricResult): void {
  const norm = (r: MetricResult) =>
    r.type === 'matrix'
      ? r.series.map((x) => ({ labels: x.labels, ms: x.ms, values: x.values }))
      : r.type === 'vector'
        ? r.samples.map((x) => ({ labels: x.labels, ms: [x.ms], values: [x.value] }))
        : [{ labels: [], ms: [r.ms], values: [r.value] }];
  const g = norm(got);
  const w = norm(want);
  expect(g.map((x) => [x.labels, x.ms])).toEqual(w.map((x) => [x.labels, x.ms]));
  g.forEach((x, i) =>
    x.values.forEach((v, j) => {
      const u = w[i]!.values[j]!;
      expect(Math.abs(v - u)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(u)));
    }),
  );
}

/** Bit-identical to the single binary. */
const EXACT = [
  'count_over_time({app="web"}[5m])',
  'rate({app="web"} | logfmt level [5m])',
  'rate({app=~".+"} | drop pod [1m])',
  'bytes_rate({app="web"} | keep app [2m])',
  'rate({app="web"} | logfmt | keep level, pod [5m])',
  'count_over_time({app="web"} | trace="t1" [10m])',
  'sum by (level) (rate({app="web"} | logfmt [5m]))',
  'sum(count_over_time({app=~".+"} | drop pod [1m]))',
  'sum without (pod) (bytes_over_time({app=~".+"}[3m]))',
  'count by (app) (rate({app=~".+"}[5m]))',
  'max by (app) (count_over_time({app=~".+"}[5m]))',
  'min(bytes_over_time({app="web"}[5m]))',
  'topk(1, sum by (pod) (bytes_over_time({app="web"}[5m])))',
  'absent_over_time({app="nope"}[5m])',
  'avg_over_time({app="web"} | logfmt level, latency | unwrap latency [5m])',
  'quantile_over_time(0.9, {app="web"} | logfmt level, latency | unwrap latency [5m]) by (pod)',
  'max_over_time({app=~".+"} | logfmt level, latency | unwrap latency [5m]) by (level)',
  'min_over_time({app=~".+"} | logfmt level, latency | unwrap latency [5m]) by (app)',
  'sum(rate({app="web"}[5m])) / sum(rate({app=~".+"}[5m]))',
  'count_over_time({app="web"}[5m]) > 30',
  'label_replace(rate({app="web"}[5m]), "p", "$1", "pod", "(.)")',
  'sum(rate({app="web"}[5m])) or vector(0)',
  'count(sum by (pod) (rate({app=~".+"}[5m])))',
  'rate({app="web"}[5m] offset 10m)',
  'vector(2)',
];

/** Sums or means of fractional values: the order of additions differs once shards are combined. */
const APPROX = [
  'avg by (app) (rate({app=~".+"}[5m]))',
  'sum(avg_over_time({app="web"} | logfmt level, latency | unwrap latency [5m]))',
  'sum by (level) (sum_over_time({app=~".+"} | logfmt level, latency | unwrap latency [5m]))',
  'sum_over_time({app=~".+"} | logfmt level, latency | drop pod | unwrap latency [5m])',
];

describe('QueryFrontend over a local querier', () => {
  let dir: string;
  let s: Setup;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frontend-'));
    s = setup(dir);
    await load(s.ingester);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('splits by time and shards metric range queries, with the single binary\'s answer', async () => {
    const fe = frontendFor(s);
    const start = T0 + 7n * M + 13n * S;
    const end = T0 + 3n * H - M;
    const step = 60n * S;
    for (const [queries, exact] of [
      [EXACT, true],
      [APPROX, false],
    ] as const) {
      for (const q of queries) {
        const expr = parseExpr(q) as SampleExpr;
        const got = await fe.queryRange('t', { expr, start, end, step, interval: 0n, direction: 'backward', limit: 100 });
        const want = await reference(s, expr, start, end, step);
        if (exact) expect([q, got.result]).toEqual([q, want]);
        else close(got.result as MetricResult, want);
        expect(got.summary.splits).toBeGreaterThanOrEqual(6);
        if (fe.plan(expr).sharded) expect(got.summary.shards).toBe(4);
        expect(got.summary.shardFallbacks).toBe(0);
      }
    }
  });

  it('shards instant queries with the single binary\'s answer', async () => {
    const fe = frontendFor(s, { shards: 3 });
    for (const time of [T0 + 2n * H + 17n * S, T0 + 30n * M]) {
      for (const [queries, exact] of [
        [EXACT, true],
        [APPROX, false],
      ] as const) {
        for (const q of queries) {
          const expr = parseExpr(q) as SampleExpr;
          const got = await fe.query('t', { expr, time });
          const want = await reference(s, expr, time, time, 0n);
          if (exact) expect([q, got.result]).toEqual([q, want]);
          else close(got.result as MetricResult, want);
        }
      }
    }
  });

  it('splits log queries by time and answers the newest/oldest `limit` entries as the querier does', async () => {
    const fe = frontendFor(s);
    const flat = (streams: LogStream[], direction: Direction) =>
      streams
        .flatMap((st) => st.entries.map((e) => ({ ts: e.ts, k: `${e.ts} ${st.canonical} ${JSON.stringify(e.stream ?? null)} ${e.line.toString()}` })))
        .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0) * (direction === 'forward' ? 1 : -1))
        .map((x) => x.k);
    const start = T0 + 3n * M;
    const end = T0 + 2n * H + 50n * M;
    for (const q of ['{app="web"}', '{app=~".+"} |= "level=error"', '{app="api"} | logfmt | latency > 4', '{app=~".+"} | drop pod | trace="t2"']) {
      for (const direction of ['backward', 'forward'] as const) {
        for (const limit of [1, 50, 700, 100_000]) {
          const expr = parseExpr(q);
          const got = await fe.queryRange('t', { expr, start, end, step: M, interval: 0n, direction, limit });
          const want = await s.querier.selectLogs({ tenant: 't', expr, from: start, through: end, direction, limit });
          expect(got.result.type).toBe('streams');
          const streams = (got.result as { streams: LogStream[] }).streams;
          expect([q, direction, limit, flat(streams, direction)]).toEqual([q, direction, limit, flat(want, direction)]);
          // Entries of each stream stay in the direction's order.
          for (const st of streams) for (let i = 1; i < st.entries.length; i++) expect(st.entries[i - 1]!.ts < st.entries[i]!.ts).toBe(direction === 'forward');
          if (limit >= 700) expect(got.summary.splits).toBe(splitLogsByInterval(start, end, 30n * M).length);
        }
      }
    }
  });

  it('stops reading log splits once the ones before hold the limit', async () => {
    const seen: DownstreamRequest[] = [];
    const local = new LocalDownstream({ querier: s.querier, limits: () => s.limits });
    const spy: Downstream = { execute: (t, r, sig) => (seen.push(r), local.execute(t, r, sig)) };
    const fe = frontendFor(s, {}, spy);
    s.limits.max_query_parallelism = 1;
    try {
      await fe.queryRange('t', { expr: parseExpr('{app="web"}'), start: T0, end: T0 + 3n * H, step: M, interval: 0n, direction: 'backward', limit: 10 });
    } finally {
      s.limits.max_query_parallelism = 8;
    }
    // The newest split alone has ten entries.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.end).toBe(T0 + 3n * H);
  });

  it('restricts querier reads to one shard: shards partition the streams', async () => {
    const expr = parseExpr('{app=~".+"}');
    const all = await s.querier.selectLogs({ tenant: 't', expr, from: T0, through: T0 + 3n * H, direction: 'forward', limit: 1_000_000 });
    const of = 3;
    const seen = new Map<string, number>();
    for (let index = 0; index < of; index++) {
      const part = await s.querier.selectLogs({ tenant: 't', expr, from: T0, through: T0 + 3n * H, direction: 'forward', limit: 1_000_000, shard: { index, of } });
      for (const st of part) {
        expect(inShard(st.fingerprint, { index, of })).toBe(true);
        expect(st.fingerprint).toBe(fingerprint(st.canonical));
        expect(seen.has(st.canonical)).toBe(false);
        seen.set(st.canonical, st.entries.length);
      }
    }
    expect(new Map(all.map((st) => [st.canonical, st.entries.length]))).toEqual(seen);
  });

  it('retries sub-queries that fail with a server error, not those refused as bad requests', async () => {
    const local = new LocalDownstream({ querier: s.querier, limits: () => s.limits });
    const failures = new Map<string, number>();
    const flaky: Downstream = {
      execute: async (t, r, sig) => {
        const key = `${r.query} ${r.start} ${r.shards?.index}`;
        const n = failures.get(key) ?? 0;
        if (n < 2) {
          failures.set(key, n + 1);
          throw n === 0 ? new EngineError('internal', 'querier went away') : new Error('socket hang up');
        }
        return local.execute(t, r, sig);
      },
    };
    const fe = frontendFor(s, {}, flaky);
    const expr = parseExpr('sum by (pod) (count_over_time({app="web"}[5m]))') as SampleExpr;
    const start = T0 + H;
    const end = T0 + 2n * H;
    const got = await fe.queryRange('t', { expr, start, end, step: M, interval: 0n, direction: 'backward', limit: 100 });
    expect(got.result).toEqual(await reference(s, expr, start, end, M));
    expect(got.summary.retries).toBe(2 * got.summary.subqueries / 3);

    let calls = 0;
    const refusing: Downstream = {
      execute: async () => {
        calls++;
        throw new EngineError('bad_request', 'no');
      },
    };
    await expect(frontendFor(s, { sharding: false }, refusing).query('t', { expr, time: start })).rejects.toThrow('no');
    expect(calls).toBe(1);
  });

  it('fails with the series limit the engine reports, counted over all splits', async () => {
    const fe = frontendFor(s);
    s.limits.max_query_series = 3;
    try {
      const expr = parseExpr('count_over_time({app=~".+"}[5m])') as SampleExpr;
      await expect(fe.queryRange('t', { expr, start: T0 + H, end: T0 + 2n * H, step: M, interval: 0n, direction: 'backward', limit: 100 })).rejects.toThrow(
        /maximum number of series \(3\) reached/,
      );
      // Series the frontend filters out do not count (the engine checks only the final result).
      const filtered = parseExpr('count_over_time({app=~".+"}[5m]) > 1000') as SampleExpr;
      const got = await fe.queryRange('t', { expr: filtered, start: T0 + H, end: T0 + 2n * H, step: M, interval: 0n, direction: 'backward', limit: 100 });
      expect(got.result).toEqual({ type: 'matrix', series: [] });
    } finally {
      s.limits.max_query_series = 1000;
    }
  });

  it('cancels every sub-query when the caller gives up', async () => {
    const signals: AbortSignal[] = [];
    const slow: Downstream = {
      execute: (_t, _r, sig) =>
        new Promise<DownstreamResponse>((_, reject) => {
          signals.push(sig!);
          sig!.addEventListener('abort', () => reject(sig!.reason));
        }),
    };
    const fe = frontendFor(s, {}, slow);
    const ac = new AbortController();
    const p = fe.queryRange('t', { expr: parseExpr('sum(rate({app="web"}[5m]))'), start: T0, end: T0 + 3n * H, step: M, interval: 0n, direction: 'backward', limit: 100 }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(signals.length).toBe(8); // max_query_parallelism
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'client_closed' });
    expect(signals.every((x) => x.aborted)).toBe(true);
  });

  it('re-runs a sharded sub-query unsharded when labels collide across shards', async () => {
    // Two streams whose structured metadata overrides the label that tells them apart, placed in different shards.
    const pods: string[] = [];
    for (let i = 0; pods.length < 2; i++) {
      const fp = fingerprint(labelsString([['app', 'col'], ['pod', `p${i}`]]));
      if (pods.length === 0 || !inShard(fp, { index: Number(BigInt('0x' + fingerprint(labelsString([['app', 'col'], ['pod', pods[0]!]]))) % 4n), of: 4 })) pods.push(`p${i}`);
    }
    for (const [k, pod] of pods.entries()) {
      const entries = Array.from({ length: 20 }, (_, i) => ({ ts: T0 + H + BigInt(i) * 10n * S + BigInt(k), line: Buffer.from(`line ${i}`), metadata: [['pod', 'same']] as LabelPair[] }));
      expect(await s.ingester.push('t', [streamOf('col', pod, entries)])).toEqual([]);
    }
    const fe = frontendFor(s);
    const expr = parseExpr('count_over_time({app="col"}[1m])') as SampleExpr;
    const got = await fe.queryRange('t', { expr, start: T0 + H, end: T0 + H + 5n * M, step: M, interval: 0n, direction: 'backward', limit: 100 });
    expect(got.result).toEqual(await reference(s, expr, T0 + H, T0 + H + 5n * M, M));
    expect((got.result as { series: unknown[] }).series).toHaveLength(1);
    expect(got.summary.shardFallbacks).toBeGreaterThan(0);
  });

  it('runs at most max_query_parallelism sub-queries of a query at once (tsdb_max_query_parallelism over TSDB periods)', async () => {
    let running = 0;
    let peak = 0;
    const counting: Downstream = {
      execute: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((res) => setTimeout(res, 2));
        running--;
        return { result: { type: 'matrix', series: [] }, stats: newStats() };
      },
    };
    const limits: Limits = { ...s.limits, max_query_parallelism: 2, tsdb_max_query_parallelism: 3 };
    const q = { expr: parseExpr('sum(rate({app="web"}[5m]))'), start: T0, end: T0 + 3n * H, step: M, interval: 0n, direction: 'backward' as const, limit: 100 };
    await new QueryFrontend({ downstream: counting, limits: () => limits, shards: 4 }).queryRange('t', q);
    expect(peak).toBe(2);
    peak = 0;
    const tsdb = new SchemaConfig([{ from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 }]);
    await new QueryFrontend({ downstream: counting, limits: () => limits, shards: 4, schema: tsdb }).queryRange('t', q);
    expect(peak).toBe(3);
  });

  it('answers multi-tenant queries (a|b) through the local downstream', async () => {
    const fe = frontendFor(s);
    const expr = parseExpr('sum by (__tenant_id__) (count_over_time({app="db"}[10m]))') as SampleExpr;
    const got = await fe.query('t|nobody', { expr, time: T0 + H });
    expect(got.result.type).toBe('vector');
    const samples = (got.result as { samples: Array<{ labels: unknown }> }).samples;
    expect(samples.map((x) => x.labels)).toEqual([[['__tenant_id__', 't']]]);
  });
});

describe('QueryFrontend results cache', () => {
  let dir: string;
  let s: Setup;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frontend-cache-'));
    s = setup(dir);
    await load(s.ingester);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the old part of a query from the cache and recomputes everything newer than max_cache_freshness_per_query', async () => {
    // "Now" is 20 minutes after the data ends; the freshness window is 10 minutes.
    s.clock.set(Number((T0 + 3n * H + 20n * M) / 1_000_000n));
    const cache = new ResultsCache({ maxBytes: 64 << 20, ttlMs: 3_600_000, clock: s.clock });
    const fe = frontendFor(s, { cache });
    const expr = parseExpr('sum by (app) (count_over_time({app=~".+"}[1m]))') as SampleExpr;
    const q = { expr, start: T0 + H, end: T0 + 3n * H + 19n * M, step: M, interval: 0n, direction: 'backward' as const, limit: 100 };
    const first = await fe.queryRange('t', q);
    expect(first.summary.cache.hits).toBe(0);
    expect(first.summary.cache.stored).toBeGreaterThan(0);
    expect(first.result).toEqual(await reference(s, expr, q.start, q.end, M));

    const second = await fe.queryRange('t', q);
    expect(second.result).toEqual(first.result);
    // Only the steps of the last 10 minutes were executed again (four shards each).
    const cacheableUntil = T0 + 3n * H + 10n * M;
    const { start, end } = alignToStep(q.start, q.end, M);
    const splits = splitMetricByInterval(start, end, M, 30n * M);
    expect(second.summary.cache.requests).toBe(splits.length);
    expect(second.summary.cache.hits).toBe(splits.filter((x) => x.start <= cacheableUntil).length);
    expect(second.summary.subqueries).toBe(4 * splits.filter((x) => x.end > cacheableUntil).length);
    expect(second.summary.cache.queryLengthServedNs).toBe(cacheableUntil - (cacheableUntil % M) - start + M);

    // New entries inside the freshness window are seen at once; the cached past is not recomputed.
    const fresh = T0 + 3n * H + 15n * M;
    expect(await s.ingester.push('t', [streamOf('db', 'a', [{ ts: fresh, line: Buffer.from('late') }])])).toEqual([]);
    const third = await fe.queryRange('t', q);
    expect(third.result).toEqual(await reference(s, expr, q.start, q.end, M));
    expect(third.result).not.toEqual(first.result);

    // `noCache` bypasses it.
    const bypass = await fe.queryRange('t', q, { noCache: true });
    expect(bypass.summary.cache.requests).toBe(0);
    expect(bypass.result).toEqual(third.result);
  });
});
