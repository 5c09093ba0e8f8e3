import { EngineError } from '../errors.js';
import type { MatrixSeries, MetricResult } from '../logql/engine/index.js';
import { NS_PER_MS } from '../model.js';
import { systemClock, type Clock } from '../util/clock.js';
import { mergeSplits } from './merge.js';

/**
 * The results of a metric range query over the steps start, start+step, … end (nanoseconds, both evaluated), kept
 * for later queries over the same steps.
 */
export interface Extent {
  start: bigint;
  end: bigint;
  result: MetricResult & { type: 'matrix' };
}

export interface ResultsCacheOptions {
  /** Bound on the estimated size of everything cached (Loki: `embedded_cache.max_size_mb`). */
  maxBytes: number;
  /** Bound on the number of keys; 0 = none (Loki: `embedded_cache.max_size_items`). */
  maxItems?: number;
  /** An entry expires this long after it was last written; 0 = never (Loki: `embedded_cache.ttl`). */
  ttlMs: number;
  clock?: Clock;
}

interface Entry {
  tenant: string;
  step: bigint;
  extents: Extent[];
  bytes: number;
  expiresAt: number;
}

export interface CacheLookup {
  result: MetricResult & { type: 'matrix' };
  /** The steps answered from the cache span this many nanoseconds (Loki's `queryLengthServed`). */
  servedNs: bigint;
  hit: boolean;
  stored: boolean;
}

/** Per-series overhead of a cached series besides its label text and samples (arrays, pointers). */
const SERIES_OVERHEAD = 96;
const BYTES_PER_SAMPLE = 16;

function extentBytes(e: Extent): number {
  let n = 64;
  for (const s of e.result.series) {
    n += SERIES_OVERHEAD + BYTES_PER_SAMPLE * s.ms.length;
    for (const [k, v] of s.labels) n += 2 * (k.length + v.length) + 16;
  }
  return n;
}

/** The steps of `r` from `from` to `to` (nanoseconds, both included). */
function slice(r: Extent['result'], from: bigint, to: bigint): Extent['result'] {
  const lo = Number(from / NS_PER_MS);
  const hi = Number(to / NS_PER_MS);
  const series: MatrixSeries[] = [];
  for (const s of r.series) {
    let a = 0;
    while (a < s.ms.length && s.ms[a]! < lo) a++;
    let b = a;
    while (b < s.ms.length && s.ms[b]! <= hi) b++;
    if (b > a) series.push({ labels: s.labels, ms: s.ms.slice(a, b), values: s.values.slice(a, b) });
  }
  return { type: 'matrix', series };
}

function asMatrix(r: MetricResult): Extent['result'] {
  if (r.type !== 'matrix') throw new EngineError('internal', `results cache: a range query returned a ${r.type}`);
  return r;
}

/**
 * Loki's results cache for metric range queries, in memory: per key (tenant, query, step, split interval — see
 * QueryFrontend), the extents already computed. A query is answered from the extents that cover its steps, and
 * only the missing steps are executed; the new results are stored as extents, merged with their neighbours.
 * Freshness: steps newer than `cacheableUntil` (now − max_cache_freshness_per_query) are never stored, and extents
 * are cut to that bound again when read, so results about data that may still arrive are always recomputed.
 * Bounded by estimated bytes (and optionally keys), least recently used evicted first; entries expire after a TTL.
 */
export class ResultsCache {
  /** Map order is recency order: a read or write moves the key to the end. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly clock: Clock;

  constructor(private readonly opts: ResultsCacheOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  get size(): { keys: number; bytes: number } {
    return { keys: this.entries.size, bytes: this.bytes };
  }

  /** Drops everything cached for a tenant (after a delete request, for instance). */
  invalidateTenant(tenant: string): void {
    for (const [k, e] of this.entries) if (e.tenant === tenant) this.remove(k);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /**
   * The steps start…end of the query cached under `key`: cached extents are used for the steps they cover (up to
   * `cacheableUntil`), `fetch` runs for each run of missing steps (in parallel), and what it returned up to
   * `cacheableUntil` is stored. `start` must be on the query's step grid; `step` > 0.
   */
  async fetchRange(
    key: string,
    tenant: string,
    range: { start: bigint; end: bigint; step: bigint },
    cacheableUntil: bigint,
    fetch: (start: bigint, end: bigint) => Promise<MetricResult>,
  ): Promise<CacheLookup> {
    const { start, end, step } = range;
    const lastCacheable = (from: bigint): bigint => (cacheableUntil < from ? from - step : from + ((cacheableUntil - from) / step) * step);
    const usable = this.usableExtents(key, start, step, cacheableUntil, lastCacheable);

    type Piece = { start: bigint; end: bigint; cached?: Extent['result']; fetched?: Promise<MetricResult> };
    const pieces: Piece[] = [];
    let servedNs = 0n;
    let cursor = start;
    for (const ext of usable) {
      if (ext.end < cursor) continue;
      if (ext.start > end) break;
      if (ext.start > cursor) pieces.push({ start: cursor, end: ext.start - step });
      const from = ext.start > cursor ? ext.start : cursor;
      const to = ext.end < end ? ext.end : end;
      pieces.push({ start: from, end: to, cached: slice(ext.result, from, to) });
      servedNs += to - from + step;
      cursor = to + step;
    }
    if (cursor <= end) pieces.push({ start: cursor, end });
    for (const p of pieces) if (p.cached === undefined) p.fetched = fetch(p.start, p.end);
    const parts = await Promise.all(pieces.map(async (p) => p.cached ?? asMatrix(await p.fetched!)));
    const result = asMatrix(mergeSplits(parts));

    // Store what was computed, up to the freshness bound.
    const fresh: Extent[] = [];
    pieces.forEach((p, i) => {
      if (p.cached !== undefined) return;
      const last = lastCacheable(p.start);
      const to = last < p.end ? last : p.end;
      // A copy: the answer handed to the caller is not the cached object.
      if (to >= p.start) fresh.push({ start: p.start, end: to, result: slice(parts[i]!, p.start, to) });
    });
    if (fresh.length > 0) this.store(key, tenant, step, start, fresh);
    return { result, servedNs, hit: servedNs > 0n, stored: fresh.length > 0 };
  }

  /** The extents of `key` on the same step grid as `start`, cut to the freshness bound, sorted by start. */
  private usableExtents(key: string, start: bigint, step: bigint, cacheableUntil: bigint, lastCacheable: (from: bigint) => bigint): Extent[] {
    const entry = this.lookup(key);
    if (entry === undefined || entry.step !== step) return [];
    const out: Extent[] = [];
    for (const e of entry.extents) {
      if ((((e.start - start) % step) + step) % step !== 0n) continue;
      if (e.start > cacheableUntil) continue;
      const last = lastCacheable(e.start);
      out.push(e.end <= last ? e : { start: e.start, end: last, result: slice(e.result, e.start, last) });
    }
    return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  private lookup(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.remove(key);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private store(key: string, tenant: string, step: bigint, start: bigint, fresh: Extent[]): void {
    const old = this.entries.get(key);
    const kept = old !== undefined && old.step === step ? old.extents.filter((e) => (((e.start - start) % step) + step) % step === 0n) : [];
    const all = [...kept, ...fresh].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const merged: Extent[] = [];
    for (const e of all) {
      const prev = merged[merged.length - 1];
      if (prev !== undefined && e.start <= prev.end + step) {
        // Overlapping or adjacent: one extent, the newer results for the steps past the previous one's end.
        if (e.end > prev.end) {
          merged[merged.length - 1] = { start: prev.start, end: e.end, result: asMatrix(mergeSplits([prev.result, slice(e.result, prev.end + step, e.end)])) };
        }
        continue;
      }
      merged.push(e);
    }
    if (old !== undefined) this.remove(key);
    let bytes = key.length * 2;
    for (const e of merged) bytes += extentBytes(e);
    if (bytes > this.opts.maxBytes) return;
    const ttl = this.opts.ttlMs > 0 ? this.opts.ttlMs : Infinity;
    this.entries.set(key, { tenant, step, extents: merged, bytes, expiresAt: this.clock.now() + ttl });
    this.bytes += bytes;
    this.evict();
  }

  private evict(): void {
    const maxItems = this.opts.maxItems ?? 0;
    for (const k of this.entries.keys()) {
      if (this.bytes <= this.opts.maxBytes && (maxItems <= 0 || this.entries.size <= maxItems)) return;
      this.remove(k);
    }
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}
