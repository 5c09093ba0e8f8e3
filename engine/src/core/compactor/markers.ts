import { randomBytes } from 'node:crypto';
import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { Clock } from '../util/clock.js';

/** Why chunks were marked (recorded in the marker; the sweeper treats every reason alike). */
export type MarkReason = 'retention' | 'delete' | 'table-manager';

export const MARKERS_PREFIX = 'compactor/markers/';
const MARKER_FORMAT = 1;
/** Keys per marker object: keeps one marker small enough to read and rewrite cheaply. */
const MAX_KEYS_PER_MARKER = 10_000;
/** `<delete-after ms, 15 digits>-<16 hex>.json`: the zero padding makes key order the order of due times. */
const NAME = /^compactor\/markers\/(\d{15})-([0-9a-f]{16})\.json$/;

export interface Marker {
  key: string;
  deleteAfterMs: number;
  createdAtMs: number;
  reason: MarkReason;
  /** Where the chunks were unindexed, for operators reading the marker. */
  table: string;
  tenant: string;
  chunks: string[];
}

export function markerKey(deleteAfterMs: number, id: string): string {
  return `${MARKERS_PREFIX}${String(deleteAfterMs).padStart(15, '0')}-${id}.json`;
}

export function encodeMarker(m: Omit<Marker, 'key'>): Buffer {
  return Buffer.from(
    JSON.stringify({
      format: MARKER_FORMAT,
      created_at_ms: m.createdAtMs,
      delete_after_ms: m.deleteAfterMs,
      reason: m.reason,
      table: m.table,
      tenant: m.tenant,
      chunks: m.chunks,
    }) + '\n',
  );
}

export function decodeMarker(buf: Buffer, key: string): Marker {
  const bad = (why: string): Error => new Error(`corrupt marker ${key}: ${why}`);
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (d === null || typeof d !== 'object' || d.format !== MARKER_FORMAT) throw bad('not a format 1 marker');
  const chunks = d.chunks;
  if (!Array.isArray(chunks) || !chunks.every((c) => typeof c === 'string')) throw bad('chunks is not a list of keys');
  const num = (k: string): number => {
    if (typeof d[k] !== 'number') throw bad(`${k} is not a number`);
    return d[k];
  };
  return {
    key,
    deleteAfterMs: num('delete_after_ms'),
    createdAtMs: num('created_at_ms'),
    reason: d.reason as MarkReason,
    table: String(d.table ?? ''),
    tenant: String(d.tenant ?? ''),
    chunks: chunks as string[],
  };
}

export interface SweepResult {
  markers: number;
  chunks: number;
}

/**
 * Chunks waiting to be deleted. Marking writes small JSON objects under `compactor/markers/` naming the chunk keys
 * and the time after which they may go (`retention_delete_delay` from now), before the chunks leave the index;
 * sweeping deletes the chunks of every due marker with `workers` deletes in flight, then the marker. Both are
 * idempotent: a crash repeats deletes (deleting a missing object succeeds) or leaves a marker for the next sweep.
 * Markers live in the object store so that whichever compactor is active next finishes the job (ADR 0009).
 */
export class ChunkMarker {
  constructor(
    private readonly store: ObjectClient,
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly workers: number,
  ) {}

  /** Records `chunks` for deletion after the delay; one or more marker objects, written before returning. */
  async mark(chunks: readonly string[], reason: MarkReason, table: string, tenant: string): Promise<void> {
    const now = this.clock.now();
    const deleteAfterMs = now + this.delayMs;
    for (let i = 0; i < chunks.length; i += MAX_KEYS_PER_MARKER) {
      const part = chunks.slice(i, i + MAX_KEYS_PER_MARKER);
      const key = markerKey(deleteAfterMs, randomBytes(8).toString('hex'));
      await this.store.put(key, encodeMarker({ deleteAfterMs, createdAtMs: now, reason, table, tenant, chunks: part }));
    }
  }

  /** Markers not yet swept, due or not, oldest due time first. */
  async pending(): Promise<Array<{ key: string; deleteAfterMs: number }>> {
    const out: Array<{ key: string; deleteAfterMs: number }> = [];
    for (const o of await this.store.list(MARKERS_PREFIX)) {
      const m = NAME.exec(o.key);
      if (m !== null) out.push({ key: o.key, deleteAfterMs: Number(m[1]) });
    }
    return out;
  }

  async read(key: string): Promise<Marker | undefined> {
    try {
      return decodeMarker(await this.store.get(key), key);
    } catch (e) {
      if (isObjectNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Deletes the chunks of every due marker, then the marker. `stillActive` is asked between markers. */
  async sweep(stillActive: () => boolean | Promise<boolean> = () => true): Promise<SweepResult> {
    const now = this.clock.now();
    const result: SweepResult = { markers: 0, chunks: 0 };
    for (const p of await this.pending()) {
      if (p.deleteAfterMs > now) break; // sorted by due time
      if (!(await stillActive())) break;
      const m = await this.read(p.key);
      if (m !== undefined) {
        await this.deleteAll(m.chunks);
        result.chunks += m.chunks.length;
      }
      await this.store.delete(p.key);
      result.markers++;
    }
    return result;
  }

  private async deleteAll(keys: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) await this.store.delete(keys[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.workers, keys.length)) }, worker));
  }
}
