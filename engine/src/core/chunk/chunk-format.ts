import zlib from 'node:zlib';
import { EngineError } from '../errors.js';
import type { Direction } from '../model.js';
import type { BlockFilter } from './block-filter.js';
import { readBlocks, scanBlocks, type BlockSource, type ChunkEntry, type EntrySink, type LineFilter } from './block-reader.js';
import { codecById, type ChunkEncoding, type Codec, type ScratchBuffer } from './codec.js';
import {
  decodedUint,
  readUvarint,
  readVarintBig,
  writeUvarint,
  writeVarintBig,
  MAX_VARINT64_LEN,
} from './varint.js';

/**
 * The serialized chunk (docs/chunk-format.md has the byte diagram):
 *
 *   magic u32 BE | version u8 | encoding u8 | blocks (compressed bytes + crc32 BE each) |
 *   block metadata | crc32 BE of the block metadata | u64 BE offset of the block metadata
 */

/** "STCK": Strata chunk. */
export const CHUNK_MAGIC = 0x5354434b;
export type FormatVersion = 3 | 4;
/** Format with structured metadata in every entry. */
export const FORMAT_V4: FormatVersion = 4;
/** Format without structured metadata. */
export const FORMAT_V3: FormatVersion = 3;

const HEADER_LEN = 6;
/** Largest uncompressed block a reader accepts (a head block may outgrow chunk_block_size by one entry). */
export const MAX_BLOCK_BYTES = 512 * 1024 * 1024;
/** crc32 of the metadata section + its offset. */
const TRAILER_LEN = 12;
const MAX_UVARINT_LEN = 7;

/** What encodeChunk needs of each block. */
export interface BlockToWrite {
  readonly entries: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly uncompressedSize: number;
  readonly compressed: Buffer | undefined;
}

/** One block as the chunk's metadata section describes it. */
export interface BlockMeta {
  readonly entries: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  /** Offset of the compressed bytes from the start of the chunk. */
  readonly offset: number;
  readonly compressedLength: number;
  readonly uncompressedLength: number;
}

function corruptChunk(detail: string): EngineError {
  return new EngineError('internal', `corrupt chunk: ${detail}`);
}

/** Serialize compressed blocks (in append order) into one chunk. */
export function encodeChunk(version: FormatVersion, encodingId: number, blocks: readonly BlockToWrite[]): Buffer {
  let dataLen = 0;
  let metaMax = MAX_UVARINT_LEN;
  for (const b of blocks) {
    if (b.compressed === undefined) throw new EngineError('internal', 'encodeChunk: block is not compressed yet');
    dataLen += b.compressed.length + 4;
    metaMax += 4 * MAX_UVARINT_LEN + 2 * MAX_VARINT64_LEN;
  }
  const meta = Buffer.allocUnsafe(metaMax);
  let m = writeUvarint(meta, 0, blocks.length);
  let offset = HEADER_LEN;
  for (const b of blocks) {
    m = writeUvarint(meta, m, b.entries);
    m = writeVarintBig(meta, m, b.minTs);
    m = writeVarintBig(meta, m, b.maxTs);
    m = writeUvarint(meta, m, offset);
    m = writeUvarint(meta, m, b.compressed!.length);
    m = writeUvarint(meta, m, b.uncompressedSize);
    offset += b.compressed!.length + 4;
  }

  const out = Buffer.allocUnsafeSlow(HEADER_LEN + dataLen + m + TRAILER_LEN);
  out.writeUInt32BE(CHUNK_MAGIC, 0);
  out[4] = version;
  out[5] = encodingId;
  let p = HEADER_LEN;
  for (const b of blocks) {
    const c = b.compressed!;
    p += c.copy(out, p);
    p = out.writeUInt32BE(zlib.crc32(c), p);
  }
  const metaOffset = p;
  p += meta.copy(out, p, 0, m);
  p = out.writeUInt32BE(zlib.crc32(meta.subarray(0, m)), p);
  out.writeBigUInt64BE(BigInt(metaOffset), p);
  return out;
}

/**
 * A serialized chunk opened for reading. Opening verifies the header and the metadata checksum; blocks are
 * checked (crc32) and decompressed only when a read needs them, and are not cached.
 */
export class ChunkReader {
  readonly formatVersion: FormatVersion;
  readonly encoding: ChunkEncoding;
  readonly blocks: readonly BlockMeta[];
  private readonly codec: Codec;

  private constructor(
    private readonly buf: Buffer,
    formatVersion: FormatVersion,
    codec: Codec,
    blocks: BlockMeta[],
  ) {
    this.formatVersion = formatVersion;
    this.codec = codec;
    this.encoding = codec.name;
    this.blocks = blocks;
  }

  /** Parse and verify a chunk; throws an EngineError ('internal') naming what is wrong. */
  static from(buf: Buffer): ChunkReader {
    const len = buf.length;
    if (len < HEADER_LEN + 1 + TRAILER_LEN) throw corruptChunk(`too short (${len} bytes)`);
    const magic = buf.readUInt32BE(0);
    if (magic !== CHUNK_MAGIC) throw corruptChunk(`bad magic number 0x${magic.toString(16).padStart(8, '0')}`);
    const version = buf[4]!;
    if (version !== 3 && version !== 4) throw corruptChunk(`unsupported format version ${version}`);
    let codec: Codec;
    try {
      codec = codecById(buf[5]!);
    } catch {
      throw corruptChunk(`unknown encoding id ${buf[5]}`);
    }

    const metaEnd = len - TRAILER_LEN;
    const metaOffset64 = buf.readBigUInt64BE(len - 8);
    if (metaOffset64 < BigInt(HEADER_LEN) || metaOffset64 >= BigInt(metaEnd)) {
      throw corruptChunk(`block metadata offset ${metaOffset64} out of range (chunk truncated?)`);
    }
    const metaOffset = Number(metaOffset64);
    const want = buf.readUInt32BE(metaEnd);
    const got = zlib.crc32(buf.subarray(metaOffset, metaEnd));
    if (want !== got) {
      throw corruptChunk(`block metadata checksum mismatch (stored ${hex(want)}, computed ${hex(got)})`);
    }

    // The checksum matched, so a parse failure below means a writer bug, not bit rot; still never trust offsets.
    let p = readUvarint(buf, metaOffset, metaEnd);
    const n = decodedUint;
    if (p < 0 || n > metaEnd - metaOffset) throw corruptChunk('bad block count');
    const blocks: BlockMeta[] = new Array(n);
    let prevEnd = HEADER_LEN;
    try {
      for (let i = 0; i < n; i++) {
        const entries = uv(buf, p, metaEnd);
        p = next;
        const [minTs, p1] = readVarintBig(buf, p, metaEnd);
        const [maxTs, p2] = readVarintBig(buf, p1, metaEnd);
        p = p2;
        const offset = uv(buf, p, metaEnd);
        p = next;
        const compressedLength = uv(buf, p, metaEnd);
        p = next;
        const uncompressedLength = uv(buf, p, metaEnd);
        p = next;
        if (offset < prevEnd || offset + compressedLength + 4 > metaOffset) {
          throw corruptChunk(`block ${i} spans bytes ${offset}..${offset + compressedLength + 4}, outside the data`);
        }
        if (minTs > maxTs) throw corruptChunk(`block ${i} has minTs > maxTs`);
        // Blocks are cut at chunk_block_size (256 KiB by default): a size this large is damage, and decoding would
        // allocate it.
        if (uncompressedLength > MAX_BLOCK_BYTES) throw corruptChunk(`block ${i} claims ${uncompressedLength} uncompressed bytes`);
        prevEnd = offset + compressedLength + 4;
        blocks[i] = { entries, minTs, maxTs, offset, compressedLength, uncompressedLength };
      }
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw corruptChunk(`unreadable block metadata (${(e as Error).message})`);
    }
    if (p !== metaEnd) throw corruptChunk(`${metaEnd - p} unexpected bytes after the block metadata`);
    return new ChunkReader(buf, version, codec, blocks);
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  get entryCount(): number {
    let n = 0;
    for (const b of this.blocks) n += b.entries;
    return n;
  }

  /** Smallest timestamp, 0n for a chunk without blocks. */
  get minTs(): bigint {
    let min: bigint | undefined;
    for (const b of this.blocks) if (min === undefined || b.minTs < min) min = b.minTs;
    return min ?? 0n;
  }

  /** Largest timestamp, 0n for a chunk without blocks. */
  get maxTs(): bigint {
    let max: bigint | undefined;
    for (const b of this.blocks) if (max === undefined || b.maxTs > max) max = b.maxTs;
    return max ?? 0n;
  }

  get uncompressedBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.uncompressedLength;
    return n;
  }

  get compressedBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.compressedLength;
    return n;
  }

  /** The verified, decompressed entries of block `i` (decompressed on the libuv pool). */
  async blockData(i: number): Promise<Buffer> {
    const { b, compressed } = this.verified(i);
    let data: Buffer;
    try {
      data = await this.codec.decompress(compressed, b.uncompressedLength);
    } catch (e) {
      throw corruptChunk(`block ${i}: ${this.encoding} decompression failed: ${(e as Error).message}`);
    }
    return checkedSize(i, data, b.uncompressedLength);
  }

  /** `blockData` decompressing on the calling thread (see Querier: block by block, right before the scan). */
  blockDataSync(i: number): Buffer {
    const { b, compressed } = this.verified(i);
    let data: Buffer;
    try {
      data = this.codec.decompressSync(compressed, b.uncompressedLength);
    } catch (e) {
      throw corruptChunk(`block ${i}: ${this.encoding} decompression failed: ${(e as Error).message}`);
    }
    return checkedSize(i, data, b.uncompressedLength);
  }

  /** `blockDataSync` decompressing into `scratch` (for codecs with Codec.decompressInto). */
  private blockDataInto(i: number, scratch: ScratchBuffer): Buffer {
    const { b, compressed } = this.verified(i);
    try {
      return this.codec.decompressInto!(compressed, b.uncompressedLength, scratch);
    } catch (e) {
      throw corruptChunk(`block ${i}: ${this.encoding} decompression failed: ${(e as Error).message}`);
    }
  }

  /** Block `i`'s metadata and compressed bytes, after checking its CRC. */
  private verified(i: number): { b: BlockMeta; compressed: Buffer } {
    const b = this.blocks[i];
    if (b === undefined) throw new EngineError('internal', `chunk has no block ${i}`);
    const compressed = this.buf.subarray(b.offset, b.offset + b.compressedLength);
    const want = this.buf.readUInt32BE(b.offset + b.compressedLength);
    const got = zlib.crc32(compressed);
    if (want !== got) throw corruptChunk(`block ${i} checksum mismatch (stored ${hex(want)}, computed ${hex(got)})`);
    return { b, compressed };
  }

  /** True for format v4: entries carry a structured-metadata section. */
  get withMetadata(): boolean {
    return this.formatVersion === 4;
  }

  /**
   * The blocks as read sources, each verified and decompressed when loaded: on the libuv pool, or with `sync` on
   * the calling thread (`load` then returns the Buffer itself).
   */
  blockSources(sync = false): BlockSource[] {
    return this.blocks.map((b, i) => ({
      minTs: b.minTs,
      maxTs: b.maxTs,
      sorted: true,
      label: `chunk block ${i}`,
      load: sync ? () => this.blockDataSync(i) : () => this.blockData(i),
      loadInto: sync && this.codec.decompressInto !== undefined ? (scratch: ScratchBuffer) => this.blockDataInto(i, scratch) : undefined,
    }));
  }

  /** Entries with from ≤ ts < through, in timestamp order for `direction`; same contract as MemChunk.readEntries. */
  readEntries(from: bigint, through: bigint, direction: Direction, filter?: LineFilter | BlockFilter): Promise<ChunkEntry[]> {
    return readBlocks(this.blockSources(), this.formatVersion === 4, from, through, direction, filter);
  }

  /** Same contract as MemChunk.scan. */
  scan(from: bigint, through: bigint, filter: BlockFilter | undefined, sink: EntrySink): Promise<boolean> {
    return scanBlocks(this.blockSources(), this.formatVersion === 4, from, through, filter, sink);
  }
}

function checkedSize(i: number, data: Buffer, want: number): Buffer {
  if (data.length !== want) throw corruptChunk(`block ${i} decompressed to ${data.length} bytes, expected ${want}`);
  return data;
}

/** Open a serialized chunk (see ChunkReader.from). */
export async function decodeChunk(buf: Buffer): Promise<ChunkReader> {
  return ChunkReader.from(buf);
}

let next = 0;
function uv(buf: Buffer, p: number, end: number): number {
  next = readUvarint(buf, p, end);
  if (next < 0) throw new RangeError('truncated varint');
  return decodedUint;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** Size of the fixed framing around blocks and metadata, for size estimates. */
export const CHUNK_OVERHEAD_BYTES = HEADER_LEN + TRAILER_LEN;
