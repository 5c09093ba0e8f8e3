import { readBlocks } from '../chunk/block-reader.js';
import { mergeDedup } from './querier.js';
import type { IndexSource } from '../index/index-gateway.js';
import type { IndexStats } from '../index/index-reader.js';
import type { IngesterReader } from '../ingester/memory-stream.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { Labels } from '../model.js';
import type { Deadline } from './deadline.js';

/** A flushed chunk as the index describes it. */
export interface ChunkUsage {
  from: bigint;
  through: bigint;
  entries: number;
  bytes: number;
}

/**
 * What one stream holds in a time range: the chunks the index lists, plus the entries only the ingester's memory has
 * (entries of chunks already flushed and still retained in memory are not counted twice).
 */
export interface StreamUsage {
  labels: Labels;
  fingerprint: string;
  chunks: ChunkUsage[];
  /** Timestamps of the in-memory entries, ascending. */
  memoryTs: bigint[];
  /** Sizes of those entries: line plus structured metadata names and values, as Loki counts uncompressed bytes. */
  memoryBytes: number[];
}

/**
 * Index statistics and volumes for a selector: Loki answers these from the index alone (its docs note ingester data
 * is missing), but here recent data lives only in the ingester until it is flushed, so memory is read too — a fresh
 * push shows up at once.
 */
export class IndexStatsReader {
  constructor(
    private readonly index: IndexSource,
    private readonly ingester?: IngesterReader,
  ) {}

  /** Streams matching every matcher with data in [from, through] (both inclusive), store and memory merged. */
  async usage(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, deadline?: Deadline): Promise<StreamUsage[]> {
    const byFp = new Map<string, StreamUsage>();
    for (const s of await this.index.series(tenant, matchers, from, through)) {
      byFp.set(s.fingerprint, {
        labels: s.labels,
        fingerprint: s.fingerprint,
        chunks: s.chunks.map((c) => ({ from: c.from, through: c.through, entries: c.entries, bytes: c.uncompressedBytes })),
        memoryTs: [],
        memoryBytes: [],
      });
    }
    deadline?.check();
    const memory = this.ingester ? await this.ingester.chunks(tenant, matchers, from, through + 1n) : [];
    for (const s of memory) {
      let u = byFp.get(s.fingerprint);
      const parts = await Promise.all(s.chunks.map((c) => readBlocks(c.chunk.blockSources(), c.chunk.withMetadata, from, through + 1n, 'forward')));
      // Replicas of a stream (distributed mode) and a chunk re-cut after a WAL replay hold the same entries: once each.
      for (const e of mergeDedup(parts, true)) {
        // A flushed chunk still retained in memory is in the index too: its entries fall inside one of its chunks.
        if (u !== undefined && u.chunks.some((c) => e.ts >= c.from && e.ts <= c.through)) continue;
        if (u === undefined) {
          u = { labels: s.labels, fingerprint: s.fingerprint, chunks: [], memoryTs: [], memoryBytes: [] };
          byFp.set(s.fingerprint, u);
        }
        let size = e.line.length;
        for (const [k, v] of e.metadata ?? []) size += Buffer.byteLength(k) + Buffer.byteLength(v);
        u.memoryTs.push(e.ts);
        u.memoryBytes.push(size);
      }
    }
    return [...byFp.values()];
  }

  /**
   * Loki's index stats: matching streams, their chunks (whole chunks overlapping the range, counted once), entries
   * and uncompressed bytes. A stream's unflushed entries count as one (head) chunk.
   */
  async stats(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint, deadline?: Deadline): Promise<IndexStats> {
    return sumUsage(await this.usage(tenant, matchers, from, through, deadline));
  }
}

export function sumUsage(usage: readonly StreamUsage[]): IndexStats {
  const out: IndexStats = { streams: 0, chunks: 0, entries: 0, bytes: 0 };
  for (const u of usage) {
    out.streams++;
    for (const c of u.chunks) {
      out.chunks++;
      out.entries += c.entries;
      out.bytes += c.bytes;
    }
    if (u.memoryTs.length > 0) {
      out.chunks++;
      out.entries += u.memoryTs.length;
      for (const b of u.memoryBytes) out.bytes += b;
    }
  }
  return out;
}

/** Adds stats of several tenants (Loki's multi-tenant querier sums them). */
export function mergeStats(all: readonly IndexStats[]): IndexStats {
  const out: IndexStats = { streams: 0, chunks: 0, entries: 0, bytes: 0 };
  for (const s of all) {
    out.streams += s.streams;
    out.chunks += s.chunks;
    out.entries += s.entries;
    out.bytes += s.bytes;
  }
  return out;
}

/**
 * The share of a chunk's time span inside [from, through], as Loki prorates chunks that only partly overlap a range
 * (a chunk of one instant counts fully when inside).
 */
export function overlapFactor(from: bigint, through: bigint, chunkFrom: bigint, chunkThrough: bigint): number {
  if (from > chunkThrough || through < chunkFrom) return 0;
  if (chunkThrough <= chunkFrom) return 1;
  const lo = from > chunkFrom ? from : chunkFrom;
  const hi = through < chunkThrough ? through : chunkThrough;
  return Number(hi - lo) / Number(chunkThrough - chunkFrom);
}

/** Bytes of one stream in [from, through]: prorated chunks plus in-memory entries in the range. */
export function bytesIn(u: StreamUsage, from: bigint, through: bigint): { bytes: number; entries: number } {
  let bytes = 0;
  let entries = 0;
  for (const c of u.chunks) {
    const f = overlapFactor(from, through, c.from, c.through);
    if (f <= 0) continue;
    bytes += Math.floor(c.bytes * f);
    entries += Math.floor(c.entries * f);
  }
  for (let i = 0; i < u.memoryTs.length; i++) {
    const ts = u.memoryTs[i]!;
    if (ts >= from && ts <= through) {
      bytes += u.memoryBytes[i]!;
      entries++;
    }
  }
  return { bytes, entries };
}
