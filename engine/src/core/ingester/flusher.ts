import { crc32 } from 'node:zlib';
import type { EngineMetrics } from '../metrics.js';
import type { ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import { chunkKey, type ChunkRef } from '../storage/chunk-key.js';
import { TableIndexBuilder, indexFileKey } from '../index/table-index.js';
import type { Logger } from '../util/logger.js';
import type { ChunkDesc, Stream } from './stream.js';

export interface FlushWork {
  tenant: string;
  stream: Stream;
  desc: ChunkDesc;
}

export interface FlusherOptions {
  store: ObjectClient;
  schema: SchemaConfig;
  /** Names this ingester's index files, so two ingesters never overwrite each other's. */
  uploaderId: string;
  concurrency: number;
  timeoutMs: number;
  logger: Logger;
  metrics: EngineMetrics;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Uploads closed chunks, then index files that list them. A chunk counts as flushed once its object is stored
 * and as indexed once an index file naming it is stored; the ingester keeps it in memory (and in the WAL) until
 * both hold. Failures back off exponentially per chunk and are retried by later cycles — nothing is dropped.
 */
export class ChunkFlusher {
  /** Chunks whose object is stored but whose index entry is not yet (retried every cycle). */
  private unindexed: FlushWork[] = [];
  private seq = 0;

  constructor(private readonly opts: FlusherOptions) {}

  async flush(work: readonly FlushWork[], now: number): Promise<FlushWork[]> {
    const flushed: FlushWork[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        const w = work[next++]!;
        if (await this.flushChunk(w, now)) flushed.push(w);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, work.length) }, worker));
    this.unindexed.push(...flushed);
    await this.writeIndex(now);
    return flushed;
  }

  private async flushChunk(w: FlushWork, now: number): Promise<boolean> {
    const { desc, stream, tenant } = w;
    desc.flushing = true;
    try {
      const bytes = await desc.chunk.encode();
      const ref: ChunkRef = {
        tenant,
        fingerprint: stream.fingerprint,
        from: desc.chunk.minTs,
        through: desc.chunk.maxTs,
        checksum: crc32(bytes) >>> 0,
      };
      await withTimeout(this.opts.store.put(chunkKey(ref, desc.period.schema), bytes), this.opts.timeoutMs);
      desc.ref = ref;
      desc.flushed = true;
      desc.flushedAtMs = now;
      this.opts.metrics.chunkSizeBytes.observe(bytes.length);
      this.opts.metrics.chunkEntries.observe(desc.chunk.entryCount);
      return true;
    } catch (err) {
      desc.failures++;
      desc.nextAttemptMs = now + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (desc.failures - 1));
      this.opts.metrics.chunkFlushFailures.inc();
      this.opts.logger.warn('failed to flush chunk, will retry', { tenant, stream: stream.canonical, err });
      return false;
    } finally {
      desc.flushing = false;
    }
  }

  /** One index file per (table, tenant) for everything flushed but not yet indexed. */
  private async writeIndex(now: number): Promise<void> {
    if (this.unindexed.length === 0) return;
    const builders = new Map<string, { table: string; tenant: string; builder: TableIndexBuilder; works: FlushWork[] }>();
    for (const w of this.unindexed) {
      const ref = w.desc.ref!;
      for (const t of this.opts.schema.tablesBetween(ref.from, ref.through)) {
        const key = `${t.table}\u0000${w.tenant}`;
        let b = builders.get(key);
        if (b === undefined) {
          b = { table: t.table, tenant: w.tenant, builder: new TableIndexBuilder(w.tenant, t.table), works: [] };
          builders.set(key, b);
        }
        b.builder.addChunk(w.stream.labels, w.stream.canonical, ref, {
          entries: w.desc.chunk.entryCount,
          uncompressedBytes: w.desc.chunk.uncompressedBytes,
          compressedBytes: w.desc.chunk.compressedBytes,
        });
        b.works.push(w);
      }
    }
    const failed = new Set<FlushWork>();
    await Promise.all(
      [...builders.values()].map(async (b) => {
        const key = indexFileKey(b.table, b.tenant, this.opts.uploaderId, now, this.seq++);
        try {
          await withTimeout(this.opts.store.put(key, b.builder.toBuffer()), this.opts.timeoutMs);
        } catch (err) {
          for (const w of b.works) failed.add(w);
          this.opts.logger.warn('failed to upload index file, will retry', { key, err });
        }
      }),
    );
    for (const w of this.unindexed) if (!failed.has(w)) w.desc.indexed = true;
    this.unindexed = this.unindexed.filter((w) => failed.has(w));
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`operation timed out after ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
