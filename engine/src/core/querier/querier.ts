import { decodeChunk, type ChunkEntry } from '../chunk/mem-chunk.js';
import { EngineError } from '../errors.js';
import type { IndexReader } from '../index/index-reader.js';
import type { Ingester, StreamEntries } from '../ingester/ingester.js';
import { cmp } from '../ingester/stream.js';
import { labelsString } from '../distributor/labels.js';
import { compileLogSelector, type StreamPipeline } from '../logql/log/pipeline.js';
import type { Expr } from '../logql/syntax/ast.js';
import { matchesAll, type LabelMatcher } from '../logql/syntax/matcher.js';
import type { Direction, LabelPair, Labels } from '../model.js';
import { chunkKey, type ChunkRef } from '../storage/chunk-key.js';
import type { ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import { Deadline } from './deadline.js';

export interface QuerierOptions {
  /** The in-process ingester (single binary); absent on a pure querier until the ring client exists. */
  ingester?: Ingester;
  index: IndexReader;
  store: ObjectClient;
  schema: SchemaConfig;
  /** Fetch chunks with this many requests in flight. */
  fetchConcurrency?: number;
}

export interface SelectParams {
  tenant: string;
  expr: Expr;
  from: bigint;
  through: bigint;
  direction: Direction;
  limit: number;
  /**
   * Loki's `interval` for log queries: after the pipeline, only entries at least this far (ns) from the previously
   * returned entry (across all streams, in the direction's order) are returned; skipped entries do not count toward
   * the limit. 0 or absent returns every entry.
   */
  interval?: bigint;
  deadline?: Deadline;
}

/** A read of raw stream entries for a metric query (no pipeline, no limit). */
export interface SelectStreamsParams {
  tenant: string;
  matchers: LabelMatcher[];
  /** A predicate on the raw line bytes, applied while reading blocks. */
  prefilter?: (line: Buffer) => boolean;
  from: bigint;
  /** Exclusive. */
  through: bigint;
  deadline?: Deadline;
}

/** One stream's entries, oldest first, merged from memory and the store and deduplicated. */
export interface StreamData {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  entries: ChunkEntry[];
}

export interface LogEntry extends ChunkEntry {
  parsed?: LabelPair[];
  /** The stream labels after drop/keep (the source stream's labels when absent). */
  stream?: Labels;
}

export interface LogStream extends Omit<StreamEntries, 'entries'> {
  entries: LogEntry[];
}

export interface QueryStats {
  chunksFetched: number;
  chunkBytes: number;
  ingesterStreams: number;
  storeStreams: number;
  entriesScanned: number;
}

/**
 * Reads log streams from the ingester's memory and from flushed chunks in the store, merges them per stream,
 * drops duplicates (a chunk may be both flushed and still replayed from the WAL after a crash), and returns at most
 * `limit` entries across all streams: the newest for backward, the oldest for forward.
 */
export class Querier {
  constructor(private readonly opts: QuerierOptions) {}

  async selectLogs(p: SelectParams, stats: QueryStats = newStats()): Promise<LogStream[]> {
    if (p.expr.kind !== 'log') throw new EngineError('bad_request', 'log selector expected, got a metric query');
    const { matchers, prefilter, pipeline } = compileLogSelector(p.expr);
    const deadline = p.deadline ?? Deadline.none();
    const raw = await this.collect(p.tenant, matchers, prefilter, p.from, p.through, p.direction, stats, deadline);
    const streams: LogStream[] = [];
    for (const s of raw) {
      deadline.check();
      const entries = pipeline ? runPipeline(pipeline.forStream(s.labels), s.entries) : s.entries;
      if (entries.length > 0) streams.push({ labels: s.labels, canonical: s.canonical, fingerprint: s.fingerprint, entries });
    }
    const less = p.direction === 'forward' ? (a: bigint, b: bigint) => cmp(a, b) : (a: bigint, b: bigint) => cmp(b, a);
    if (p.interval !== undefined && p.interval > 0n) return applyInterval(streams, p.limit, p.interval, p.direction);
    return applyLimit(streams, p.limit, less);
  }

  /**
   * Every stream matching the selector with entries in [from, through), oldest first, sorted by their canonical
   * labels (so merging streams into one series breaks timestamp ties the same way every time). The metric engine
   * reads each stream once for a whole query window through this.
   */
  async selectStreams(p: SelectStreamsParams, stats: QueryStats = newStats()): Promise<StreamData[]> {
    const out = await this.collect(p.tenant, p.matchers, p.prefilter, p.from, p.through, 'forward', stats, p.deadline ?? Deadline.none());
    return out.sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0));
  }

  /** Reads memory and store, merges the parts of each stream in the direction's order and drops duplicates. */
  private async collect(
    tenant: string,
    matchers: LabelMatcher[],
    filter: ((line: Buffer) => boolean) | undefined,
    from: bigint,
    through: bigint,
    direction: Direction,
    stats: QueryStats,
    deadline: Deadline,
  ): Promise<StreamData[]> {
    const byStream = new Map<string, { labels: Labels; canonical: string; fingerprint: string; parts: ChunkEntry[][] }>();
    const add = (labels: Labels, canonical: string, fp: string, entries: ChunkEntry[]): void => {
      let s = byStream.get(fp);
      if (s === undefined) {
        s = { labels, canonical, fingerprint: fp, parts: [] };
        byStream.set(fp, s);
      }
      s.parts.push(entries);
    };

    const fromMemory = this.opts.ingester ? await this.opts.ingester.query(tenant, matchers, from, through, direction, filter) : [];
    stats.ingesterStreams += fromMemory.length;
    for (const s of fromMemory) add(s.labels, s.canonical, s.fingerprint, s.entries);
    deadline.check();

    const series = await this.opts.index.series(tenant, matchers, from, through);
    stats.storeStreams += series.length;
    const jobs: Array<{ labels: Labels; fp: string; ref: ChunkRef }> = [];
    for (const s of series) for (const ref of s.chunks) jobs.push({ labels: s.labels, fp: s.fingerprint, ref });
    await pool(jobs, this.opts.fetchConcurrency ?? 16, async (j) => {
      deadline.check();
      const entries = await this.readChunk(j.ref, from, through, direction, filter, stats);
      if (entries.length > 0) add(j.labels, labelsString(j.labels), j.fp, entries);
    });

    const less = direction === 'forward' ? (a: bigint, b: bigint) => cmp(a, b) : (a: bigint, b: bigint) => cmp(b, a);
    const out: StreamData[] = [];
    for (const s of byStream.values()) {
      const merged = mergeDedup(s.parts, less);
      stats.entriesScanned += merged.length;
      if (merged.length > 0) out.push({ labels: s.labels, canonical: s.canonical, fingerprint: s.fingerprint, entries: merged });
    }
    return out;
  }

  private async readChunk(
    ref: ChunkRef,
    from: bigint,
    through: bigint,
    direction: Direction,
    filter: ((line: Buffer) => boolean) | undefined,
    stats: QueryStats,
  ): Promise<ChunkEntry[]> {
    const key = chunkKey(ref, this.opts.schema.periodFor(ref.from).schema);
    const buf = await this.opts.store.get(key);
    stats.chunksFetched++;
    stats.chunkBytes += buf.length;
    try {
      const chunk = await decodeChunk(buf);
      return await chunk.readEntries(from, through, direction, filter);
    } catch (e) {
      throw new EngineError('internal', `failed to read chunk ${key}: ${(e as Error).message}`);
    }
  }

  /** Label names seen in [from, through), from memory and the index, sorted. */
  async labelNames(tenant: string, from: bigint, through: bigint): Promise<string[]> {
    const names = new Set(await this.opts.index.labelNames(tenant, from, through));
    for (const l of this.opts.ingester?.series(tenant, [], from, through) ?? []) for (const [n] of l) names.add(n);
    return [...names].sort();
  }

  async labelValues(
    tenant: string,
    name: string,
    from: bigint,
    through: bigint,
    matchers: LabelMatcher[] = [],
  ): Promise<string[]> {
    const values = new Set(await this.opts.index.labelValues(tenant, name, from, through, matchers));
    for (const l of this.opts.ingester?.series(tenant, matchers, from, through) ?? []) {
      for (const [n, v] of l) if (n === name) values.add(v);
    }
    return [...values].sort();
  }

  /** Unique label sets matching any of the selectors. */
  async series(tenant: string, selectors: LabelMatcher[][], from: bigint, through: bigint): Promise<Labels[]> {
    const out = new Map<string, Labels>();
    for (const matchers of selectors) {
      for (const s of await this.opts.index.series(tenant, matchers, from, through)) {
        if (matchesAll(matchers, s.labels)) out.set(labelsString(s.labels), s.labels);
      }
      for (const l of this.opts.ingester?.series(tenant, matchers, from, through) ?? []) out.set(labelsString(l), l);
    }
    return [...out.values()];
  }
}


export const newStats = (): QueryStats => ({
  chunksFetched: 0,
  chunkBytes: 0,
  ingesterStreams: 0,
  storeStreams: 0,
  entriesScanned: 0,
});

/** Sorts the parts of one stream together and drops entries identical in timestamp, line and metadata. */
function mergeDedup(parts: ChunkEntry[][], less: (a: bigint, b: bigint) => number): ChunkEntry[] {
  const all = parts.length === 1 ? parts[0]! : parts.flat().sort((a, b) => less(a.ts, b.ts));
  if (parts.length === 1) return all;
  const out: ChunkEntry[] = [];
  // Entries with one timestamp are adjacent after sorting; compare against all of them (rarely more than one).
  let groupStart = 0;
  for (const e of all) {
    if (out.length > 0 && out[out.length - 1]!.ts !== e.ts) groupStart = out.length;
    let dup = false;
    for (let i = groupStart; i < out.length; i++) {
      if (sameEntry(out[i]!, e)) {
        dup = true;
        break;
      }
    }
    if (!dup) out.push(e);
  }
  return out;
}

/**
 * Runs a stream's entries through the query's stages. Entries whose labels a stage changed carry them by category,
 * so the response can group them by their final labels (or list them per entry with categorize-labels).
 */
function runPipeline(sp: StreamPipeline, entries: readonly ChunkEntry[]): LogEntry[] {
  const out: LogEntry[] = [];
  for (const e of entries) {
    const line = sp.process(e.ts, e.line, e.metadata);
    if (line === undefined) continue;
    if (sp.labels.unchanged()) {
      out.push(line === e.line ? e : { ...e, line });
      continue;
    }
    const c = sp.labels.categorized();
    out.push({ ts: e.ts, line, metadata: c.structuredMetadata.map(([k, v]) => [k, v]), parsed: [...c.parsed], stream: c.stream });
  }
  return out;
}

function sameEntry(a: ChunkEntry, b: ChunkEntry): boolean {
  if (a.ts !== b.ts || !a.line.equals(b.line)) return false;
  const am = a.metadata ?? [];
  const bm = b.metadata ?? [];
  return am.length === bm.length && am.every(([k, v], i) => bm[i]![0] === k && bm[i]![1] === v);
}

/** Keeps the first `limit` entries across streams in the direction's order (each stream is already sorted). */
function applyLimit(streams: LogStream[], limit: number, less: (a: bigint, b: bigint) => number): LogStream[] {
  let total = 0;
  for (const s of streams) total += s.entries.length;
  if (limit <= 0 || total <= limit) return streams;
  // Find the cut timestamp: the limit-th entry in order over all streams (each stream capped at `limit` first).
  const heads: Array<{ ts: bigint; s: number }> = [];
  for (let i = 0; i < streams.length; i++) {
    const es = streams[i]!.entries;
    for (let j = 0; j < Math.min(limit, es.length); j++) heads.push({ ts: es[j]!.ts, s: i });
  }
  heads.sort((a, b) => less(a.ts, b.ts) || a.s - b.s);
  const taken = new Array<number>(streams.length).fill(0);
  for (let k = 0; k < limit; k++) taken[heads[k]!.s]!++;
  const out: LogStream[] = [];
  streams.forEach((s, i) => {
    if (taken[i]! > 0) out.push({ ...s, entries: s.entries.slice(0, taken[i]) });
  });
  return out;
}

/**
 * Loki's `interval` for log queries: walk all streams' entries in the direction's order (ties in stream order) and
 * keep an entry only when it is at least `interval` from the last kept one; stop after `limit` kept entries.
 */
function applyInterval(streams: LogStream[], limit: number, interval: bigint, direction: Direction): LogStream[] {
  const refs: Array<{ s: number; i: number; ts: bigint }> = [];
  streams.forEach((st, s) => st.entries.forEach((e, i) => refs.push({ s, i, ts: e.ts })));
  const forward = direction === 'forward';
  refs.sort((a, b) => (a.ts === b.ts ? a.s - b.s || a.i - b.i : (a.ts < b.ts) === forward ? -1 : 1));
  const kept: LogEntry[][] = streams.map(() => []);
  let last: bigint | undefined;
  let n = 0;
  for (const r of refs) {
    if (limit > 0 && n >= limit) break;
    if (last !== undefined && (forward ? r.ts < last + interval : r.ts > last - interval)) continue;
    kept[r.s]!.push(streams[r.s]!.entries[r.i]!);
    last = r.ts;
    n++;
  }
  const out: LogStream[] = [];
  streams.forEach((st, s) => {
    if (kept[s]!.length > 0) out.push({ ...st, entries: kept[s]! });
  });
  return out;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
