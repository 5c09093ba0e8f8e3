import { mkdtempSync, rmSync } from 'node:fs';
import type { ChunkEncoding } from '../chunk/codec.js';
import { localIngesterReader } from '../ingester/memory-stream.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexReader } from '../index/index-reader.js';
import { Ingester, type ValidStream } from '../ingester/ingester.js';
import { evaluate } from '../logql/engine/evaluator.js';
import type { SampleSource } from '../logql/engine/types.js';
import type { LogSelectorExpr, SampleExpr } from '../logql/syntax/ast.js';
import { parseExpr, parseMatchers } from '../logql/syntax/parser.js';
import type { Direction, LabelPair } from '../model.js';
import { SchemaConfig } from '../storage/schema.js';
import { newStats, Querier, type LogStream } from './querier.js';
import { localQuerier } from './testing/local-querier.js';
import { seededInts } from '../testing/random.js';

const S = 1_000_000_000n;
const NOW_MS = 1_700_000_000_000;
const T = BigInt(NOW_MS) * 1_000_000n;

function setup(dir: string, retainMs = 0, encoding: ChunkEncoding = 'snappy') {
  // Small blocks and chunks: a stream spans many chunks, so reads cross chunk boundaries all the time.
  return localQuerier(dir, { nowMs: NOW_MS, chunk: { encoding, blockSize: 512, targetSize: 2048 }, chunkIdlePeriodMs: 30 * 60_000, chunkRetainPeriodMs: retainMs });
}

interface Entry {
  ts: bigint;
  line: string;
  metadata?: LabelPair[];
}

const labelsOf = (app: string, pod: string): LabelPair[] => [
  ['app', app],
  ['pod', pod],
];
const stream = (app: string, pod: string, entries: Entry[]): ValidStream => ({
  labels: labelsOf(app, pod),
  canonical: `{app="${app}", pod="${pod}"}`,
  entries: entries.map((e) => ({ ts: e.ts, line: Buffer.from(e.line), metadata: e.metadata })),
});

const rng = seededInts;

/** Five streams, entries a few ms apart with distinct timestamps across streams (no ties). */
function corpus(seed: number, perStream: number): Map<string, Entry[]> {
  const r = rng(seed);
  const out = new Map<string, Entry[]>();
  const pods = ['a', 'b', 'c', 'd', 'e'];
  pods.forEach((pod, k) => {
    const es: Entry[] = [];
    let ts = T - 3600n * S + BigInt(k);
    for (let i = 0; i < perStream; i++) {
      ts += BigInt(1 + r(3000)) * 1_000_000n * 5n;
      const level = ['info', 'warn', 'error'][r(3)]!;
      es.push({ ts, line: `level=${level} pod=${pod} i=${i} ${'z'.repeat(r(60))}`, metadata: r(7) === 0 ? [['trace', `t${r(4)}`]] : undefined });
    }
    out.set(pod, es);
  });
  return out;
}

async function push(ingester: Ingester, data: Map<string, Entry[]>, pods?: string[]): Promise<void> {
  for (const [pod, es] of data) {
    if (pods !== undefined && !pods.includes(pod)) continue;
    for (let i = 0; i < es.length; i += 50) {
      expect(await ingester.push('t', [stream('web', pod, es.slice(i, i + 50))])).toEqual([]);
    }
  }
}

/** Three streams flushed to the store, two only in memory; the range covering them all. */
async function memoryAndStore(ingester: Ingester, data: Map<string, Entry[]>): Promise<{ from: bigint; through: bigint }> {
  await push(ingester, data, ['a', 'b', 'c']);
  await ingester.flushAll();
  await push(ingester, data, ['d', 'e']);
  return { from: T - 3000n * S, through: T + 3600n * S };
}

/** What a log query must return, computed from the pushed entries directly (timestamps are unique). */
function reference(data: Map<string, Entry[]>, q: string, from: bigint, through: bigint, direction: Direction, limit: number): Array<[string, string]> {
  const sel = parseExpr(q) as LogSelectorExpr;
  const all: Array<{ pod: string; e: Entry }> = [];
  for (const [pod, es] of data) {
    if (!sel.matchers.every((m) => m.matches(pod === undefined ? '' : m.name === 'pod' ? pod : 'web'))) continue;
    for (const e of es) if (e.ts >= from && e.ts < through) all.push({ pod, e });
  }
  all.sort((a, b) => (a.e.ts < b.e.ts ? -1 : 1) * (direction === 'forward' ? 1 : -1));
  // Line filters and a level filter are all these tests use.
  const keep = (line: string): boolean => {
    for (const st of sel.stages) {
      if (st.kind === 'line_filter') {
        const v = st.values[0]!.value;
        const hit = st.op === '|~' ? new RegExp(v).test(line) : line.includes(v);
        if (hit !== (st.op === '|=' || st.op === '|~')) return false;
      }
      if (st.kind === 'label_filter' && st.filter.kind === 'string') {
        const lv = /level=(\w+)/.exec(line)![1]!;
        if (!st.filter.matcher.matches(lv)) return false;
      }
    }
    return true;
  };
  return all
    .filter((x) => keep(x.e.line))
    .slice(0, limit)
    .map((x) => [x.e.ts.toString(), x.e.line]);
}

/** The entries of a result in global order (timestamps are unique, so the order is well defined). */
function flat(streams: LogStream[], direction: Direction): Array<[string, string]> {
  const all = streams.flatMap((s) => s.entries.map((e) => ({ ts: e.ts, line: e.line.toString() })));
  all.sort((a, b) => (a.ts < b.ts ? -1 : 1) * (direction === 'forward' ? 1 : -1));
  return all.map((e) => [e.ts.toString(), e.line]);
}

describe('Querier', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'querier-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const queries = [
    '{app="web"}',
    '{app="web"} |= "level=error"',
    '{pod=~"a|c"} != "zzzzz"',
    '{app="web"} |~ "i=[0-9]*7 " | logfmt | level="warn"',
    '{app="web"} |= "nothing matches this"',
  ];

  it('returns the newest / oldest `limit` entries across streams from memory, the store, and both', async () => {
    const { ingester, querier } = setup(dir);
    const data = corpus(1, 400);
    const { from, through } = await memoryAndStore(ingester, data);
    for (const q of queries) {
      for (const direction of ['backward', 'forward'] as const) {
        for (const limit of [1, 7, 100, 5000]) {
          const got = await querier.selectLogs({ tenant: 't', expr: parseExpr(q), from, through, direction, limit });
          expect([q, direction, limit, flat(got, direction)]).toEqual([q, direction, limit, reference(data, q, from, through, direction, limit)]);
          for (const s of got) {
            // Entries of one stream in the direction's order.
            for (let i = 1; i < s.entries.length; i++) expect((s.entries[i - 1]!.ts < s.entries[i]!.ts) === (direction === 'forward')).toBe(true);
          }
        }
      }
    }
  });

  it('with lz4 chunks (decoded into the scratch buffer, read into pooled buffers), concurrent queries stay exact', async () => {
    const { ingester, querier } = setup(dir, 0, 'lz4-256k');
    const data = corpus(5, 500);
    const { from, through } = await memoryAndStore(ingester, data);
    const count = (s: ReturnType<Querier['sampleSource']>): Promise<number> => {
      let n = 0;
      return s.scanStreams!({ matchers: parseMatchers('{app="web"}'), lineFilters: [], from, through }, () => ({
        raw: () => void n++,
        entry: () => void n++,
        transientData: true,
      })).then(() => n);
    };
    const total = [...data.values()].reduce((n, es) => n + es.filter((e) => e.ts >= from && e.ts < through).length, 0);
    for (let round = 0; round < 2; round++) {
      // Every query at once: their chunk reads interleave, and each takes and gives back pooled buffers.
      const jobs = queries.flatMap((q) =>
        (['backward', 'forward'] as const).map(async (direction) => {
          const got = await querier.selectLogs({ tenant: 't', expr: parseExpr(q), from, through, direction, limit: 5000 });
          return [q, direction, flat(got, direction)];
        }),
      );
      const counts = [count(querier.sampleSource('t')), count(querier.sampleSource('t'))];
      const results = await Promise.all(jobs);
      for (const [q, direction, got] of results) {
        expect([q, direction, got]).toEqual([q, direction, reference(data, q as string, from, through, direction as Direction, 5000)]);
      }
      expect(await Promise.all(counts)).toEqual([total, total]);
    }
  });

  it("counts the lines and bytes it processed before line filters, and the entries that passed them (Loki's stats)", async () => {
    const { ingester, querier } = setup(dir, 0, 'lz4-256k');
    const data = corpus(6, 300);
    const { from, through } = await memoryAndStore(ingester, data);
    const inRange = [...data.values()].flat().filter((e) => e.ts >= from && e.ts < through);
    const bytes = inRange.reduce((n, e) => n + Buffer.byteLength(e.line), 0);
    const errors = inRange.filter((e) => e.line.includes('level=error')).length;
    for (const direction of ['backward', 'forward'] as const) {
      const none = newStats();
      await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="web"} |= "nothing matches this"'), from, through, direction, limit: 10 }, none);
      // A block the filter rules out after its first line is searched, not parsed: estimated to within a few %.
      expect(none.entriesScanned).toBe(0);
      expect(Math.abs(none.linesProcessed / inRange.length - 1)).toBeLessThan(0.05);
      expect(Math.abs(none.bytesProcessed / bytes - 1)).toBeLessThan(0.05);
    }
    const scan = newStats();
    let seen = 0;
    await querier.sampleSource('t', undefined, scan).scanStreams!(
      { matchers: parseMatchers('{app="web"}'), lineFilters: [{ op: '|=', values: ['level=error'] }], from, through },
      () => ({ raw: () => void seen++, entry: () => void seen++, transientData: true }),
    );
    expect([scan.entriesScanned, seen]).toEqual([errors, errors]);
    // Past a block's last `level=error` the rest is estimated too.
    expect(Math.abs(scan.linesProcessed / inRange.length - 1)).toBeLessThan(0.05);
    expect(Math.abs(scan.bytesProcessed / bytes - 1)).toBeLessThan(0.05);
    // Without a filter nothing is estimated: every line is parsed and counted.
    const all = newStats();
    await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="web"}'), from, through, direction: 'forward', limit: 100000 }, all);
    expect([all.linesProcessed, all.bytesProcessed, all.entriesScanned]).toEqual([inRange.length, bytes, inRange.length]);
  });

  it('reads only the newest chunks for a backward query with a small limit', async () => {
    const { ingester, querier } = setup(dir);
    const data = corpus(2, 600);
    await push(ingester, data);
    await ingester.flushAll();
    const all = newStats();
    await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="web"}'), from: T - 4000n * S, through: T, direction: 'backward', limit: 100000 }, all);
    const few = newStats();
    const got = await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="web"}'), from: T - 4000n * S, through: T, direction: 'backward', limit: 10 }, few);
    expect(got.reduce((n, s) => n + s.entries.length, 0)).toBe(10);
    expect(all.chunksFetched).toBeGreaterThan(50);
    // The five newest chunks (one per stream) plus a little prefetch, not the whole range.
    expect(few.chunksFetched).toBeLessThan(all.chunksFetched / 4);
  });

  it('breaks timestamp ties between streams by stream order and keeps the limit exact', async () => {
    const { ingester, querier } = setup(dir);
    for (const pod of ['x', 'y', 'z']) {
      await ingester.push('t', [stream('tie', pod, [1n, 2n, 3n].map((k) => ({ ts: T - 10n * S + k * S, line: `${pod}${k}` })))]);
    }
    const got = await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="tie"}'), from: T - 60n * S, through: T, direction: 'backward', limit: 4 });
    expect(got.map((s) => [s.labels, s.entries.map((e) => e.line.toString())])).toEqual([
      [labelsOf('tie', 'x'), ['x3', 'x2']],
      [labelsOf('tie', 'y'), ['y3']],
      [labelsOf('tie', 'z'), ['z3']],
    ]);
  });

  it('applies `interval` after the pipeline, across streams, in the direction', async () => {
    const { ingester, querier } = setup(dir);
    const data = corpus(3, 200);
    await push(ingester, data);
    const from = T - 4000n * S;
    const interval = 60n * S;
    for (const direction of ['forward', 'backward'] as const) {
      const got = await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="web"} |= "level=info"'), from, through: T, direction, limit: 20, interval });
      const ref = reference(data, '{app="web"} |= "level=info"', from, T, direction, 100000);
      const want: Array<[string, string]> = [];
      let last: bigint | undefined;
      for (const [ts, line] of ref) {
        const t = BigInt(ts);
        if (last !== undefined && (direction === 'forward' ? t < last + interval : t > last - interval)) continue;
        want.push([ts, line]);
        last = t;
        if (want.length === 20) break;
      }
      expect(flat(got, direction)).toEqual(want);
    }
  });

  it('reads a chunk that is both in memory and in the store once, and deduplicates overlapping chunks', async () => {
    const { ingester, querier, clock } = setup(dir, 3_600_000);
    const es: Entry[] = Array.from({ length: 300 }, (_, i) => ({ ts: T - 1000n * S + BigInt(i) * S, line: `entry ${i} ${'y'.repeat(i % 50)}` }));
    await ingester.push('t', [stream('dup', 'p', es)]);
    await ingester.flushAll();
    // Flushed and still retained in memory: listed by both; read once.
    const stats = newStats();
    const once = await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="dup"}'), from: T - 2000n * S, through: T, direction: 'forward', limit: 1000 }, stats);
    expect(once.flatMap((s) => s.entries.map((e) => e.line.toString()))).toEqual(es.map((e) => e.line));
    expect(stats.chunksFetched).toBe(0);
    // A second copy of the same entries in other chunks (as after a WAL replay of flushed data), plus one more.
    clock.advance(2 * 3_600_000);
    await ingester.sweep(false);
    expect(ingester.streamCount).toBe(0);
    await ingester.push('t', [stream('dup', 'p', [...es, { ts: T - 1n * S, line: 'extra' }])]);
    for (const direction of ['forward', 'backward'] as const) {
      const got = await querier.selectLogs({ tenant: 't', expr: parseExpr('{app="dup"}'), from: T - 2000n * S, through: T, direction, limit: 1000 });
      const want = [...es.map((e) => e.line), 'extra'];
      expect(got.flatMap((s) => s.entries.map((e) => e.line.toString()))).toEqual(direction === 'forward' ? want : want.reverse());
    }
    const streams = await querier.selectStreams({ tenant: 't', matchers: parseMatchers('{app="dup"}'), from: T - 2000n * S, through: T });
    expect(streams.map((s) => s.entries.length)).toEqual([301]);
    const count = await evaluate(
      { expr: parseExpr('count_over_time({app="dup"}[2000s])') as SampleExpr, start: T - 1n, end: T - 1n, step: 0n },
      { source: querier.sampleSource('t') },
    );
    expect(count).toMatchObject({ type: 'vector', samples: [{ value: 301 }] });
  });

  it('metric queries: the block-scanning source gives what the entry source gives', async () => {
    const { ingester, querier } = setup(dir);
    const data = corpus(4, 500);
    await push(ingester, data, ['a', 'b']);
    await ingester.flushAll();
    await push(ingester, data, ['c', 'd', 'e']);
    // Overlapping chunks for stream e: older entries again, out of order, in a later chunk.
    await push(ingester, new Map([['e', data.get('e')!.slice(10, 40).map((e) => ({ ...e, line: e.line + ' again' }))]]));
    const scan = querier.sampleSource('t');
    const entriesOnly: SampleSource = { readStreams: scan.readStreams };
    const qs = [
      'sum(count_over_time({app="web"}[5m]))',
      'sum by (pod) (bytes_over_time({app="web"} |= "level=error" [2m]))',
      'count_over_time({pod=~"a|e"} !~ "i=1[0-9]* " [10m])',
      'sum by (level) (rate({app="web"} | logfmt [5m]))',
      'max_over_time({app="web"} | regexp "i=(?P<i>[0-9]+)" | unwrap i [10m]) by (pod)',
      'topk(2, sum by (pod, trace) (count_over_time({app="web"}[15m])))',
    ];
    for (const q of qs) {
      const expr = parseExpr(q) as SampleExpr;
      const params = { expr, start: T - 3000n * S, end: T, step: 60n * S };
      const a = await evaluate(params, { source: entriesOnly });
      const b = await evaluate(params, { source: scan });
      expect([q, b]).toEqual([q, a]);
      expect(a.type === 'matrix' && a.series.length > 0).toBe(true);
    }
  });

  it('decompressing on the libuv pool reads the same as decompressing in line', async () => {
    const { ingester, querier, store } = setup(dir);
    const data = corpus(6, 300);
    await push(ingester, data, ['a', 'b', 'c']);
    await ingester.flushAll();
    await push(ingester, data, ['d', 'e']);
    const schema = new SchemaConfig([
      { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 },
    ]);
    const pooled = new Querier({ ingester: localIngesterReader(ingester), index: new IndexReader(store, schema), store, schema, decompressOnPool: true });
    const from = T - 4000n * S;
    for (const q of ['{app="web"} |= "level=warn"', '{pod=~"a|d"} | logfmt | level="error"']) {
      for (const direction of ['forward', 'backward'] as const) {
        const a = await querier.selectLogs({ tenant: 't', expr: parseExpr(q), from, through: T, direction, limit: 50 });
        const b = await pooled.selectLogs({ tenant: 't', expr: parseExpr(q), from, through: T, direction, limit: 50 });
        expect(flat(b, direction)).toEqual(flat(a, direction));
      }
    }
    const params = { expr: parseExpr('sum by (pod) (count_over_time({app="web"} |= "level=info" [5m]))') as SampleExpr, start: T - 3000n * S, end: T, step: 60n * S };
    expect(await evaluate(params, { source: pooled.sampleSource('t') })).toEqual(await evaluate(params, { source: querier.sampleSource('t') }));
  });

  it('selectStreams: streams in label order, entries oldest first, filtered by the predicate', async () => {
    const { ingester, querier } = setup(dir);
    const data = corpus(5, 200);
    await push(ingester, data, ['c', 'a']);
    await ingester.flushAll();
    await push(ingester, data, ['b']);
    const got = await querier.selectStreams({
      tenant: 't',
      matchers: parseMatchers('{app="web"}'),
      prefilter: (l) => l.includes('level=warn'),
      from: T - 4000n * S,
      through: T,
    });
    expect(got.map((s) => s.canonical)).toEqual(['{app="web", pod="a"}', '{app="web", pod="b"}', '{app="web", pod="c"}']);
    for (const s of got) {
      const pod = s.labels[1]![1];
      const want = data.get(pod)!.filter((e) => e.line.includes('level=warn'));
      expect(s.entries.map((e) => [e.ts, e.line.toString(), e.metadata])).toEqual(want.map((e) => [e.ts, e.line, e.metadata]));
    }
  });
});
