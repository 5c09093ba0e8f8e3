import { EngineError } from '../errors.js';
import { LabelMatcher, matchesAll } from '../logql/syntax/matcher.js';
import type { Labels } from '../model.js';
import { validateKeyTenant } from '../storage/chunk-key.js';
import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import {
  compareChunks,
  decodeIndexFile,
  indexTablePrefix,
  parseIndexFileKey,
  type IndexedChunk,
  type IndexSeries,
} from './index-file.js';

export interface IndexReaderOptions {
  /** Parsed index files kept in memory, least recently used evicted first (default 256; 0 disables). */
  cacheFiles?: number;
  /**
   * How long a table listing is reused, in milliseconds. 0 (default) lists on every query so a fresh upload is
   * seen at once; a few seconds saves list calls on a busy querier at the cost of that much staleness.
   */
  listTtlMs?: number;
  /** Index files fetched in parallel per query (default 16). */
  concurrency?: number;
  /** Clock for the listing TTL (tests). */
  now?: () => number;
}

export interface SeriesChunks {
  labels: Labels;
  fingerprint: string;
  /** Chunks overlapping the queried range, sorted by from; each chunk once even if several tables index it. */
  chunks: IndexedChunk[];
}

export interface IndexStats {
  streams: number;
  chunks: number;
  entries: number;
  /** Uncompressed bytes, as Loki's index stats report them. */
  bytes: number;
}

/** An index file prepared for lookups. */
interface LoadedFile {
  key: string;
  series: Map<string, IndexSeries>;
  postings: Map<string, Map<string, string[]>>;
  /** Earliest chunk start and latest chunk end in the file: a query covering both needs no per-chunk checks. */
  minFrom: bigint;
  maxThrough: bigint;
}

const LIST_RETRIES = 3;

/**
 * Answers series, label and stats queries from the index files in the object store. Index files are immutable,
 * so parsed files are cached by key; the set of files is listed per query (or per `listTtlMs`) because uploads
 * and compaction add and remove them at any time.
 */
export class IndexReader {
  private readonly cacheSize: number;
  private readonly listTtlMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly files = new Map<string, LoadedFile>();
  private readonly loading = new Map<string, Promise<LoadedFile>>();
  private readonly listings = new Map<string, { at: number; keys: string[] }>();

  constructor(
    private readonly client: ObjectClient,
    private readonly schema: SchemaConfig,
    opts: IndexReaderOptions = {},
  ) {
    this.cacheSize = opts.cacheFiles ?? 256;
    this.listTtlMs = opts.listTtlMs ?? 0;
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
    this.now = opts.now ?? Date.now;
  }

  /** Streams matching every matcher with at least one chunk overlapping `[fromNs, throughNs]`, by fingerprint. */
  async series(
    tenant: string,
    matchers: readonly LabelMatcher[],
    fromNs: bigint,
    throughNs: bigint,
  ): Promise<SeriesChunks[]> {
    const merged = new Map<string, { labels: Labels; chunks: Map<string, IndexedChunk> }>();
    for (const file of await this.filesFor(tenant, fromNs, throughNs)) {
      for (const s of select(file, matchers)) {
        let m = merged.get(s.fingerprint);
        for (const c of s.chunks) {
          if (c.from > throughNs) break; // sorted by from: nothing later overlaps
          if (c.through < fromNs) continue;
          if (!m) merged.set(s.fingerprint, (m = { labels: s.labels, chunks: new Map() }));
          const id = `${c.from}:${c.through}:${c.checksum}`;
          if (!m.chunks.has(id)) m.chunks.set(id, c);
        }
      }
    }
    return [...merged.keys()].sort().map((fp) => {
      const m = merged.get(fp)!;
      return { labels: m.labels, fingerprint: fp, chunks: [...m.chunks.values()].sort(compareChunks) };
    });
  }

  /** Label names of streams with data in the range (optionally only streams matching `matchers`), sorted. */
  async labelNames(
    tenant: string,
    fromNs: bigint,
    throughNs: bigint,
    matchers: readonly LabelMatcher[] = [],
  ): Promise<string[]> {
    const names = new Set<string>();
    for (const file of await this.filesFor(tenant, fromNs, throughNs)) {
      if (matchers.length === 0 && covers(file, fromNs, throughNs)) {
        for (const n of file.postings.keys()) names.add(n);
        continue;
      }
      for (const s of select(file, matchers)) {
        if (overlaps(s, fromNs, throughNs)) for (const [n] of s.labels) names.add(n);
      }
    }
    return [...names].sort();
  }

  /** Values of label `name` on streams with data in the range (optionally only streams matching), sorted. */
  async labelValues(
    tenant: string,
    name: string,
    fromNs: bigint,
    throughNs: bigint,
    matchers: readonly LabelMatcher[] = [],
  ): Promise<string[]> {
    const values = new Set<string>();
    // Only streams that have the label: also lets the postings narrow the candidates.
    const all = [...matchers, new LabelMatcher('!=', name, '')];
    for (const file of await this.filesFor(tenant, fromNs, throughNs)) {
      if (matchers.length === 0 && covers(file, fromNs, throughNs)) {
        for (const v of file.postings.get(name)?.keys() ?? []) if (v !== '') values.add(v);
        continue;
      }
      for (const s of select(file, all)) {
        if (!overlaps(s, fromNs, throughNs)) continue;
        const v = valueOf(s.labels, name);
        if (v !== '') values.add(v);
      }
    }
    return [...values].sort();
  }

  /** Loki's index stats: matching streams and their chunks overlapping the range (whole chunks, not prorated). */
  async stats(
    tenant: string,
    matchers: readonly LabelMatcher[],
    fromNs: bigint,
    throughNs: bigint,
  ): Promise<IndexStats> {
    const out: IndexStats = { streams: 0, chunks: 0, entries: 0, bytes: 0 };
    for (const s of await this.series(tenant, matchers, fromNs, throughNs)) {
      out.streams++;
      for (const c of s.chunks) {
        out.chunks++;
        out.entries += c.entries;
        out.bytes += c.uncompressedBytes;
      }
    }
    return out;
  }

  /** Drops every cached file and listing (e.g. after a compaction this process ran itself). */
  clearCache(): void {
    this.files.clear();
    this.listings.clear();
  }

  // ── loading ──────────────────────────────────────────────────────────────────────────────────────────────────

  private async filesFor(tenant: string, fromNs: bigint, throughNs: bigint): Promise<LoadedFile[]> {
    validateKeyTenant(tenant);
    if (throughNs < fromNs) return [];
    const tables = [...new Set(this.schema.tablesBetween(fromNs, throughNs).map((t) => t.table))];
    const perTable = await Promise.all(tables.map((t) => this.tableFiles(indexTablePrefix(t, tenant), t, tenant)));
    return perTable.flat();
  }

  private async tableFiles(prefix: string, table: string, tenant: string): Promise<LoadedFile[]> {
    for (let attempt = 1; ; attempt++) {
      const keys = await this.listTable(prefix, attempt > 1);
      try {
        return await mapLimit(keys, this.concurrency, (k) => this.file(k, table, tenant));
      } catch (e) {
        // Compaction replaced files between our listing and the fetch: the replacement is in a fresh listing.
        if (!isObjectNotFound(e) || attempt >= LIST_RETRIES) throw e;
      }
    }
  }

  private async listTable(prefix: string, fresh: boolean): Promise<string[]> {
    const now = this.now();
    const cached = this.listings.get(prefix);
    if (!fresh && cached && this.listTtlMs > 0 && now - cached.at < this.listTtlMs) return cached.keys;
    const keys: string[] = [];
    for (const o of await this.client.list(prefix)) {
      const k = parseIndexFileKey(o.key);
      // Only files directly in this table and tenant (a tenant named like another's prefix lists separately).
      if (k && o.key.startsWith(prefix) && o.key.indexOf('/', prefix.length) < 0) keys.push(o.key);
    }
    if (this.listTtlMs > 0) {
      if (this.listings.size >= 4096) {
        for (const [p, l] of this.listings) if (now - l.at >= this.listTtlMs) this.listings.delete(p);
      }
      this.listings.set(prefix, { at: now, keys });
    }
    return keys;
  }

  private file(key: string, table: string, tenant: string): Promise<LoadedFile> {
    const hit = this.files.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the least recently used.
      this.files.delete(key);
      this.files.set(key, hit);
      return Promise.resolve(hit);
    }
    let p = this.loading.get(key);
    if (!p) {
      p = this.load(key, table, tenant).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private async load(key: string, table: string, tenant: string): Promise<LoadedFile> {
    const buf = await this.client.get(key);
    let f;
    try {
      f = decodeIndexFile(buf, key);
    } catch (e) {
      throw new EngineError('internal', (e as Error).message);
    }
    // A file under another tenant's prefix must never answer for this one.
    if (f.tenant !== tenant || f.table !== table) {
      throw new EngineError('internal', `corrupt index file ${key}: holds tenant ${f.tenant}, table ${f.table}`);
    }
    let minFrom: bigint | undefined;
    let maxThrough: bigint | undefined;
    const series = new Map<string, IndexSeries>();
    for (const s of f.series) {
      // Readers rely on the order (early exit on from), so do not trust the writer for it.
      s.chunks.sort(compareChunks);
      series.set(s.fingerprint, s);
      for (const c of s.chunks) {
        if (minFrom === undefined || c.from < minFrom) minFrom = c.from;
        if (maxThrough === undefined || c.through > maxThrough) maxThrough = c.through;
      }
    }
    const loaded: LoadedFile = {
      key,
      series,
      postings: f.postings,
      minFrom: minFrom ?? 0n,
      maxThrough: maxThrough ?? -1n,
    };
    if (this.cacheSize > 0) {
      this.files.set(key, loaded);
      while (this.files.size > this.cacheSize) this.files.delete(this.files.keys().next().value!);
    }
    return loaded;
  }
}

// ── selection ──────────────────────────────────────────────────────────────────────────────────────────────────

function covers(f: LoadedFile, fromNs: bigint, throughNs: bigint): boolean {
  return fromNs <= f.minFrom && throughNs >= f.maxThrough;
}

function overlaps(s: IndexSeries, fromNs: bigint, throughNs: bigint): boolean {
  for (const c of s.chunks) {
    if (c.from > throughNs) return false;
    if (c.through >= fromNs) return true;
  }
  return false;
}

function valueOf(labels: Labels, name: string): string {
  for (const [n, v] of labels) if (n === name) return v;
  return '';
}

/**
 * The series of one file matching every matcher. A matcher that rejects the empty value needs its label present,
 * so the postings give its candidates (one list for `=`, the lists of matching values for the others); matchers
 * that accept "" (negative ones, `=~".*"`, `=""`) can only filter, and a selector made only of those scans all.
 */
function select(f: LoadedFile, matchers: readonly LabelMatcher[]): IndexSeries[] {
  if (matchers.length === 0) return [...f.series.values()];
  const narrowing = matchers.filter((m) => !m.matchesEmpty());
  // Equality first: a single postings list is the cheapest and usually the most selective.
  narrowing.sort((a, b) => Number(b.type === '=') - Number(a.type === '='));
  let candidates: Set<string> | undefined;
  for (const m of narrowing) {
    const values = f.postings.get(m.name);
    if (!values) return [];
    const next = new Set<string>();
    const take = (fps: readonly string[]): void => {
      for (const fp of fps) if (!candidates || candidates.has(fp)) next.add(fp);
    };
    if (m.type === '=') {
      const fps = values.get(m.value);
      if (fps) take(fps);
    } else {
      for (const [v, fps] of values) if (m.matches(v)) take(fps);
    }
    if (next.size === 0) return [];
    candidates = next;
  }
  const out: IndexSeries[] = [];
  const pool = candidates ? [...candidates].map((fp) => f.series.get(fp)) : f.series.values();
  for (const s of pool) {
    // Postings naming a missing series would be a writer bug; never let it surface as a crash.
    if (s && matchesAll(matchers, s.labels)) out.push(s);
  }
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
