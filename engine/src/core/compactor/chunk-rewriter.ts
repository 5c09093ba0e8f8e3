import { crc32 } from 'node:zlib';
import { decodeChunk, MemChunk } from '../chunk/mem-chunk.js';
import type { IndexedChunk } from '../index/index-file.js';
import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import type { DeletePredicate } from './delete-requests.js';

export type RewriteResult =
  /** No entry of the chunk is deleted. */
  | { kind: 'keep' }
  /** Every entry is deleted (or the chunk object is gone): the chunk leaves the index. */
  | { kind: 'drop'; removed: number }
  /** Some entries are deleted: `chunk` (already uploaded under `key`) replaces the old one. */
  | { kind: 'replace'; chunk: IndexedChunk; key: string; removed: number };

export interface ChunkRewriterOptions {
  /** Uncompressed bytes per block of rewritten chunks (the ingester's `chunk_block_size`). */
  blockSize: number;
}

const MIN_TS = -(1n << 63n);
const NO_END = 1n << 63n;

/**
 * Rewrites chunks without the entries a delete request removes: decode, drop the matching entries, encode the rest
 * with the original codec and format into a new chunk (a new checksum, hence a new key), upload it. Deterministic —
 * the same entries and options give the same bytes — so a chunk indexed in several tables, or rewritten again after
 * a crash, always yields the same key. Results are remembered per old key for the lifetime of the rewriter (one
 * compactor run), so a chunk in several tables is decoded once.
 */
export class ChunkRewriter {
  private readonly done = new Map<string, Promise<RewriteResult>>();

  constructor(
    private readonly store: ObjectClient,
    private readonly schema: SchemaConfig,
    private readonly opts: ChunkRewriterOptions,
  ) {}

  rewrite(ref: IndexedChunk, predicate: DeletePredicate): Promise<RewriteResult> {
    const key = this.schema.chunkKey(ref);
    let p = this.done.get(key);
    if (p === undefined) {
      p = this.run(ref, key, predicate);
      this.done.set(key, p);
    }
    return p;
  }

  private async run(ref: IndexedChunk, key: string, predicate: DeletePredicate): Promise<RewriteResult> {
    let buf: Buffer;
    try {
      buf = await this.store.get(key);
    } catch (e) {
      // A chunk the index names but the store lacks cannot be read by any query: unindexing it repairs the table.
      if (isObjectNotFound(e)) return { kind: 'drop', removed: 0 };
      throw e;
    }
    const reader = await decodeChunk(buf);
    const entries = await reader.readEntries(MIN_TS, NO_END, 'forward');
    const out = new MemChunk({
      encoding: reader.encoding,
      blockSize: this.opts.blockSize,
      targetSize: 0,
      structuredMetadata: reader.withMetadata,
    });
    let removed = 0;
    for (const e of entries) {
      if (predicate(e.ts, e.line, e.metadata)) {
        removed++;
        continue;
      }
      out.append(e.ts, e.line, e.metadata);
      if (out.needsCut()) await out.cutBlock();
    }
    if (removed === 0) return { kind: 'keep' };
    if (out.entryCount === 0) return { kind: 'drop', removed };
    const bytes = await out.encode();
    const chunk: IndexedChunk = {
      tenant: ref.tenant,
      fingerprint: ref.fingerprint,
      from: out.minTs,
      through: out.maxTs,
      checksum: crc32(bytes) >>> 0,
      entries: out.entryCount,
      uncompressedBytes: out.uncompressedBytes,
      compressedBytes: out.compressedBytes,
    };
    const newKey = this.schema.chunkKey(chunk);
    await this.store.put(newKey, bytes);
    return { kind: 'replace', chunk, key: newKey, removed };
  }
}
