import {
  compareChunks,
  decodeIndexFile,
  encodeIndexFile,
  indexFileKey,
  type IndexedChunk,
  type IndexSeries,
} from '../index/index-file.js';
import type { Labels } from '../model.js';
import type { ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import type { ChunkRewriter } from './chunk-rewriter.js';
import { deletePredicate, type ActiveDelete } from './delete-requests.js';
import type { ChunkMarker } from './markers.js';
import type { TenantRetention } from './retention.js';
import type { TableRange } from './tables.js';

/** The uploader ID in the names of compacted index files (`index/<table>/<tenant>/compactor-<ms>-<seq>.cbor`). */
export const COMPACTOR_UPLOADER = 'compactor';

export interface TableJob {
  table: string;
  tenant: string;
  /** The index files of the table and tenant as listed; only these are merged and then removed. */
  keys: readonly string[];
  /** The table's time range (a rewritten chunk is indexed here only if it still overlaps it). */
  range: TableRange | undefined;
  /** Applied when set: chunks whose last entry is before their stream's cutoff leave the index. */
  retention: TenantRetention | undefined;
  /** Delete requests to carry out (filter-and-delete tenants, past their cancel period). */
  deletes: readonly ActiveDelete[];
  nowMs: number;
}

export interface TableJobResult {
  /** False when the table was already one file with nothing to remove (nothing written). */
  rewritten: boolean;
  filesIn: number;
  series: number;
  /** Index entries (chunk references) in the output. */
  chunks: number;
  expired: number;
  /** Chunks removed whole by delete requests, or replaced by a rewritten copy. */
  deleted: number;
  rewrittenChunks: number;
  linesDeleted: number;
  outputKey: string | undefined;
}

export interface TableCompactorDeps {
  store: ObjectClient;
  schema: SchemaConfig;
  marker: ChunkMarker;
  rewriter: ChunkRewriter;
  /** Sequence numbers for output names (per process; collisions with inputs are avoided anyway). */
  nextSeq: () => number;
}

interface MergedSeries {
  labels: Labels;
  chunks: Map<string, IndexedChunk>;
}

const chunkId = (c: IndexedChunk): string => `${c.from}:${c.through}:${c.checksum}`;

/**
 * Compacts one tenant's index files of one table into one file, applying retention and delete requests on the way.
 * The order of the writes is what makes it safe to kill at any point (docs/compactor.md, "Crash safety"):
 *   1. upload rewritten chunks (delete requests),
 *   2. write the merged index file (a new key; readers now see it next to the inputs, and dedupe),
 *   3. write markers for the chunks that left the index,
 *   4. delete the input files — only now do readers stop seeing the removed chunks.
 * A crash before 4 leaves inputs that the next run merges again (finding the same chunks to remove), so nothing is
 * lost, nothing stays indexed, and no marker is written for a chunk an index still needs.
 */
export async function compactTable(job: TableJob, deps: TableCompactorDeps): Promise<TableJobResult> {
  const result: TableJobResult = {
    rewritten: false,
    filesIn: job.keys.length,
    series: 0,
    chunks: 0,
    expired: 0,
    deleted: 0,
    rewrittenChunks: 0,
    linesDeleted: 0,
    outputKey: undefined,
  };

  const merged = new Map<string, MergedSeries>();
  for (const key of job.keys) {
    const f = decodeIndexFile(await deps.store.get(key), key);
    if (f.tenant !== job.tenant || f.table !== job.table) {
      throw new Error(`index file ${key} holds tenant ${f.tenant}, table ${f.table}`);
    }
    for (const s of f.series) {
      let m = merged.get(s.fingerprint);
      if (m === undefined) merged.set(s.fingerprint, (m = { labels: s.labels, chunks: new Map() }));
      else if (!sameLabels(m.labels, s.labels)) throw new Error(`fingerprint collision on ${s.fingerprint} in ${key}`);
      for (const c of s.chunks) m.chunks.set(chunkId(c), c);
    }
  }

  const expired: string[] = [];
  const deleted: string[] = [];
  for (const m of merged.values()) {
    const cutoff = job.retention?.cutoffFor(m.labels, job.nowMs);
    const applicable = job.deletes.filter((d) => d.appliesTo(m.labels));
    let predicate: ReturnType<typeof deletePredicate> | null = null; // built on first need
    for (const [id, c] of [...m.chunks]) {
      if (cutoff !== undefined && c.through < cutoff) {
        m.chunks.delete(id);
        expired.push(deps.schema.chunkKey(c));
        continue;
      }
      const hits = applicable.filter((d) => d.overlaps(c.from, c.through));
      if (hits.length === 0) continue;
      const oldKey = deps.schema.chunkKey(c);
      if (hits.some((d) => d.covers(c.from, c.through))) {
        m.chunks.delete(id);
        deleted.push(oldKey);
        result.linesDeleted += c.entries;
        continue;
      }
      predicate ??= deletePredicate(applicable, m.labels)!;
      const r = await deps.rewriter.rewrite(c, predicate);
      if (r.kind === 'keep') continue;
      m.chunks.delete(id);
      result.linesDeleted += r.removed;
      if (r.kind === 'replace') {
        result.rewrittenChunks++;
        const inTable = job.range === undefined || (r.chunk.from < job.range.end && r.chunk.through >= job.range.start);
        if (inTable) m.chunks.set(chunkId(r.chunk), r.chunk);
        // An identical key (a CRC collision on an unchanged range) was overwritten in place: nothing to delete.
        if (r.key !== oldKey) deleted.push(oldKey);
      } else {
        deleted.push(oldKey);
      }
    }
  }
  result.expired = expired.length;
  result.deleted = deleted.length;

  const series: IndexSeries[] = [];
  for (const fp of [...merged.keys()].sort()) {
    const m = merged.get(fp)!;
    if (m.chunks.size === 0) continue;
    series.push({ fingerprint: fp, labels: m.labels, chunks: [...m.chunks.values()].sort(compareChunks) });
    result.chunks += m.chunks.size;
  }
  result.series = series.length;

  if (job.keys.length <= 1 && expired.length === 0 && deleted.length === 0) return result;
  result.rewritten = true;

  const inputs = new Set(job.keys);
  if (series.length > 0) {
    let key: string;
    do key = indexFileKey(job.table, job.tenant, COMPACTOR_UPLOADER, job.nowMs, deps.nextSeq());
    while (inputs.has(key));
    await deps.store.put(key, encodeIndexFile(job.tenant, job.table, series));
    result.outputKey = key;
  }
  if (expired.length > 0) await deps.marker.mark(expired, 'retention', job.table, job.tenant);
  if (deleted.length > 0) await deps.marker.mark(deleted, 'delete', job.table, job.tenant);
  for (const key of job.keys) await deps.store.delete(key);
  return result;
}

function sameLabels(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}
