import type { Labels } from '../model.js';
import { validateKeyTenant } from '../storage/chunk-key.js';
import { fingerprint } from './fingerprint.js';
import type { ChunkRef } from '../storage/chunk-key.js';
import { compareChunks, encodeIndexFile, type ChunkStats, type IndexedChunk, type IndexSeries } from './index-file.js';

// Writers need the key helpers next to the builder.
export { indexFileKey, indexTablePrefix } from './index-file.js';

interface SeriesBuild {
  labels: Labels;
  /** `from:through:checksum` → chunk; one chunk flushed twice (a retried upload) is indexed once. */
  chunks: Map<string, IndexedChunk>;
}

/**
 * Collects the chunks one uploader flushed for one tenant into one table, and encodes them as one index file.
 * A chunk belongs in every table its time range overlaps (`SchemaConfig.tablesBetween(from, through)`); the
 * caller adds it to one builder per table.
 */
export class TableIndexBuilder {
  private readonly series = new Map<string, SeriesBuild>();
  private chunks = 0;

  constructor(
    readonly tenant: string,
    readonly table: string,
  ) {
    validateKeyTenant(tenant);
  }

  get seriesCount(): number {
    return this.series.size;
  }

  get chunkCount(): number {
    return this.chunks;
  }

  /**
   * @param labels the stream's labels, sorted by name, no duplicates
   * @param canonical the stream's canonical label string: its fingerprint must be `ref.fingerprint`
   * @param stats what the chunk holds, for index stats and query planning
   */
  addChunk(labels: Labels, canonical: string, ref: ChunkRef, stats: ChunkStats): void {
    const chunk: IndexedChunk = {
      tenant: ref.tenant,
      fingerprint: ref.fingerprint,
      from: ref.from,
      through: ref.through,
      checksum: ref.checksum,
      entries: stats.entries,
      uncompressedBytes: stats.uncompressedBytes,
      compressedBytes: stats.compressedBytes,
    };
    if (chunk.tenant !== this.tenant) {
      throw new Error(`index builder for tenant ${this.tenant}: got a chunk of tenant ${chunk.tenant}`);
    }
    const fp = fingerprint(canonical);
    if (chunk.fingerprint !== fp) {
      throw new Error(`chunk fingerprint ${chunk.fingerprint} is not the fingerprint ${fp} of ${canonical}`);
    }
    if (chunk.through < chunk.from) throw new Error(`chunk ${fp}: through ${chunk.through} before from ${chunk.from}`);
    for (const n of [chunk.checksum, chunk.entries, chunk.uncompressedBytes, chunk.compressedBytes]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`chunk ${fp}: ${n} is not a non-negative integer`);
    }
    let s = this.series.get(fp);
    if (!s) {
      checkLabels(labels);
      s = { labels: labels.map(([n, v]) => [n, v] as const), chunks: new Map() };
      this.series.set(fp, s);
    } else if (!sameLabels(s.labels, labels)) {
      // Two streams with one 64-bit fingerprint: merging them would serve one stream's lines as the other's.
      throw new Error(`fingerprint collision on ${fp}: ${canonical} and a different label set`);
    }
    const id = `${chunk.from}:${chunk.through}:${chunk.checksum}`;
    if (s.chunks.has(id)) return;
    s.chunks.set(id, chunk);
    this.chunks++;
  }

  toBuffer(): Buffer {
    const fps = [...this.series.keys()].sort();
    const series: IndexSeries[] = fps.map((fp) => {
      const s = this.series.get(fp)!;
      return { fingerprint: fp, labels: s.labels, chunks: [...s.chunks.values()].sort(compareChunks) };
    });
    return encodeIndexFile(this.tenant, this.table, series);
  }
}

function checkLabels(labels: Labels): void {
  for (let i = 0; i < labels.length; i++) {
    const [name] = labels[i]!;
    if (name === '') throw new Error('label set has an empty label name');
    if (i > 0 && labels[i - 1]![0] >= name) {
      throw new Error(`label set is not sorted by name without duplicates at ${JSON.stringify(name)}`);
    }
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  }
  return true;
}
