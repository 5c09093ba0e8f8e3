import { EngineError } from '../errors.js';
import type { BlockSource } from './block-reader.js';
import { codecFor, isChunkEncoding, type Codec } from './codec.js';
import { codecBlockSource, type WireBlock } from './mem-chunk.js';

/** What a read needs from a chunk held in memory: a local MemChunk, or a snapshot of one sent by an ingester. */
export interface ReadableChunk {
  readonly withMetadata: boolean;
  readonly minTs: bigint;
  /** Inclusive. */
  readonly maxTs: bigint;
  blockSources(sync?: boolean): BlockSource[];
}

/** A chunk snapshot as it travels from an ingester to a querier (see MemChunk.wireBlocks). */
export interface WireChunkData {
  encoding: string;
  withMetadata: boolean;
  blocks: WireBlock[];
}

/**
 * An ingester's in-memory chunk received by a querier: the blocks it sent, decompressed on demand with the chunk's
 * codec exactly as a local MemChunk's blocks are, so the query path does not care where a chunk lives.
 */
export class WireChunk implements ReadableChunk {
  readonly withMetadata: boolean;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  private readonly codec: Codec;

  constructor(private readonly data: WireChunkData) {
    if (!isChunkEncoding(data.encoding)) throw new EngineError('internal', `unknown chunk encoding ${JSON.stringify(data.encoding)} from ingester`);
    if (data.blocks.length === 0) throw new EngineError('internal', 'empty chunk snapshot from ingester');
    this.codec = codecFor(data.encoding);
    this.withMetadata = data.withMetadata;
    let min = data.blocks[0]!.minTs;
    let max = data.blocks[0]!.maxTs;
    for (const b of data.blocks) {
      if (b.minTs < min) min = b.minTs;
      if (b.maxTs > max) max = b.maxTs;
    }
    this.minTs = min;
    this.maxTs = max;
  }

  blockSources(sync = false): BlockSource[] {
    return this.data.blocks.map((b, i) => codecBlockSource(this.codec, `remote block ${i}`, b, b.data, b.compressed, b.size, sync));
  }
}
