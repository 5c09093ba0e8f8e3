import { compileBlockFilter } from '../../chunk/block-filter.js';
import { MemChunk } from '../../chunk/mem-chunk.js';
import type { LabelPair, Labels } from '../../model.js';
import { compileLogSelector } from '../log/pipeline.js';
import type { LogSelectorExpr, SampleExpr } from '../syntax/ast.js';
import type { LabelMatcher } from '../syntax/matcher.js';
import { parseExpr } from '../syntax/parser.js';
import { evaluate, type MetricResult } from './evaluator.js';
import type { SampleSource, ScanRequest, ScanVisitor, SourceEntry, SourceStream } from './types.js';
import { seededInts } from '../../testing/random.js';

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;

interface Stream {
  labels: Labels;
  entries: SourceEntry[];
}

const rng = seededInts;

/** Random streams over [T0, T0 + spanSec): enough entries per series that window sums take over. */
function dataset(seed: number, spanSec: number): Stream[] {
  const r = rng(seed);
  const out: Stream[] = [];
  for (const [app, pod] of [
    ['web', 'a'],
    ['web', 'b'],
    ['db', 'c'],
  ]) {
    const entries: SourceEntry[] = [];
    for (let i = 0, n = 800 + r(800); i < n; i++) {
      // A quarter on whole seconds and some a nanosecond off them: on and next to window bounds, where
      // (t − range, t] must exclude the start and include the end.
      const k = r(8);
      const frac = k < 2 ? 0n : k === 2 ? 1n : k === 3 ? S - 1n : BigInt(r(1_000_000_000));
      const ts = T0 + BigInt(r(spanSec)) * S + frac;
      const line = Buffer.from(`level=${['info', 'error'][r(2)]} ${'x'.repeat(r(40))} n=${i}`);
      const metadata: LabelPair[] | undefined = r(10) === 0 ? [['trace', `t${r(3)}`]] : undefined;
      entries.push({ ts, line, metadata });
    }
    entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    out.push({ labels: [['app', app!], ['pod', pod!]], entries });
  }
  return out;
}

const matches = (ms: LabelMatcher[], l: Labels) => ms.every((m) => m.matches(l.find(([n]) => n === m.name)?.[1] ?? ''));

/** The general path: whole streams of entries. */
class EntrySource implements SampleSource {
  constructor(private readonly streams: Stream[]) {}
  readStreams(ms: LabelMatcher[], pre: ((l: Buffer) => boolean) | undefined, from: bigint, through: bigint): Promise<SourceStream[]> {
    return Promise.resolve(
      this.streams
        .filter((s) => matches(ms, s.labels))
        .map((s) => ({ labels: s.labels, entries: s.entries.filter((e) => e.ts >= from && e.ts < through && (pre === undefined || pre(e.line))) })),
    );
  }
}

/** The fast path: every stream in real chunks (two per stream, cut at random), scanned block by block. */
class ChunkSource extends EntrySource {
  private readonly chunks: Array<{ labels: Labels; chunks: MemChunk[] }>;
  constructor(streams: Stream[]) {
    super(streams);
    this.chunks = streams.map((s) => {
      const cs = [new MemChunk({ blockSize: 2048 }), new MemChunk({ blockSize: 2048 })];
      const cut = Math.floor(s.entries.length / 3);
      // Stream b is appended in a shuffled order: its blocks overlap in time and a scan sees time go back and forth.
      const order = s.entries.map((_, i) => i);
      if (s.labels[1]![1] === 'b') {
        const r = rng(11);
        for (let i = order.length - 1; i > 0; i--) {
          const j = r(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      order.forEach((k, i) => {
        const e = s.entries[k]!;
        cs[i < cut ? 0 : 1]!.append(e.ts, e.line, e.metadata);
      });
      return { labels: s.labels, chunks: cs };
    });
  }
  async scanStreams(req: ScanRequest, visit: (s: { labels: Labels }) => ScanVisitor): Promise<void> {
    const filter = compileBlockFilter(req.lineFilters);
    for (const s of this.chunks) {
      if (!matches(req.matchers, s.labels)) continue;
      const v = visit(s);
      for (const c of s.chunks) await c.scan(req.from, req.through, filter, v.raw);
    }
  }
}

/** count/bytes/rate of every series at every step, counted entry by entry. */
function bruteForce(streams: Stream[], q: string, start: bigint, end: bigint, step: bigint): Record<string, number[]> {
  const m = /^(sum\()?(count_over_time|bytes_over_time|rate|bytes_rate)\((.*)\[(\d+)s\]\)\)?$/.exec(q)!;
  const summed = m[1] !== undefined;
  const op = m[2]!;
  const sel = parseExpr(m[3]!) as LogSelectorExpr;
  const { matchers, prefilter } = compileLogSelector(sel);
  const rangeNs = BigInt(m[4]!) * S;
  const out: Record<string, number[]> = {};
  for (let t = start, i = 0; t <= end; t += step > 0n ? step : 1n, i++) {
    for (const s of streams) {
      if (!matches(matchers, s.labels)) continue;
      for (const e of s.entries) {
        if (e.ts <= t - rangeNs || e.ts > t || (prefilter !== undefined && !prefilter(e.line))) continue;
        const labels = summed ? {} : Object.fromEntries([...s.labels, ...(e.metadata ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
        const key = JSON.stringify(labels);
        const vals = (out[key] ??= []);
        vals[i] = (vals[i] ?? 0) + (op === 'count_over_time' || op === 'rate' ? 1 : e.line.length);
      }
    }
    if (step === 0n) break;
  }
  const rangeSec = Number(rangeNs) / 1e9;
  for (const vals of Object.values(out)) {
    for (let i = 0; i < vals.length; i++) if (vals[i] !== undefined && (op === 'rate' || op === 'bytes_rate')) vals[i] = vals[i]! / rangeSec;
  }
  return out;
}

function asTable(r: MetricResult, start: bigint, step: bigint): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (r.type === 'vector') {
    for (const s of r.samples) out[JSON.stringify(Object.fromEntries(s.labels))] = [s.value];
    return out;
  }
  if (r.type !== 'matrix') throw new Error(r.type);
  for (const s of r.series) {
    const vals: number[] = [];
    s.ms.forEach((ms, k) => (vals[Number((BigInt(ms) * 1_000_000n - start) / (step > 0n ? step : 1n))] = s.values[k]!));
    out[JSON.stringify(Object.fromEntries(s.labels))] = vals;
  }
  return out;
}

describe('range aggregations over many samples (window sums) and block scans', () => {
  const span = 3600;
  const streams = dataset(7, span);
  const entrySource = new EntrySource(streams);
  const chunkSource = new ChunkSource(streams);

  const queries = [
    'count_over_time({app="web"}[300s])',
    'sum(count_over_time({app=~".+"}[60s]))',
    'bytes_over_time({pod="a"}[90s])',
    'sum(bytes_rate({app="web"} |= "error" [120s]))',
    'rate({app=~"web|db"} !~ "n=1[0-9]*$" [45s])',
    'count_over_time({app="db"} |~ "x{10}" [600s])',
  ];
  // Steps that divide the range, that do not, larger than the range, and an instant query.
  const grids: Array<[startSec: number, endSec: number, stepSec: number]> = [
    [300, 3600, 60],
    [123, 3000, 7],
    [0, 3600, 400],
    [1800, 1800, 0],
  ];

  for (const q of queries) {
    for (const [a, b, st] of grids) {
      it(`${q} at ${a}..${b} step ${st}: equal to counting entries, on both read paths`, async () => {
        const start = T0 + BigInt(a) * S;
        const end = T0 + BigInt(b) * S;
        const step = BigInt(st) * S;
        const want = bruteForce(streams, q, start, end, step);
        const expr = parseExpr(q) as SampleExpr;
        const viaEntries = asTable(await evaluate({ expr, start, end, step }, { source: entrySource }), start, step);
        const viaScan = asTable(await evaluate({ expr, start, end, step }, { source: chunkSource }), start, step);
        expect(viaEntries).toEqual(want);
        expect(viaScan).toEqual(want);
      });
    }
  }

  it('window sums match counting for dense samples in random order, ranges that are not a multiple of the step', async () => {
    const r = rng(3);
    const entries: SourceEntry[] = [];
    for (let i = 0; i < 6000; i++) {
      // Whole seconds, a nanosecond either side, or anywhere: window bounds are whole seconds here.
      const k = r(4);
      const frac = k === 0 ? 0n : k === 1 ? 1n : k === 2 ? S - 1n : BigInt(r(1_000_000_000));
      entries.push({ ts: T0 + BigInt(r(200)) * S + frac, line: Buffer.from('x'.repeat(r(9))) });
    }
    const dense = [{ labels: [['app', 'dense']] as Labels, entries }];
    for (const [q, step] of [
      ['count_over_time({app="dense"}[7s])', 3n],
      ['bytes_over_time({app="dense"}[5s])', 7n],
      ['rate({app="dense"}[2s])', 5n],
      ['count_over_time({app="dense"}[9s])', 9n],
    ] as const) {
      const start = T0 + 10n * S;
      const end = T0 + 190n * S;
      const want = bruteForce(dense, q, start, end, step * S);
      const got = asTable(await evaluate({ expr: parseExpr(q) as SampleExpr, start, end, step: step * S }, { source: new EntrySource(dense) }), start, step * S);
      expect([q, got]).toEqual([q, want]);
    }
  });

  it.each([
    'sum by (level) (count_over_time({app="web"} | logfmt [300s]))',
    'max_over_time({app="web"} | regexp "n=(?P<n>[0-9]+)" | unwrap n [120s])',
    'quantile_over_time(0.9, {app=~".+"} |= "error" | regexp "n=(?P<n>[0-9]+)" | unwrap n [600s]) by (pod)',
    'topk(2, sum by (pod, trace) (bytes_over_time({app=~".+"}[300s])))',
    'absent_over_time({app="web"} |= "nothing like this" [60s])',
  ])('%s: the scan path gives what the entry path gives', async (q) => {
    const expr = parseExpr(q) as SampleExpr;
    const start = T0 + 300n * S;
    const end = T0 + 3600n * S;
    const step = 30n * S;
    const a = await evaluate({ expr, start, end, step }, { source: entrySource });
    const b = await evaluate({ expr, start, end, step }, { source: chunkSource });
    expect(b).toEqual(a);
  });
});
