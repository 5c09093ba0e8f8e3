import type { ReadableChunk } from '../chunk/wire-chunk.js';
import type { Labels } from '../model.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { ChunkRef } from '../storage/chunk-key.js';

/** A stream's chunks held in an ingester's memory, for a lazy read by the querier (local or remote). */
export interface MemoryStream {
  labels: Labels;
  canonical: string;
  fingerprint: string;
  /** Oldest first; `ref` is set once the chunk is also in the store (so the querier does not read it twice). */
  chunks: Array<{ chunk: ReadableChunk; ref: ChunkRef | undefined }>;
}

/**
 * What the querier reads from ingesters' memory: the in-process ingester (single binary) or every ingester of the
 * ring (distributed mode). Ranges are [from, through) in nanoseconds.
 */
export interface IngesterReader {
  chunks(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<MemoryStream[]>;
  series(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<Labels[]>;
}

/** The in-process ingester as an IngesterReader (its MemChunks are ReadableChunks). */
export function localIngesterReader(ingester: {
  chunks(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): MemoryStream[];
  series(tenant: string, matchers: readonly LabelMatcher[], from: bigint, through: bigint): Labels[];
}): IngesterReader {
  return {
    chunks: async (tenant, matchers, from, through) => ingester.chunks(tenant, matchers, from, through),
    series: async (tenant, matchers, from, through) => ingester.series(tenant, matchers, from, through),
  };
}
