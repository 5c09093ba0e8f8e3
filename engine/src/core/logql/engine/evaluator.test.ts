import type { LabelPair, Labels } from '../../model.js';
import { Deadline } from '../../querier/deadline.js';
import { parseExpr } from '../syntax/parser.js';
import type { LabelMatcher } from '../syntax/matcher.js';
import type { SampleExpr } from '../syntax/ast.js';
import { evaluate, type MetricResult } from './evaluator.js';
import type { SampleSource, SourceEntry, SourceStream } from './types.js';

const S = 1_000_000_000n;
/** All fixture times are seconds after T0. */
const T0 = 1_700_000_000n;
const at = (sec: number): bigint => (T0 + BigInt(Math.trunc(sec))) * S + BigInt(Math.round((sec % 1) * 1e9));

interface FixtureStream {
  labels: Record<string, string>;
  entries: Array<[sec: number, line: string, metadata?: Record<string, string>]>;
}

class FixtureSource implements SampleSource {
  reads: Array<{ from: bigint; through: bigint }> = [];
  constructor(private readonly streams: FixtureStream[]) {}

  readStreams(matchers: LabelMatcher[], prefilter: ((l: Buffer) => boolean) | undefined, from: bigint, through: bigint): Promise<SourceStream[]> {
    this.reads.push({ from, through });
    const out: SourceStream[] = [];
    for (const s of this.streams) {
      const labels: Labels = Object.entries(s.labels).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      if (!matchers.every((m) => m.matches(s.labels[m.name] ?? ''))) continue;
      const entries: SourceEntry[] = [];
      for (const [sec, line, md] of s.entries) {
        const ts = at(sec);
        const buf = Buffer.from(line);
        if (ts < from || ts >= through || (prefilter && !prefilter(buf))) continue;
        entries.push({ ts, line: buf, metadata: md ? (Object.entries(md) as LabelPair[]) : undefined });
      }
      entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      if (entries.length > 0) out.push({ labels, entries });
    }
    // The querier returns streams in label order.
    const key = (l: Labels) => JSON.stringify(l);
    return Promise.resolve(out.sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1)));
  }
}

const sample = (q: string) => parseExpr(q) as SampleExpr;

async function instant(src: SampleSource, q: string, sec: number, maxSeries = 0): Promise<Array<[Record<string, string>, number]>> {
  const r = await evaluate({ expr: sample(q), start: at(sec), end: at(sec), step: 0n }, { source: src, maxSeries });
  if (r.type !== 'vector') throw new Error(`expected a vector, got ${r.type}`);
  for (const s of r.samples) expect(s.ms).toBe(Number(at(sec) / 1_000_000n));
  return r.samples.map((s) => [Object.fromEntries(s.labels), s.value]);
}

/** A range query as {labels JSON → [[sec, value], …]}. */
async function range(src: SampleSource, q: string, start: number, end: number, step: number, maxSeries = 0): Promise<Record<string, Array<[number, number]>>> {
  const r: MetricResult = await evaluate({ expr: sample(q), start: at(start), end: at(end), step: BigInt(step) * S }, { source: src, maxSeries });
  if (r.type !== 'matrix') throw new Error(`expected a matrix, got ${r.type}`);
  const out: Record<string, Array<[number, number]>> = {};
  for (const s of r.series) out[JSON.stringify(Object.fromEntries(s.labels))] = s.ms.map((ms, i) => [ms / 1000 - Number(T0), s.values[i]!]);
  return out;
}

// Two streams of an nginx-like app: one line every 10 s from t=10 to t=120 for a, every 20 s for b.
const logs = new FixtureSource([
  {
    labels: { app: 'web', pod: 'a' },
    entries: Array.from({ length: 12 }, (_, i) => [10 * (i + 1), `level=${i % 3 === 0 ? 'error' : 'info'} latency=${i + 1}ms size=${(i + 1) * 100}B status=${i % 4 === 0 ? 500 : 200}`] as [number, string]),
  },
  {
    labels: { app: 'web', pod: 'b' },
    entries: Array.from({ length: 6 }, (_, i) => [20 * (i + 1), `level=info latency=${(i + 1) * 10}ms size=1KB status=200`] as [number, string]),
  },
  { labels: { app: 'db', pod: 'c' }, entries: [[30, 'select 1'], [60, 'select 2']] },
]);

describe('range aggregations', () => {
  it('count_over_time counts entries in (t - range, t]: the lower bound is excluded, the upper included', async () => {
    // pod a: 10..60 → at t=60, (0, 60] holds 10,20,30,40,50,60 = 6; pod b: 20,40,60 = 3.
    expect(await instant(logs, 'count_over_time({app="web"}[1m])', 60)).toEqual([
      [{ app: 'web', pod: 'a' }, 6],
      [{ app: 'web', pod: 'b' }, 3],
    ]);
    // t=70: (10, 70] drops the entry at exactly 10.
    expect(await instant(logs, 'count_over_time({app="web", pod="a"}[1m])', 70)).toEqual([[{ app: 'web', pod: 'a' }, 6]]);
    // t=69.999…: (9.999, 69.999] holds 10..60.
    expect(await instant(logs, 'count_over_time({pod="a"}[1m])', 69.5)).toEqual([[{ app: 'web', pod: 'a' }, 6]]);
  });

  it('rate is the count per second of the range; bytes_over_time and bytes_rate sum line lengths', async () => {
    expect(await instant(logs, 'rate({pod="b"}[1m])', 60)).toEqual([[{ app: 'web', pod: 'b' }, 3 / 60]]);
    // db lines "select 1" and "select 2" are 8 bytes each.
    expect(await instant(logs, 'bytes_over_time({app="db"}[1m])', 60)).toEqual([[{ app: 'db', pod: 'c' }, 16]]);
    expect(await instant(logs, 'bytes_rate({app="db"}[2m])', 60)).toEqual([[{ app: 'db', pod: 'c' }, 16 / 120]]);
  });

  it('a range query evaluates every step from start to end inclusive and reads the store once', async () => {
    const src = new FixtureSource([{ labels: { app: 'x' }, entries: [[5, 'a'], [10, 'b'], [15, 'c'], [31, 'd']] }]);
    expect(await range(src, 'count_over_time({app="x"}[10s])', 10, 40, 10)).toEqual({
      '{"app":"x"}': [
        [10, 2], // (0, 10]: 5, 10
        [20, 1], // (10, 20]: 15
        // (20, 30] is empty: no point
        [40, 1], // (30, 40]: 31
      ],
    });
    expect(src.reads).toEqual([{ from: at(0), through: at(40) + 1n }]);
  });

  it('offset shifts every window back; samples still carry the step time', async () => {
    const src = new FixtureSource([{ labels: { app: 'x' }, entries: [[5, 'a'], [10, 'b'], [15, 'c']] }]);
    expect(await instant(src, 'count_over_time({app="x"}[10s] offset 10s)', 20)).toEqual([[{ app: 'x' }, 2]]);
    // (5, 15]: 10 and 15.
    expect(await instant(src, 'count_over_time({app="x"}[10s] offset 5s)', 20)).toEqual([[{ app: 'x' }, 2]]);
    expect(src.reads[0]).toEqual({ from: at(0), through: at(10) + 1n });
  });

  it('line filters and parsers run before counting; parsed labels name the series', async () => {
    expect(await instant(logs, 'count_over_time({app="web"} |= "level=error" [2m])', 120)).toEqual([[{ app: 'web', pod: 'a' }, 4]]);
    expect(await instant(logs, 'sum by (level) (count_over_time({app="web"} | logfmt [2m]))', 120)).toEqual([
      [{ level: 'error' }, 4],
      [{ level: 'info' }, 14],
    ]);
    const perSeries = await instant(logs, 'count_over_time({pod="b"} | logfmt | drop latency, size [1m])', 60);
    expect(perSeries).toEqual([[{ app: 'web', level: 'info', pod: 'b', status: '200' }, 3]]);
  });

  it('unwrapped aggregations compute over the label values, without the unwrapped label', async () => {
    // pod b latencies 10,20,30 ms in (0, 60]; unwrap reads "10ms" as a duration in seconds.
    const q = (fn: string) => `${fn}({pod="b"} | logfmt | unwrap duration(latency) | __error__="" [1m])`;
    const labels = { app: 'web', level: 'info', pod: 'b', size: '1KB', status: '200' };
    expect(await instant(logs, q('sum_over_time'), 60)).toEqual([[labels, 0.06]]);
    expect(await instant(logs, q('avg_over_time'), 60)).toEqual([[labels, 0.02]]);
    expect(await instant(logs, q('max_over_time'), 60)).toEqual([[labels, 0.03]]);
    expect(await instant(logs, q('min_over_time'), 60)).toEqual([[labels, 0.01]]);
    expect(await instant(logs, q('first_over_time'), 60)).toEqual([[labels, 0.01]]);
    expect(await instant(logs, q('last_over_time'), 60)).toEqual([[labels, 0.03]]);
    expect(await instant(logs, q('rate'), 60)).toEqual([[labels, 0.06 / 60]]);
    const [[, variance]] = (await instant(logs, q('stdvar_over_time'), 60)) as [[unknown, number]];
    expect(variance).toBeCloseTo(0.0002 / 3, 15);
    const [[, dev]] = (await instant(logs, q('stddev_over_time'), 60)) as [[unknown, number]];
    expect(dev).toBeCloseTo(Math.sqrt(0.0002 / 3), 15);
    expect(await instant(logs, `quantile_over_time(0.5, {pod="b"} | logfmt | unwrap duration_seconds(latency) [1m])`, 60)).toEqual([[labels, 0.02]]);
    // bytes(): "1KB" is 1000 bytes (go-humanize SI).
    expect(await instant(logs, 'sum_over_time({pod="b"} | logfmt | unwrap bytes(size) [1m])', 60)).toEqual([
      [{ app: 'web', latency: '10ms', level: 'info', pod: 'b', status: '200' }, 1000],
      [{ app: 'web', latency: '20ms', level: 'info', pod: 'b', status: '200' }, 1000],
      [{ app: 'web', latency: '30ms', level: 'info', pod: 'b', status: '200' }, 1000],
    ]);
  });

  it('quantile_over_time interpolates between ranks', async () => {
    const src = new FixtureSource([{ labels: { app: 'q' }, entries: [1, 2, 3, 4].map((v) => [v, `v=${v * 10}`] as [number, string]) }]);
    // rank 0.99 × 3 = 2.97: between 30 and 40 with weight 0.97 (computed in the same float order as Loki).
    const w = 0.99 * 3 - 2;
    expect(await instant(src, 'quantile_over_time(0.99, {app="q"} | logfmt | unwrap v [1m])', 10)).toEqual([[{ app: 'q' }, 30 * (1 - w) + 40 * w]]);
    expect(await instant(src, 'quantile_over_time(0.5, {app="q"} | logfmt | unwrap v [1m]) by (app)', 10)).toEqual([[{ app: 'q' }, 25]]);
  });

  it('a range aggregation grouping merges the samples of all its streams before the function', async () => {
    // max over pods a and b together, per app: a's latency at 60 is 6ms, b's is 30ms.
    expect(await instant(logs, 'max_over_time({app="web"} | logfmt | unwrap duration(latency) [1m]) by (app)', 60)).toEqual([[{ app: 'web' }, 0.03]]);
    expect(await instant(logs, 'max_over_time({app="web"} | logfmt | unwrap duration(latency) [1m]) without (level, size, status, pod)', 60)).toEqual([
      [{ app: 'web' }, 0.03],
    ]);
  });

  it('a series fed by several streams is in time order, ties in stream label order', async () => {
    const src = new FixtureSource([
      { labels: { app: 'x', pod: 'b' }, entries: [[10, 'v=2'], [20, 'v=5'], [40, 'v=7']] },
      { labels: { app: 'x', pod: 'a' }, entries: [[10, 'v=1'], [30, 'v=3']] },
      { labels: { app: 'x', pod: 'c' }, entries: [[5, 'v=9'], [35, 'v=4']] },
    ]);
    const q = (fn: string, r: string) => `${fn}({app="x"} | logfmt | unwrap v [${r}]) by (app)`;
    expect(await instant(src, q('first_over_time', '1m'), 60)).toEqual([[{ app: 'x' }, 9]]);
    expect(await instant(src, q('first_over_time', '52s'), 60)).toEqual([[{ app: 'x' }, 1]]);
    expect(await instant(src, q('last_over_time', '1m'), 36)).toEqual([[{ app: 'x' }, 4]]);
    expect(await instant(src, q('last_over_time', '1m'), 25)).toEqual([[{ app: 'x' }, 5]]);
    expect(await range(src, q('last_over_time', '10s'), 10, 40, 10)).toEqual({
      '{"app":"x"}': [
        [10, 2], // (0, 10]: 5 (c), 10 (a), 10 (b): a before b
        [20, 5],
        [30, 3],
        [40, 7],
      ],
    });
  });

  it('rate_counter extrapolates like Loki (nanosecond sample times in a millisecond formula)', async () => {
    const src = new FixtureSource([{ labels: { app: 'c' }, entries: [[10, 'n=1'], [20, 'n=3'], [30, 'n=2'], [40, 'n=6']] }]);
    // result = 6-1 + 3 (reset) = 8; sampledInterval = 30e9/1000 = 3e7; avg = 1e7; durationToStart = 60 (range in s)
    // < threshold 1.1e7 → extrapolate += 60; durationToZero = 3e7*(1/8) = 3.75e6 > 60 → stays 60.
    const expected = (8 * ((3e7 + 60) / 3e7)) / 60;
    expect(await instant(src, 'rate_counter({app="c"} | logfmt | unwrap n [1m])', 40)).toEqual([[{ app: 'c' }, expected]]);
  });

  it('absent_over_time is 1 with the selector labels when nothing matched, empty otherwise', async () => {
    expect(await instant(logs, 'absent_over_time({app="web", pod="nope"}[1m])', 60)).toEqual([[{ app: 'web', pod: 'nope' }, 1]]);
    expect(await instant(logs, 'absent_over_time({app="web"}[1m])', 60)).toEqual([]);
    // A name that also has a non-equality matcher is left out.
    expect(await instant(logs, 'absent_over_time({app="nope", app!="x", env=~"p.*"}[1m])', 60)).toEqual([[{}, 1]]);
    expect(await range(logs, 'absent_over_time({app="db"}[30s])', 30, 120, 30)).toEqual({
      '{"app":"db"}': [
        [90, 1],
        [120, 1],
      ],
    });
  });

  it('an entry with __error__ fails the query with Loki message, unless filtered out or dropped', async () => {
    const src = new FixtureSource([{ labels: { app: 'j' }, entries: [[10, '{"a":1}'], [20, 'not json']] }]);
    await expect(instant(src, 'count_over_time({app="j"} | json [1m])', 30)).rejects.toThrow(
      `pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", app="j"}'.\n` +
        'Use a label filter to intentionally skip this error. (e.g | __error__!="JSONParserErr").\n' +
        'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
        'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n',
    );
    expect(await instant(src, 'count_over_time({app="j"} | json | __error__="" [1m])', 30)).toEqual([[{ a: '1', app: 'j' }, 1]]);
    expect(await instant(src, 'sum(count_over_time({app="j"} | json | drop __error__, __error_details__ [1m]))', 30)).toEqual([[{}, 2]]);
    // Grouping does not hide the error.
    await expect(instant(src, 'sum by (app) (count_over_time({app="j"} | json [1m]))', 30)).rejects.toThrow("pipeline error: 'JSONParserErr'");
    // Outside every window the broken entry does not matter.
    expect(await instant(src, 'count_over_time({app="j"} | json [5s])', 12)).toEqual([[{ a: '1', app: 'j' }, 1]]);
  });

  it('an unwrap conversion failure is SampleExtractionErr; a missing label is skipped; post filters see the error', async () => {
    const src = new FixtureSource([{ labels: { app: 'u' }, entries: [[10, 'v=1'], [20, 'v=abc'], [30, 'w=2']] }]);
    await expect(instant(src, 'sum_over_time({app="u"} | logfmt | unwrap v [1m])', 40)).rejects.toThrow(
      `pipeline error: 'SampleExtractionErr' for series: '{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \\"abc\\": invalid syntax", app="u", v="abc"}'`,
    );
    expect(await instant(src, 'sum_over_time({app="u"} | logfmt | unwrap v | __error__="" [1m])', 40)).toEqual([[{ app: 'u' }, 1]]);
  });

  it('structured metadata is part of the series labels', async () => {
    const src = new FixtureSource([{ labels: { app: 'm' }, entries: [[10, 'a', { trace: 't1' }], [20, 'b', { trace: 't2' }], [30, 'c']] }]);
    expect(await instant(src, 'count_over_time({app="m"}[1m])', 40)).toEqual([
      [{ app: 'm' }, 1],
      [{ app: 'm', trace: 't1' }, 1],
      [{ app: 'm', trace: 't2' }, 1],
    ]);
    expect(await instant(src, 'sum by (trace) (count_over_time({app="m"}[1m]))', 40)).toEqual([
      [{}, 1],
      [{ trace: 't1' }, 1],
      [{ trace: 't2' }, 1],
    ]);
  });
});

describe('vector aggregations', () => {
  const pods = new FixtureSource(
    [
      ['a', 'x', 1],
      ['b', 'x', 3],
      ['c', 'y', 5],
      ['d', 'y', 8],
    ].map(([pod, ns, n]) => ({
      labels: { app: 'k', ns: ns as string, pod: pod as string },
      entries: Array.from({ length: n as number }, (_, i) => [i + 1, 'line'] as [number, string]),
    })),
  );
  const c = 'count_over_time({app="k"}[1m])';

  it('sum, avg, min, max, count, stddev, stdvar with by/without', async () => {
    expect(await instant(pods, `sum(${c})`, 30)).toEqual([[{}, 17]]);
    expect(await instant(pods, `sum by (ns) (${c})`, 30)).toEqual([
      [{ ns: 'x' }, 4],
      [{ ns: 'y' }, 13],
    ]);
    expect(await instant(pods, `sum without (pod) (${c})`, 30)).toEqual([
      [{ app: 'k', ns: 'x' }, 4],
      [{ app: 'k', ns: 'y' }, 13],
    ]);
    expect(await instant(pods, `avg by (ns) (${c})`, 30)).toEqual([
      [{ ns: 'x' }, 2],
      [{ ns: 'y' }, 6.5],
    ]);
    expect(await instant(pods, `min(${c})`, 30)).toEqual([[{}, 1]]);
    expect(await instant(pods, `max by (ns) (${c})`, 30)).toEqual([
      [{ ns: 'x' }, 3],
      [{ ns: 'y' }, 8],
    ]);
    expect(await instant(pods, `count(${c})`, 30)).toEqual([[{}, 4]]);
    expect(await instant(pods, `stdvar by (ns) (${c})`, 30)).toEqual([
      [{ ns: 'x' }, 1],
      [{ ns: 'y' }, 2.25],
    ]);
    expect(await instant(pods, `stddev by (ns) (${c})`, 30)).toEqual([
      [{ ns: 'x' }, 1],
      [{ ns: 'y' }, 1.5],
    ]);
  });

  it('topk, bottomk and approx_topk keep the original series; sort and sort_desc order an instant vector', async () => {
    expect(await instant(pods, `topk(2, ${c})`, 30)).toEqual([
      [{ app: 'k', ns: 'y', pod: 'c' }, 5],
      [{ app: 'k', ns: 'y', pod: 'd' }, 8],
    ]);
    expect(await instant(pods, `topk by (ns) (1, ${c})`, 30)).toEqual([
      [{ app: 'k', ns: 'x', pod: 'b' }, 3],
      [{ app: 'k', ns: 'y', pod: 'd' }, 8],
    ]);
    expect(await instant(pods, `bottomk(1, ${c})`, 30)).toEqual([[{ app: 'k', ns: 'x', pod: 'a' }, 1]]);
    expect(await instant(pods, `approx_topk(1, ${c})`, 30)).toEqual([[{ app: 'k', ns: 'y', pod: 'd' }, 8]]);
    // Loki: instant queries only, refused with its plain (500) error; nested in a range query too.
    for (const q of [`approx_topk(1, ${c})`, `approx_topk(1, ${c}) * 2`, `sum(approx_topk(2, ${c}))`]) {
      await expect(range(pods, q, 10, 30, 10)).rejects.toMatchObject({ code: 'internal', message: 'count min sketches are only supported on instant queries' });
    }
    expect((await instant(pods, `sort_desc(${c})`, 30)).map(([, v]) => v)).toEqual([8, 5, 3, 1]);
    expect((await instant(pods, `sort(${c})`, 30)).map(([, v]) => v)).toEqual([1, 3, 5, 8]);
  });

  it('range queries produce one series per group and step', async () => {
    expect(await range(pods, `sum by (ns) (count_over_time({app="k"}[2s]))`, 2, 6, 2)).toEqual({
      '{"ns":"x"}': [
        [2, 3], // a:1 + b:1,2
        [4, 1], // b:3
      ],
      '{"ns":"y"}': [
        [2, 4],
        [4, 4],
        [6, 3], // c:5, d:5,6 … (4,6] → c 5; d 5,6
      ],
    });
  });

  it('max_query_series counts the series of the result', async () => {
    await expect(instant(pods, c, 30, 3)).rejects.toThrow('maximum number of series (3) reached for a single query');
    expect(await instant(pods, `sum by (ns) (${c})`, 30, 3)).toHaveLength(2);
    await expect(range(pods, c, 10, 30, 10, 3)).rejects.toThrow('maximum number of series (3) reached for a single query');
  });
});

describe('binary operations', () => {
  const src = new FixtureSource([
    { labels: { app: 'a', env: 'prod' }, entries: [[1, 'x'], [2, 'x'], [3, 'x'], [4, 'x']] },
    { labels: { app: 'a', env: 'dev' }, entries: [[1, 'x']] },
    { labels: { app: 'b', env: 'prod' }, entries: [[1, 'x'], [2, 'x']] },
  ]);
  const c = (sel: string) => `count_over_time(${sel}[1m])`;

  it('arithmetic with a scalar on either side keeps the labels', async () => {
    expect(await instant(src, `${c('{app="a"}')} * 2`, 10)).toEqual([
      [{ app: 'a', env: 'dev' }, 2],
      [{ app: 'a', env: 'prod' }, 8],
    ]);
    expect(await instant(src, `10 - ${c('{app="a", env="prod"}')}`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 6]]);
    expect(await instant(src, `${c('{app="a", env="prod"}')} / 0`, 10)).toEqual([[{ app: 'a', env: 'prod' }, NaN]]);
    expect(await instant(src, `${c('{app="a", env="prod"}')} % 3`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 1]]);
    expect(await instant(src, `${c('{app="a", env="prod"}')} ^ 0.5`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 2]]);
    expect(await instant(src, `${c('{app="a", env="prod"}')} * -1 + 1`, 10)).toEqual([[{ app: 'a', env: 'prod' }, -3]]);
  });

  it('comparisons filter (keeping the vector value) or, with bool, give 0/1', async () => {
    expect(await instant(src, `${c('{env="prod"}')} > 2`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 4]]);
    expect(await instant(src, `2 < ${c('{env="prod"}')}`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 4]]);
    expect(await instant(src, `${c('{env="prod"}')} > bool 2`, 10)).toEqual([
      [{ app: 'a', env: 'prod' }, 1],
      [{ app: 'b', env: 'prod' }, 0],
    ]);
    expect(await instant(src, `${c('{env="prod"}')} == bool 2`, 10)).toEqual([
      [{ app: 'a', env: 'prod' }, 0],
      [{ app: 'b', env: 'prod' }, 1],
    ]);
  });

  it('vector to vector matches on all labels by default, or on/ignoring the given ones', async () => {
    expect(await instant(src, `${c('{app="a"}')} + ${c('{env="prod"}')}`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 8]]);
    expect(await instant(src, `sum by (app) (${c('{app=~".+"}')}) / on (app) sum by (app, env) (${c('{env="prod"}')})`, 10)).toEqual([
      [{ app: 'a' }, 5 / 4],
      [{ app: 'b' }, 1],
    ]);
    expect(await instant(src, `sum by (app, env) (${c('{env="prod"}')}) / ignoring (env) sum by (app) (${c('{app=~".+"}')})`, 10)).toEqual([
      [{ app: 'a' }, 4 / 5],
      [{ app: 'b' }, 1],
    ]);
    expect(await instant(src, `${c('{env="prod"}')} > ${c('{env="prod", app="b"}')}`, 10)).toEqual([]);
    expect(await instant(src, `${c('{env="prod"}')} >= bool ${c('{env="prod"}')}`, 10)).toEqual([
      [{ app: 'a', env: 'prod' }, 1],
      [{ app: 'b', env: 'prod' }, 1],
    ]);
  });

  it('group_left / group_right allow many-to-one and copy labels from the one side', async () => {
    const totals = `sum by (app) (${c('{app=~".+"}')})`;
    expect(await instant(src, `${c('{app=~".+"}')} / on (app) group_left ${totals}`, 10)).toEqual([
      [{ app: 'a', env: 'dev' }, 1 / 5],
      [{ app: 'a', env: 'prod' }, 4 / 5],
      [{ app: 'b', env: 'prod' }, 1],
    ]);
    expect(await instant(src, `${totals} / on (app) group_right ${c('{app=~".+"}')}`, 10)).toEqual([
      [{ app: 'a', env: 'dev' }, 5],
      [{ app: 'a', env: 'prod' }, 5 / 4],
      [{ app: 'b', env: 'prod' }, 1],
    ]);
    const withTeam = `label_replace(${totals}, "team", "t-$1", "app", "(.*)")`;
    expect(await instant(src, `${c('{app="a"}')} * on (app) group_left (team) ${withTeam}`, 10)).toEqual([
      [{ app: 'a', env: 'dev', team: 't-a' }, 5],
      [{ app: 'a', env: 'prod', team: 't-a' }, 20],
    ]);
  });

  it('ambiguous matches fail with Loki messages', async () => {
    await expect(instant(src, `${c('{app=~".+"}')} + on (app) ${c('{app=~".+"}')}`, 10)).rejects.toThrow(
      'found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side',
    );
    await expect(instant(src, `${c('{app=~".+"}')} + on (app) sum by (app) (${c('{app=~".+"}')})`, 10)).rejects.toThrow(
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
  });

  it('and, or, unless are set operations on the matching labels', async () => {
    expect(await instant(src, `${c('{env="prod"}')} and ${c('{app="a"}')}`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 4]]);
    expect(await instant(src, `${c('{env="prod"}')} unless ${c('{app="a"}')}`, 10)).toEqual([[{ app: 'b', env: 'prod' }, 2]]);
    expect(await instant(src, `${c('{env="dev"}')} or ${c('{app="b"}')}`, 10)).toEqual([
      [{ app: 'a', env: 'dev' }, 1],
      [{ app: 'b', env: 'prod' }, 2],
    ]);
    expect(await instant(src, `${c('{env="prod"}')} and on (app) ${c('{env="dev"}')}`, 10)).toEqual([[{ app: 'a', env: 'prod' }, 4]]);
    expect(await instant(src, `${c('{env="prod"}')} unless ignoring (env) ${c('{env="dev"}')}`, 10)).toEqual([[{ app: 'b', env: 'prod' }, 2]]);
  });
});

describe('label_replace, vector() and literals', () => {
  const src = new FixtureSource([{ labels: { app: 'api-gateway', env: 'prod' }, entries: [[1, 'x']] }]);

  it('label_replace anchors the regex, expands $1 and ${name}, and leaves non-matching series alone', async () => {
    expect(await instant(src, 'label_replace(count_over_time({env="prod"}[1m]), "svc", "$1", "app", "(.*)-.*")', 10)).toEqual([
      [{ app: 'api-gateway', env: 'prod', svc: 'api' }, 1],
    ]);
    expect(await instant(src, 'label_replace(count_over_time({env="prod"}[1m]), "svc", "${x}", "app", "(?P<x>api)")', 10)).toEqual([
      [{ app: 'api-gateway', env: 'prod' }, 1],
    ]);
    // An empty replacement removes the label.
    expect(await instant(src, 'label_replace(count_over_time({env="prod"}[1m]), "env", "", "app", ".*")', 10)).toEqual([[{ app: 'api-gateway' }, 1]]);
  });

  it('vector() is a label-less sample at every step; a bare number is a scalar or a constant series', async () => {
    const empty = new FixtureSource([]);
    expect(await instant(empty, 'vector(1) + vector(1)', 4000000000 - Number(T0))).toEqual([[{}, 2]]);
    expect(await range(empty, 'vector(3)', 0, 20, 10)).toEqual({ '{}': [[0, 3], [10, 3], [20, 3]] });
    const scalar = await evaluate({ expr: sample('1 + 1'), start: at(5), end: at(5), step: 0n }, { source: empty });
    expect(scalar).toEqual({ type: 'scalar', ms: Number(at(5) / 1_000_000n), value: 2 });
    expect(await range(empty, '2 * 3', 0, 10, 5)).toEqual({ '{}': [[0, 6], [5, 6], [10, 6]] });
    // `or` adds the label-less sample: its (empty) label set matches nothing on the left.
    expect(await instant(src, `count_over_time({env="prod"}[1m]) or vector(0)`, 10)).toEqual([
      [{}, 0],
      [{ app: 'api-gateway', env: 'prod' }, 1],
    ]);
    expect(await instant(src, `count_over_time({env="none"}[1m]) or vector(0)`, 10)).toEqual([[{}, 0]]);
  });
});

describe('limits', () => {
  it('stops at the deadline with Loki 504 message', async () => {
    let now = 0;
    const deadline = new Deadline(1000, () => now);
    now = 2000;
    const src = new FixtureSource([{ labels: { app: 'x' }, entries: [[1, 'x']] }]);
    await expect(evaluate({ expr: sample('count_over_time({app="x"}[1m])'), start: at(10), end: at(10), step: 0n }, { source: src, deadline })).rejects.toMatchObject({
      code: 'timeout',
      message: 'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed',
    });
  });
});

describe("Loki's removeLineformat: line_format in a range aggregation", () => {
  const src = new FixtureSource([{ labels: { app: 'lf' }, entries: [[10, 'a=1'], [20, 'a=2']] }]);

  it('is dropped when no parser or line filter reads its line (its errors then cannot fail the query)', async () => {
    // `div 1 0` fails at execution: kept, it would mark every entry TemplateFormatErr and fail the query.
    expect(await instant(src, 'count_over_time({app="lf"} | logfmt | line_format "{{ div 1 0 }}" [1m])', 30)).toEqual([[{ a: '1', app: 'lf' }, 1], [{ a: '2', app: 'lf' }, 1]]);
    expect(await instant(src, 'count_over_time({app="lf"} | line_format "{{ div 1 0 }}" | label_format b=a [1m])', 30)).toEqual([[{ app: 'lf' }, 2]]);
    // A template that does not even parse is not looked at either.
    expect(await instant(src, 'count_over_time({app="lf"} | logfmt | line_format "{{bad" [1m])', 30)).toHaveLength(2);
  });

  it('is kept before a parser or a line filter, and for bytes_over_time and bytes_rate', async () => {
    await expect(instant(src, 'count_over_time({app="lf"} | line_format "{{ div 1 0 }}" |= "a" [1m])', 30)).rejects.toThrow(/^pipeline error: 'TemplateFormatErr'/);
    await expect(instant(src, 'bytes_over_time({app="lf"} | line_format "{{ div 1 0 }}" [1m])', 30)).rejects.toThrow(/^pipeline error: 'TemplateFormatErr'/);
    await expect(instant(src, 'count_over_time({app="lf"} | line_format "{{bad" | json [1m])', 30)).rejects.toThrow(
      `parse error : stage '| line_format "{{bad"' : invalid line template: template: line:1: function "bad" not defined`,
    );
    // bytes_over_time measures the formatted line: "x" is one byte per entry.
    expect(await instant(src, 'bytes_over_time({app="lf"} | line_format "x" [1m])', 30)).toEqual([[{ app: 'lf' }, 2]]);
  });
});

describe("parser hints (Loki's, metric queries only)", () => {
  // Line 2 breaks only after `level`; line 3 breaks before it; line 4 nests what `sum by (req_id)` reads.
  const src = new FixtureSource([
    {
      labels: { app: 'j' },
      entries: [
        [10, '{"level":"info","status":200}'],
        [20, '{"level":"warn","status":'],
        [30, '{"status" 500, "level":"error"}'],
        [40, '{"req":{"id":"r1","t":{"x":1}},"level":"info","status":404}'],
      ],
    },
    { labels: { app: 'k', level: 'x' }, entries: [[10, '{"level":"info"}']] },
    { labels: { app: 'l' }, entries: [[10, 'level=info status=200'], [20, 'level=warn status="unterminated'], [30, 'status="open level=debug']] },
  ]);

  it('without a grouping that needs parsed labels, json does not run: malformed lines do not fail the query', async () => {
    // Loki: `sum(…)` pushed into the extractor means no labels are needed, so the parser is skipped.
    expect(await instant(src, 'sum(count_over_time({app="j"} | json [1m]))', 50)).toEqual([[{}, 4]]);
    // topk keeps every label: no hints, and the malformed lines fail the query.
    await expect(instant(src, 'topk(1, count_over_time({app="j"} | json [1m]))', 50)).rejects.toThrow("pipeline error: 'JSONParserErr'");
  });

  it('extracts only the grouped label and stops reading a line once it has it', async () => {
    // Line 2 is broken after `level` (no error, as in Loki); line 3 before it (an error: the query fails).
    await expect(instant(src, 'sum by (level) (count_over_time({app="j"} | json [1m]))', 50)).rejects.toThrow("pipeline error: 'JSONParserErr'");
    expect(await instant(src, 'sum by (level) (count_over_time({app="j"} | json [25s]))', 25)).toEqual([
      [{ level: 'info' }, 1],
      [{ level: 'warn' }, 1],
    ]);
    // A key clashing with a stream label is extracted as level_extracted, which the grouping asks for.
    expect(await instant(src, 'sum by (level_extracted) (count_over_time({app="k"} | json [1m]))', 50)).toEqual([[{ level_extracted: 'info' }, 1]]);
    // Nested objects are walked only when a wanted label can be inside them.
    expect(await instant(src, 'sum by (req_id) (count_over_time({app="j"} | json [5s]))', 42)).toEqual([[{ req_id: 'r1' }, 1]]);
  });

  it('label filters and the unwrap count as needed labels', async () => {
    expect(await instant(src, 'sum by (app) (count_over_time({app="j"} | json | status >= 300 [5s]))', 42)).toEqual([[{ app: 'j' }, 1]]);
    expect(await instant(src, 'sum by (app) (sum_over_time({app="j"} | json | unwrap status [15s]))', 12)).toEqual([[{ app: 'j' }, 200]]);
  });

  it('logfmt stops at the last needed key, so a broken value after it is not an error', async () => {
    // Line 2's unterminated quote comes after `level`; line 3's swallows `level` (no value for it).
    expect(await instant(src, 'sum by (level) (count_over_time({app="l"} | logfmt --strict [25s]))', 25)).toEqual([
      [{ level: 'info' }, 1],
      [{ level: 'warn' }, 1],
    ]);
    await expect(instant(src, 'sum by (level) (count_over_time({app="l"} | logfmt --strict [1m]))', 50)).rejects.toThrow(
      "pipeline error: 'LogfmtParserErr'",
    );
  });

  it('a query grouping by __error__ keeps its errors instead of failing (__preserve_error__)', async () => {
    expect(await instant(src, 'sum by (__error__) (count_over_time({app="j"} | json [1m]))', 50)).toEqual([
      [{}, 2],
      [{ __error__: 'JSONParserErr' }, 2],
    ]);
  });

  it('a `without` grouping needs every label: no hints, every error counts', async () => {
    await expect(instant(src, 'sum without (status) (count_over_time({app="j"} | json [25s]))', 25)).rejects.toThrow(
      "pipeline error: 'JSONParserErr'",
    );
  });
});

describe('evaluate() called directly', () => {
  it('refuses an end before the start with the HTTP API message, not a crash', async () => {
    const src = new FixtureSource([{ labels: { app: 'a' }, entries: [[10, 'x']] }]);
    await expect(
      evaluate({ expr: parseExpr('sum(count_over_time({app="a"}[1m]))') as SampleExpr, start: 600n * S, end: 300n * S, step: 60n * S }, { source: src }),
    ).rejects.toThrow('end timestamp must not be before or equal to start time');
  });
});
