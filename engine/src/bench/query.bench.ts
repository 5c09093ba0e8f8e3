/**
 * LogQL read path: ~1 GB of the seeded corpus pushed into an in-process engine (WAL off: the write path is not what
 * is measured), queried while it is in the ingester's memory, then flushed to the filesystem store and queried
 * again from there (index files + chunk objects, nothing left in memory). Plus label and series lookups on 100k
 * small streams, in memory and from the index.
 *
 * It runs in a child process so the corpus and the engine's memory never sit in the parent's heap, and so the
 * child's CPU time (`process.cpuUsage`: every thread — main, libuv pool running lz4, GC helpers) is the engine's
 * alone. Throughput is line bytes of the data a query had to look at, per CPU-second.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../core/config/config.js';
import { Engine } from '../core/engine.js';
import { evaluate, type MetricResult, type SampleSource } from '../core/logql/engine/index.js';
import { parseExpr, parseMatchers } from '../core/logql/syntax/parser.js';
import type { SampleExpr } from '../core/logql/syntax/ast.js';
import type { PushStream } from '../core/model.js';
import { IndexReader } from '../core/index/index-reader.js';
import { indexFileKey } from '../core/index/index-file.js';
import { TableIndexBuilder } from '../core/index/table-index.js';
import { newStats, Querier } from '../core/querier/querier.js';
import { nopLogger } from '../core/util/logger.js';
import { Agent, toPushRequest } from './corpus.js';
import { benchConfig, benchTempDir, removeTempDir } from './engine-process.js';

export interface QueryBenchOptions {
  /** Line bytes to ingest (MB = 10^6 B). */
  lineMB: number;
  seed: number;
  /** Streams for the label and series lookups. */
  lookupStreams: number;
  /** Timed runs per query (the best, by CPU time, is reported); one untimed warm-up run comes first. */
  runs: number;
  /** V8 flags for the child (the engine's process); none by default, as main.ts sets none. */
  v8Flags?: string[];
  /** Only the throughput queries: no limited log queries, no lookups. */
  queriesOnly?: boolean;
}

/** One query, where it read from, and what it cost. */
export interface QueryMeasure {
  name: string;
  /** Key into the Loki reference table (report.ts), if Loki was measured on this query kind. */
  ref: 'lineFilter' | 'regexFilter' | 'countNoFilter' | 'json' | 'metric' | undefined;
  query: string;
  where: 'memory' | 'store';
  /** Line bytes of the streams the selector matches in the query range: what the query has to look at. */
  bytes: number;
  lines: number;
  cpuSeconds: number;
  wallSeconds: number;
  /** bytes / 1e6 / cpuSeconds. */
  mbPerCpuSecond: number;
  /** A short description of the answer (entries returned, series, a total), so a broken query shows. */
  answer: string;
}

export interface LookupMeasure {
  name: string;
  where: 'memory' | 'store';
  /** Results returned (label names, values, series). */
  results: number;
  /** Per call, best of the timed calls. */
  cpuMs: number;
  wallMs: number;
}

/** A log query with a small limit: what it costs, and how many chunks it had to read (limit-aware reads). */
export interface LimitMeasure {
  name: string;
  query: string;
  where: 'memory' | 'store';
  direction: 'backward' | 'forward';
  limit: number;
  entries: number;
  cpuMs: number;
  wallMs: number;
  /** Chunks read out of those the selector's streams have in the range. */
  chunksRead: number;
  chunksInRange: number;
}

export interface QueryBenchResult {
  v8Flags: string[];
  lineBytes: number;
  lines: number;
  streams: number;
  spanMinutes: number;
  ingestSeconds: number;
  flushSeconds: number;
  storeChunks: number;
  storeBytes: number;
  lookupStreams: number;
  queries: QueryMeasure[];
  limited: LimitMeasure[];
  lookups: LookupMeasure[];
  seconds: number;
}

/** Runs the query benchmark in a child process; its progress lines go to `log`. */
export async function runQueryBench(o: QueryBenchOptions, log: (s: string) => void): Promise<QueryBenchResult> {
  const self = fileURLToPath(import.meta.url);
  const dir = benchTempDir('strata-bench-query-');
  try {
    return await new Promise<QueryBenchResult>((done, fail) => {
      const child = spawn(
        process.execPath,
        ['--max-old-space-size=12288', ...(o.v8Flags ?? []), self, '--query-child', JSON.stringify(o), dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        for (;;) {
          const nl = err.indexOf('\n');
          if (nl < 0) break;
          log(err.slice(0, nl));
          err = err.slice(nl + 1);
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) return fail(new Error(`query bench child failed (${signal ?? code}): ${err}`));
        try {
          done(JSON.parse(out.trim().split('\n').pop()!) as QueryBenchResult);
        } catch (e) {
          fail(new Error(`query bench child printed no result: ${(e as Error).message}\n${out}`));
        }
      });
    });
  } finally {
    removeTempDir(dir);
  }
}

// ── the child ───────────────────────────────────────────────────────────────────────────────────────────────────

export const TENANT = 'bench';
const LOOKUP_TENANT = 'lookups';
const AGENTS = 4;
/** Time between two lines of one agent: 1 GB spans about 85 minutes. */
const STEP_NS = 5_000_000;

const progress = (s: string): void => void process.stderr.write(s + '\n');

interface QuerySpec {
  name: string;
  ref: QueryMeasure['ref'];
  query: string;
  /** Selector whose streams' bytes count as scanned. */
  selector: string;
}

const ALL = '{namespace=~".+"}';
const JSON_APPS = '{app=~"orders|inventory|users"}';

export const QUERIES: readonly QuerySpec[] = [
  { name: 'line filter, no match (log query, limit 1000)', ref: 'lineFilter', query: `${ALL} |= "f00dfacedeadbeef"`, selector: ALL },
  {
    name: 'regex filter (count of matching lines)',
    ref: 'regexFilter',
    query: `sum(count_over_time(${ALL} |~ "(GET|POST) /api/v[12]/orders" [5m]))`,
    selector: ALL,
  },
  { name: 'sum(count_over_time) without a filter', ref: 'countNoFilter', query: `sum(count_over_time(${ALL}[5m]))`, selector: ALL },
  {
    name: 'sum by (level) of count_over_time over | json',
    ref: 'json',
    query: `sum by (level) (count_over_time(${JSON_APPS} | json [5m]))`,
    selector: JSON_APPS,
  },
  {
    name: 'topk(10) of bytes_over_time by pod',
    ref: 'metric',
    query: `topk(10, sum by (pod) (bytes_over_time(${ALL}[5m])))`,
    selector: ALL,
  },
];

interface Window {
  from: bigint;
  through: bigint;
}

function describe(r: MetricResult): string {
  if (r.type === 'scalar') return `scalar ${r.value}`;
  if (r.type === 'vector') return `${r.samples.length} samples`;
  let points = 0;
  let total = 0;
  for (const s of r.series) {
    points += s.values.length;
    for (const v of s.values) total += v;
  }
  return `${r.series.length} series, ${points} points, sum of values ${total.toFixed(0)}`;
}

/** Line bytes and lines pushed per stream, to count what a selector covers (all of it is in the query range). */
export type Volumes = Map<string, { labels: Record<string, string>; bytes: number; lines: number }>;

function selectedVolume(volumes: Volumes, selector: string): { bytes: number; lines: number } {
  const matchers = parseMatchers(selector);
  let bytes = 0;
  let lines = 0;
  for (const v of volumes.values()) {
    if (!matchers.every((m) => m.matches(v.labels[m.name] ?? ''))) continue;
    bytes += v.bytes;
    lines += v.lines;
  }
  return { bytes, lines };
}

function sampleSource(querier: Querier): SampleSource {
  return querier.sampleSource(TENANT, undefined, newStats());
}

async function runQuery(querier: Querier, spec: QuerySpec, w: Window): Promise<string> {
  const expr = parseExpr(spec.query);
  if (expr.kind === 'log') {
    const streams = await querier.selectLogs({
      tenant: TENANT,
      expr,
      from: w.from,
      through: w.through,
      direction: 'backward',
      limit: 1000,
    });
    let n = 0;
    for (const s of streams) n += s.entries.length;
    return `${n} entries in ${streams.length} streams`;
  }
  const result = await evaluate(
    { expr: expr as SampleExpr, start: w.from + 5n * 60_000_000_000n, end: w.through, step: 60_000_000_000n },
    { source: sampleSource(querier) },
  );
  return describe(result);
}

function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

async function measure<T>(runs: number, fn: () => Promise<T>): Promise<{ cpu: number; wall: number; value: T }> {
  let value = await fn();
  let cpu = Infinity;
  let wall = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = cpuNow();
    const t0 = performance.now();
    value = await fn();
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    cpu = Math.min(cpu, cpuNow() - c0);
  }
  return { cpu, wall, value };
}

async function runQueries(engine: Engine, where: 'memory' | 'store', w: Window, runs: number, volumes: Volumes, out: QueryMeasure[]): Promise<void> {
  for (const spec of QUERIES) {
    const size = selectedVolume(volumes, spec.selector);
    const m = await measure(runs, () => runQuery(engine.querier, spec, w));
    const r: QueryMeasure = {
      name: spec.name,
      ref: spec.ref,
      query: spec.query,
      where,
      bytes: size.bytes,
      lines: size.lines,
      cpuSeconds: m.cpu,
      wallSeconds: m.wall,
      mbPerCpuSecond: size.bytes / 1e6 / m.cpu,
      answer: m.value,
    };
    out.push(r);
    progress(
      `  ${where.padEnd(6)} ${spec.name}: ${r.mbPerCpuSecond.toFixed(0)} MB per CPU-second ` +
        `(${(r.bytes / 1e6).toFixed(0)} MB in ${r.cpuSeconds.toFixed(2)} CPU-s, ${r.wallSeconds.toFixed(2)} s wall; ${r.answer})`,
    );
  }
}

const LIMITED: ReadonlyArray<{ name: string; query: string; direction: 'backward' | 'forward' }> = [
  { name: 'newest 100 entries of every stream', query: ALL, direction: 'backward' },
  { name: 'newest 100 errors of one app', query: '{app="checkout"} |= "level=error"', direction: 'backward' },
  { name: 'oldest 100 `| json` entries with a label filter', query: `${JSON_APPS} | json | items >= 9`, direction: 'forward' },
];

/** Log queries with limit 100 over the whole range: how much a small limit saves (see Querier.selectLogs). */
async function runLimited(engine: Engine, where: 'memory' | 'store', w: Window, out: LimitMeasure[]): Promise<void> {
  for (const l of LIMITED) {
    const expr = parseExpr(l.query);
    let stats = newStats();
    const m = await measure(5, async () => {
      stats = newStats();
      const streams = await engine.querier.selectLogs({ tenant: TENANT, expr, from: w.from, through: w.through, direction: l.direction, limit: 100 }, stats);
      return streams.reduce((n, s) => n + s.entries.length, 0);
    });
    // The chunks a full read would touch: every chunk of the matching streams (memory or index).
    const all = newStats();
    await engine.querier.selectLogs({ tenant: TENANT, expr: parseExpr(`${l.query.split('}')[0]}} |= "f00dfacedeadbeef"`), from: w.from, through: w.through, direction: l.direction, limit: 100 }, all);
    const r: LimitMeasure = {
      name: l.name,
      query: l.query,
      where,
      direction: l.direction,
      limit: 100,
      entries: m.value,
      cpuMs: m.cpu * 1000,
      wallMs: m.wall * 1000,
      chunksRead: where === 'store' ? stats.chunksFetched : stats.memoryChunksRead,
      chunksInRange: where === 'store' ? all.chunksFetched : all.memoryChunksRead,
    };
    out.push(r);
    progress(`  ${where.padEnd(6)} ${l.name}: ${r.cpuMs.toFixed(1)} CPU-ms, ${r.wallMs.toFixed(1)} ms wall, ${r.entries} entries, ${r.chunksRead} of ${r.chunksInRange} chunks read`);
  }
}

/**
 * Label and series lookups over `n` streams: in the ingester's memory, then from an index holding the same
 * streams. The index file is built with the flusher's own builder, but without uploading `n` one-entry chunks
 * (lookups read the index only, and `n` chunk objects would take a minute to write and to delete).
 */
async function lookupBench(n: number, dir: string, nowMs: number, out: LookupMeasure[]): Promise<void> {
  const engine = new Engine(loadConfig({ text: benchConfig({ dir, port: 0, walEnabled: false }) }), 'all', { logger: nopLogger });
  engine.state = 'Running';
  let t0 = performance.now();
  for (const batch of lookupStreams(n, nowMs)) await engine.distributor.push(LOOKUP_TENANT, { streams: batch });
  progress(`  pushed ${n} lookup streams in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const from = BigInt(nowMs - 3_600_000) * 1_000_000n;
  const through = BigInt(nowMs + 1) * 1_000_000n;
  await runLookups(engine.querier, 'memory', from, through, out);

  t0 = performance.now();
  const builders = new Map<string, TableIndexBuilder>();
  let checksum = 0;
  for (const s of engine.ingester.chunks(LOOKUP_TENANT, [], from, through)) {
    for (const { chunk } of s.chunks) {
      const ref = { tenant: LOOKUP_TENANT, fingerprint: s.fingerprint, from: chunk.minTs, through: chunk.maxTs, checksum: checksum++ };
      for (const t of engine.schema.tablesBetween(ref.from, ref.through)) {
        let b = builders.get(t.table);
        if (b === undefined) builders.set(t.table, (b = new TableIndexBuilder(LOOKUP_TENANT, t.table)));
        b.addChunk(s.labels, s.canonical, ref, { entries: chunk.entryCount, uncompressedBytes: chunk.uncompressedBytes, compressedBytes: 0 });
      }
    }
  }
  let seq = 0;
  for (const [table, b] of builders) await engine.store.put(indexFileKey(table, LOOKUP_TENANT, 'bench', nowMs, seq++), b.toBuffer());
  progress(`  wrote the index of ${n} streams in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const fromIndex = new Querier({ index: new IndexReader(engine.store, engine.schema), store: engine.store, schema: engine.schema });
  await runLookups(fromIndex, 'store', from, through, out);
}

/** 100k small streams: 100 apps × 10 namespaces × 4 levels, one pod each, one entry each. */
function lookupStreams(n: number, nowMs: number): PushStream[][] {
  const batches: PushStream[][] = [];
  let batch: PushStream[] = [];
  const levels = ['debug', 'info', 'warn', 'error'];
  for (let i = 0; i < n; i++) {
    const labels = `{app="svc-${i % 100}", level="${levels[i % 4]}", namespace="ns-${i % 10}", pod="svc-${i % 100}-${i.toString(36).padStart(6, '0')}"}`;
    batch.push({ labels, entries: [{ ts: BigInt(nowMs - 60_000 + (i % 1000)) * 1_000_000n, line: Buffer.from(`lookup stream ${i} started`) }] });
    if (batch.length === 1000) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function runLookups(q: Querier, where: 'memory' | 'store', from: bigint, through: bigint, out: LookupMeasure[]): Promise<void> {
  const cases: Array<{ name: string; fn: () => Promise<unknown[]> }> = [
    { name: 'label names', fn: () => q.labelNames(LOOKUP_TENANT, from, through) },
    { name: 'values of `pod` (100k values)', fn: () => q.labelValues(LOOKUP_TENANT, 'pod', from, through) },
    { name: 'values of `app` for {level="error"}', fn: () => q.labelValues(LOOKUP_TENANT, 'app', from, through, parseMatchers('{level="error"}')) },
    { name: 'series {app="svc-42"} (1k series)', fn: () => q.series(LOOKUP_TENANT, [parseMatchers('{app="svc-42"}')], from, through) },
    { name: 'series {namespace="ns-3", level=~"warn|error"} (5k series)', fn: () => q.series(LOOKUP_TENANT, [parseMatchers('{namespace="ns-3", level=~"warn|error"}')], from, through) },
  ];
  for (const c of cases) {
    const m = await measure(5, c.fn);
    const r: LookupMeasure = { name: c.name, where, results: m.value.length, cpuMs: m.cpu * 1000, wallMs: m.wall * 1000 };
    out.push(r);
    progress(`  ${where.padEnd(6)} ${c.name}: ${r.cpuMs.toFixed(1)} CPU-ms, ${r.wallMs.toFixed(1)} ms wall (${r.results} results)`);
  }
}

/** What `seedCorpus` pushed: sizes, per-stream volumes, and the time span the entries cover. */
export interface SeededCorpus {
  lineBytes: number;
  lines: number;
  volumes: Volumes;
  /** The first entry's time; entries run from here for `spanMs`, ending about 10 minutes before `endMs`. */
  startMs: number;
  spanMs: number;
  /** The end of the window that holds every entry (the `nowMs` given). */
  endMs: number;
  ingestSeconds: number;
}

/**
 * Pushes `lineMB` of the seeded corpus (4 shippers, one line per 5 ms each) through the engine's distributor into
 * tenant `bench`, ending about 10 minutes before `nowMs`. The engine should not be started, so nothing leaves the
 * ingester's memory until the caller flushes it (`flushToStore`). Shared by the query and distributed benchmarks.
 */
export async function seedCorpus(engine: Engine, o: { lineMB: number; seed: number; nowMs: number }): Promise<SeededCorpus> {
  const spanMs = Math.ceil(((o.lineMB * 1e6) / 246 / AGENTS) * (STEP_NS / 1e6));
  const startMs = o.nowMs - spanMs - 10 * 60_000;
  const agents = Array.from({ length: AGENTS }, (_, i) => new Agent({ seed: o.seed + i, startMs, stepNs: STEP_NS }));
  let lineBytes = 0;
  let lines = 0;
  const t0 = performance.now();
  const volumes: Volumes = new Map();
  for (let k = 0; lineBytes < o.lineMB * 1e6; k++) {
    const b = agents[k % AGENTS]!.nextBatch();
    lineBytes += b.lineBytes;
    lines += b.lines;
    for (const s of b.streams) {
      let v = volumes.get(s.spec.labelString);
      if (v === undefined) volumes.set(s.spec.labelString, (v = { labels: { ...s.spec.labels }, bytes: 0, lines: 0 }));
      for (const l of s.lines) v.bytes += Buffer.byteLength(l);
      v.lines += s.lines.length;
    }
    await engine.distributor.push(TENANT, toPushRequest(b));
  }
  return { lineBytes, lines, volumes, startMs, spanMs, endMs: o.nowMs, ingestSeconds: (performance.now() - t0) / 1000 };
}

/** Flushes everything in the ingester's memory to the object store; checks nothing is left in memory. */
export async function flushToStore(engine: Engine): Promise<{ chunks: number; bytes: number; seconds: number }> {
  const t0 = performance.now();
  await engine.ingester.flushAll();
  const seconds = (performance.now() - t0) / 1000;
  if (engine.ingester.streamCount !== 0) throw new Error(`${engine.ingester.streamCount} streams still in memory after the flush`);
  const chunks = await engine.store.list(`${TENANT}/`);
  let bytes = 0;
  for (const c of chunks) bytes += c.size;
  return { chunks: chunks.length, bytes, seconds };
}

async function child(o: QueryBenchOptions, dir: string): Promise<void> {
  const t00 = performance.now();
  const config = loadConfig({ text: benchConfig({ dir, port: 0, walEnabled: false }) });
  // Not started: no flush timer, so nothing leaves memory until the benchmark flushes it.
  const engine = new Engine(config, 'all', { logger: nopLogger });
  engine.state = 'Running';

  const nowMs = Date.now();
  const seeded = await seedCorpus(engine, { lineMB: o.lineMB, seed: o.seed, nowMs });
  const { lineBytes, lines, volumes, startMs, spanMs, ingestSeconds } = seeded;
  const streams = volumes;
  progress(`  ingested ${(lineBytes / 1e6).toFixed(0)} MB (${lines} lines, ${streams.size} streams) in ${ingestSeconds.toFixed(1)} s`);

  const w: Window = { from: BigInt(startMs) * 1_000_000n, through: BigInt(nowMs) * 1_000_000n };
  const queries: QueryMeasure[] = [];
  const lookups: LookupMeasure[] = [];
  const limited: LimitMeasure[] = [];
  await runQueries(engine, 'memory', w, o.runs, volumes, queries);
  if (!o.queriesOnly) await runLimited(engine, 'memory', w, limited);

  const stored = await flushToStore(engine);
  const flushSeconds = stored.seconds;
  progress(`  flushed to the filesystem store in ${flushSeconds.toFixed(1)} s (${stored.chunks} chunk objects, ${(stored.bytes / 1e6).toFixed(0)} MB)`);
  await runQueries(engine, 'store', w, o.runs, volumes, queries);
  if (!o.queriesOnly) await runLimited(engine, 'store', w, limited);

  // Lookups last, in an engine of their own: 100k streams in the heap would make every V8 major GC during the
  // queries above (the read path's decompressed blocks trigger them) several times slower.
  if (!o.queriesOnly) await lookupBench(o.lookupStreams, join(dir, 'lookups'), nowMs, lookups);

  const result: QueryBenchResult = {
    v8Flags: o.v8Flags ?? [],
    lineBytes,
    lines,
    streams: streams.size,
    spanMinutes: spanMs / 60_000,
    ingestSeconds,
    flushSeconds,
    storeChunks: stored.chunks,
    storeBytes: stored.bytes,
    lookupStreams: o.lookupStreams,
    queries,
    limited,
    lookups,
    seconds: (performance.now() - t00) / 1000,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[2] === '--query-child' && import.meta.url === pathToFileURL(resolve(process.argv[1]!)).href) {
  child(JSON.parse(process.argv[3]!) as QueryBenchOptions, process.argv[4]!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
