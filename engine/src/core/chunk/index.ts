export { CHUNK_ENCODINGS, codecById, codecFor, isChunkEncoding, type ChunkEncoding, type Codec } from './codec.js';
export {
  entriesOf,
  loadBlocks,
  loadBlocksSync,
  loadSync,
  overlappingBlocks,
  readMetadata,
  ScanRange,
  scanBlock,
  scanBlocks,
  scanLoaded,
  scanLoadedCounted,
  scanBlockCounted,
  type BlockSource,
  type LoadedBlock,
  type ChunkEntry,
  type EntrySink,
  type LineFilter,
} from './block-reader.js';
export { compileBlockFilter, leadingLineFilters, predicateFilter, type BlockFilter, type LineFilterOp, type LineFilterSpec } from './block-filter.js';
export { requiredLiterals, type RequiredLiterals } from './regex-literals.js';
export { HeadBlock } from './head-block.js';
export { BLOCKS_PER_CHUNK, DEFAULT_MEM_CHUNK_OPTIONS, MemChunk, type MemChunkOptions } from './mem-chunk.js';
export {
  CHUNK_MAGIC,
  CHUNK_OVERHEAD_BYTES,
  ChunkReader,
  decodeChunk,
  encodeChunk,
  FORMAT_V3,
  FORMAT_V4,
  type BlockMeta,
  type BlockToWrite,
  type FormatVersion,
} from './chunk-format.js';
