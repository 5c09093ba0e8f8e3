import { MemChunk, type ChunkEntry } from '../chunk/mem-chunk.js';
import type { ChunkEncoding } from '../chunk/codec.js';
import type { Direction, Labels } from '../model.js';
import type { PeriodConfig } from '../storage/schema.js';
import type { ChunkRef } from '../storage/chunk-key.js';
import { takeTokens } from '../limits/token-bucket.js';

/** Why a chunk was closed and flushed (the `reason` label of loki_ingester_chunks_flushed_total). */
export type FlushReason = 'full' | 'max_age' | 'idle' | 'forced' | 'period' | 'synced';

export interface ChunkOptions {
  encoding: ChunkEncoding;
  blockSize: number;
  targetSize: number;
}

/** One chunk of a stream and its lifecycle: open (head) → closed → flushed → released. */
export class ChunkDesc {
  closed = false;
  flushReason: FlushReason | undefined;
  flushed = false;
  /** Set while a flush of this chunk is in flight, so two flush cycles never upload it twice. */
  flushing = false;
  failures = 0;
  nextAttemptMs = 0;
  /** Set once the chunk object is in the store. */
  ref: ChunkRef | undefined;
  flushedAtMs = 0;
  /** Set once an index file listing the chunk is in the store: only then may memory let go of it. */
  indexed = false;

  constructor(
    readonly chunk: MemChunk,
    readonly period: PeriodConfig,
    readonly createdMs: number,
    public lastAppendMs: number,
  ) {}
}

/**
 * A stream in memory: its labels, its chunks (the last one is the head chunk being appended to) and the state the
 * ingester's checks need. Kept small: 20k idle streams must fit in a few tens of MB.
 */
export class Stream {
  chunks: ChunkDesc[] = [];
  /** Newest timestamp accepted so far (out-of-order window is measured from it). */
  newestTs = -(2n ** 63n);
  /** Per-stream rate limit state: a token bucket kept as two numbers on the stream (no object per stream). */
  tokens = -1;
  tokensAt = 0;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    readonly canonical: string,
    readonly fingerprint: string,
  ) {}

  /** Takes `bytes` from the stream's rate-limit bucket; false when the push would exceed the limit. */
  allowBytes(bytes: number, rate: number, burst: number, nowMs: number): boolean {
    return takeTokens(this, bytes, rate, burst, nowMs);
  }

  head(): ChunkDesc | undefined {
    const last = this.chunks[this.chunks.length - 1];
    return last !== undefined && !last.closed ? last : undefined;
  }

  /** Opens a new head chunk for the period; the previous head is closed with `reason`. */
  openChunk(period: PeriodConfig, opts: ChunkOptions, nowMs: number, reason: FlushReason): ChunkDesc {
    const prev = this.head();
    if (prev) this.close(prev, reason);
    const chunk = new MemChunk({
      encoding: opts.encoding,
      blockSize: opts.blockSize,
      targetSize: opts.targetSize,
      structuredMetadata: period.schema === 'v13',
    });
    const desc = new ChunkDesc(chunk, period, nowMs, nowMs);
    this.chunks.push(desc);
    return desc;
  }

  close(desc: ChunkDesc, reason: FlushReason): void {
    if (desc.closed) return;
    desc.closed = true;
    desc.flushReason = reason;
  }

  isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  /**
   * The chunks still in memory with entries in [from, through), oldest first (the last may be the head chunk,
   * still growing: readers take a snapshot of its blocks when they read it).
   */
  chunksIn(from: bigint, through: bigint): ChunkDesc[] {
    const out: ChunkDesc[] = [];
    for (const d of this.chunks) {
      if (d.chunk.entryCount === 0 || d.chunk.maxTs < from || d.chunk.minTs >= through) continue;
      out.push(d);
    }
    return out;
  }

  /** Entries of every chunk still in memory in [from, through), sorted in the direction. */
  async readEntries(
    from: bigint,
    through: bigint,
    direction: Direction,
    filter?: (line: Buffer) => boolean,
  ): Promise<ChunkEntry[]> {
    const parts: ChunkEntry[][] = [];
    for (const d of this.chunks) {
      if (d.chunk.entryCount === 0 || d.chunk.maxTs < from || d.chunk.minTs >= through) continue;
      parts.push(await d.chunk.readEntries(from, through, direction, filter));
    }
    if (parts.length === 1) return parts[0]!;
    const all = parts.flat();
    all.sort(direction === 'forward' ? (a, b) => cmp(a.ts, b.ts) : (a, b) => cmp(b.ts, a.ts));
    return all;
  }
}

export const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
