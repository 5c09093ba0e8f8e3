import { EngineError } from '../errors.js';
import type { Direction, LabelPair } from '../model.js';
import type { BlockFilter } from './block-filter.js';
import {
  readBlocks,
  readBlocksSync,
  scanBlocks,
  sortBlock,
  type BlockSource,
  type ChunkEntry,
  type EntrySink,
  type LineFilter,
} from './block-reader.js';
import { codecFor, type ChunkEncoding, type Codec } from './codec.js';
import { encodeChunk, type FormatVersion } from './chunk-format.js';
import { HeadBlock } from './head-block.js';

export type { ChunkEntry, EntrySink, LineFilter } from './block-reader.js';

/** One block of an in-memory chunk as sent to another process: see MemChunk.wireBlocks. */
export interface WireBlock {
  minTs: bigint;
  maxTs: bigint;
  /** Uncompressed size in bytes. */
  size: number;
  data: Buffer;
  /** `data` is compressed with the chunk's codec (else it is the raw, sorted block). */
  compressed: boolean;
}
export { ChunkReader, decodeChunk } from './chunk-format.js';

export interface MemChunkOptions {
  encoding: ChunkEncoding;
  /** Uncompressed head bytes before a block is cut (Loki's `chunk_block_size`). */
  blockSize: number;
  /** Compressed target size of a chunk (Loki's `chunk_target_size`); 0 = a fixed number of blocks per chunk. */
  targetSize: number;
  /** True → format v4 (entries carry structured metadata); false → v3. */
  structuredMetadata: boolean;
}

export const DEFAULT_MEM_CHUNK_OPTIONS: Readonly<MemChunkOptions> = Object.freeze({
  encoding: 'snappy',
  blockSize: 256 * 1024,
  targetSize: 1536 * 1024,
  structuredMetadata: true,
});

/** With `targetSize` 0 a chunk is full after this many blocks, as in Loki. */
export const BLOCKS_PER_CHUNK = 10;

/** A cut block. `raw` is set while its compression is in flight (or failed), so reads and encode never lose it. */
interface CutBlock {
  readonly entries: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly uncompressedSize: number;
  compressed: Buffer | undefined;
  raw: Buffer | undefined;
  pending: Promise<void> | undefined;
}

/**
 * An in-memory chunk of one stream: compressed cut blocks plus the head block. Appends are synchronous; cutting a
 * block and encoding compress on the libuv pool.
 */
export class MemChunk {
  readonly encoding: ChunkEncoding;
  readonly blockSize: number;
  readonly targetSize: number;
  readonly formatVersion: FormatVersion;
  private readonly codec: Codec;
  private head: HeadBlock;
  private blocks: CutBlock[] = [];
  /** Sum of compressed sizes of blocks whose compression finished. */
  private compressedTotal = 0;
  /** Sum of uncompressed sizes of blocks still compressing (counted in isFull until they shrink). */
  private pendingRaw = 0;
  private cutEntries = 0;
  private cutUncompressed = 0;

  constructor(opts: Partial<MemChunkOptions> = {}) {
    const o = { ...DEFAULT_MEM_CHUNK_OPTIONS, ...opts };
    if (!(o.blockSize > 0)) throw new EngineError('bad_request', `invalid chunk block size ${o.blockSize}`);
    if (!(o.targetSize >= 0)) throw new EngineError('bad_request', `invalid chunk target size ${o.targetSize}`);
    this.codec = codecFor(o.encoding);
    this.encoding = o.encoding;
    this.blockSize = o.blockSize;
    this.targetSize = o.targetSize;
    this.formatVersion = o.structuredMetadata ? 4 : 3;
    this.head = new HeadBlock(o.structuredMetadata, o.blockSize);
  }

  /**
   * Append one entry to the head. Returns false when it duplicates the previous entry (same timestamp, line and
   * metadata). Throws when metadata is given to a v3 chunk. Never cuts: the caller checks `needsCut()`.
   */
  append(ts: bigint, line: Buffer, metadata?: readonly LabelPair[]): boolean {
    return this.head.append(ts, line, metadata);
  }

  get headBytes(): number {
    return this.head.size;
  }

  needsCut(): boolean {
    return this.head.size >= this.blockSize;
  }

  /**
   * Turn the head into a compressed block. The head is taken and replaced synchronously, so entries appended while
   * the compression is awaited go to the new head; the block is listed (with its raw bytes) before the first await,
   * so it is never missing from reads, `encode` or the block order.
   */
  async cutBlock(): Promise<void> {
    const head = this.head;
    if (head.isEmpty) return;
    this.head = HeadBlock.after(head);
    let raw = head.bytes();
    let entries = head.count;
    if (head.outOfOrder) ({ data: raw, count: entries } = sortBlock(raw, head.withMetadata, 'head block'));
    const block: CutBlock = {
      entries,
      minTs: head.minTs,
      maxTs: head.maxTs,
      uncompressedSize: raw.length,
      compressed: undefined,
      raw,
      pending: undefined,
    };
    this.blocks.push(block);
    this.cutEntries += entries;
    this.cutUncompressed += raw.length;
    this.pendingRaw += raw.length;
    await this.compressBlock(block);
  }

  private compressBlock(block: CutBlock): Promise<void> {
    if (block.compressed !== undefined) return Promise.resolve();
    block.pending ??= this.codec.compress(block.raw!).then(
      (c) => {
        block.compressed = c;
        block.raw = undefined;
        block.pending = undefined;
        this.pendingRaw -= block.uncompressedSize;
        this.compressedTotal += c.length;
      },
      (e: unknown) => {
        // Keep the raw bytes: a later cut/encode retries, nothing is lost.
        block.pending = undefined;
        throw e;
      },
    );
    return block.pending;
  }

  /** Full when the compressed blocks plus the (uncompressed, so pessimistic) rest reach the target size. */
  isFull(): boolean {
    if (this.targetSize > 0) return this.compressedTotal + this.pendingRaw + this.head.size >= this.targetSize;
    return this.blocks.length >= BLOCKS_PER_CHUNK;
  }

  get entryCount(): number {
    return this.cutEntries + this.head.count;
  }

  /** Smallest timestamp, 0n when the chunk is empty. */
  get minTs(): bigint {
    let min: bigint | undefined = this.head.isEmpty ? undefined : this.head.minTs;
    for (const b of this.blocks) if (min === undefined || b.minTs < min) min = b.minTs;
    return min ?? 0n;
  }

  /** Largest timestamp, 0n when the chunk is empty. */
  get maxTs(): bigint {
    let max: bigint | undefined = this.head.isEmpty ? undefined : this.head.maxTs;
    for (const b of this.blocks) if (max === undefined || b.maxTs > max) max = b.maxTs;
    return max ?? 0n;
  }

  /** Encoded entry bytes of the blocks and the head. */
  get uncompressedBytes(): number {
    return this.cutUncompressed + this.head.size;
  }

  /** Compressed bytes of the cut blocks whose compression finished. */
  get compressedBytes(): number {
    return this.compressedTotal;
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  /**
   * Cut the head (if not empty) and serialize the chunk. The chunk holds what was appended before the call;
   * entries appended while it runs stay in the new head.
   */
  async encode(): Promise<Buffer> {
    const cut = this.cutBlock();
    const blocks = this.blocks.slice();
    await cut;
    await Promise.all(blocks.map((b) => this.compressBlock(b)));
    return encodeChunk(this.formatVersion, this.codec.id, blocks);
  }

  /** True for format v4: entries carry a structured-metadata section. */
  get withMetadata(): boolean {
    return this.formatVersion === 4;
  }

  /**
   * Entries with from ≤ ts < through from the cut blocks and the head, in timestamp order for `direction`.
   * `filter` sees the raw line bytes before any entry object is made (a BlockFilter: before even a view of the line).
   */
  readEntries(from: bigint, through: bigint, direction: Direction, filter?: LineFilter | BlockFilter): Promise<ChunkEntry[]> {
    return readBlocks(this.sources(false), this.formatVersion === 4, from, through, direction, filter);
  }

  /**
   * Every entry with from ≤ ts < through that passes `filter`, handed to `sink` without making an entry object
   * (block by block: in timestamp order unless appends came out of order). See block-reader.ts `scanBlocks`.
   */
  scan(from: bigint, through: bigint, filter: BlockFilter | undefined, sink: EntrySink): Promise<boolean> {
    return scanBlocks(this.sources(false), this.formatVersion === 4, from, through, filter, sink);
  }

  /**
   * The blocks and the head as read sources, as they are now (later appends and cuts do not change them). Blocks
   * decompress on the libuv pool, or with `sync` on the calling thread (`load` then returns the Buffer itself).
   */
  blockSources(sync = false): BlockSource[] {
    return this.sources(sync);
  }

  /**
   * Every entry of the chunk, in timestamp order, read synchronously (WAL checkpoints). Compressed blocks are
   * decompressed on the calling thread: about 1.5 ms per full lz4 chunk.
   */
  snapshotEntries(): ChunkEntry[] {
    return readBlocksSync(this.sources(true), this.formatVersion === 4, MIN_TS, UNBOUNDED, 'forward');
  }

  /**
   * The blocks and the head that overlap [from, through) as they are now, for a read by another process
   * (docs/internal-protocol.md): compressed bytes where compression finished, raw bytes otherwise (the head sorted).
   * Nothing is cut or copied; later appends and cuts do not change the snapshot.
   */
  wireBlocks(from: bigint, through: bigint): WireBlock[] {
    const out: WireBlock[] = [];
    for (const b of this.blocks) {
      if (b.maxTs < from || b.minTs >= through) continue;
      if (b.compressed !== undefined) out.push({ minTs: b.minTs, maxTs: b.maxTs, size: b.uncompressedSize, data: b.compressed, compressed: true });
      else out.push({ minTs: b.minTs, maxTs: b.maxTs, size: b.uncompressedSize, data: b.raw!, compressed: false });
    }
    const head = this.head;
    if (!head.isEmpty && head.maxTs >= from && head.minTs < through) {
      const data = head.outOfOrder ? sortBlock(head.bytes(), head.withMetadata, 'head block').data : head.bytes();
      out.push({ minTs: head.minTs, maxTs: head.maxTs, size: data.length, data, compressed: false });
    }
    return out;
  }

  /** The blocks and the head as read sources. Taken synchronously: later appends and cuts do not change them. */
  private sources(sync: boolean): BlockSource[] {
    const sources: BlockSource[] = this.blocks.map((b, i) => this.blockSource(b, i, sync));
    const head = this.head;
    if (!head.isEmpty) {
      const bytes = head.bytes();
      const outOfOrder = head.outOfOrder;
      const withMetadata = head.withMetadata;
      sources.push({
        minTs: head.minTs,
        maxTs: head.maxTs,
        sorted: true,
        label: 'head block',
        load: () => (outOfOrder ? sortBlock(bytes, withMetadata, 'head block').data : bytes),
      });
    }
    return sources;
  }

  private blockSource(b: CutBlock, i: number, sync: boolean): BlockSource {
    const compressed = b.compressed;
    return codecBlockSource(this.codec, `block ${i}`, b, compressed ?? b.raw!, compressed !== undefined, b.uncompressedSize, sync);
  }
}

/**
 * A block as a read source: `data` decompressed with `codec` when `compressed` (on this thread with `sync`, else
 * on the libuv pool), else returned as it is. Shared by in-memory chunks and chunks sent by an ingester.
 */
export function codecBlockSource(
  codec: Codec,
  label: string,
  bounds: { minTs: bigint; maxTs: bigint },
  data: Buffer,
  compressed: boolean,
  size: number,
  sync: boolean,
): BlockSource {
  const fail = (e: unknown) => new EngineError('internal', `${label}: ${codec.name} decompression failed: ${(e as Error).message}`);
  const into = codec.decompressInto;
  return {
    minTs: bounds.minTs,
    maxTs: bounds.maxTs,
    sorted: true,
    label,
    loadInto:
      !compressed || !sync || into === undefined
        ? undefined
        : (scratch) => {
            try {
              return into(data, size, scratch);
            } catch (e) {
              throw fail(e);
            }
          },
    load: !compressed
      ? () => data
      : sync
        ? () => {
            try {
              return codec.decompressSync(data, size);
            } catch (e) {
              throw fail(e);
            }
          }
        : async () => {
            try {
              return await codec.decompress(data, size);
            } catch (e) {
              throw fail(e);
            }
          },
  };
}

const MIN_TS = -(1n << 63n);
/** Past the int64 range: no upper bound. */
const UNBOUNDED = 1n << 63n;
