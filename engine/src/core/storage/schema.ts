import { NS_PER_MS } from '../model.js';
import { chunkKey, type ChunkRef } from './chunk-key.js';

/** What each version means on disk is in docs/schema-versions.md. */
export type SchemaVersion = 'v11' | 'v12' | 'v13';
export const SCHEMA_VERSIONS: readonly SchemaVersion[] = ['v11', 'v12', 'v13'];

/** One entry of Loki's `schema_config.configs`. */
export interface PeriodConfig {
  /** First day of the period, `YYYY-MM-DD`, UTC midnight. */
  from: string;
  /** Index store name (Loki: `tsdb`, `boltdb-shipper`); Strata has one index format and records the name only. */
  store: string;
  /** Which object store holds this period's chunks and index (`filesystem`, `s3`, or a named store). */
  objectStore: string;
  schema: SchemaVersion;
  /** Table name prefix, e.g. `index_`. */
  indexPrefix: string;
  /** Table length in milliseconds; a whole number of days (Loki requires 24h for tsdb). */
  indexPeriodMs: number;
}

/** A table of one period; `[start, end)` in nanoseconds is the part of the table's span inside the period. */
export interface TableSpan {
  table: string;
  period: PeriodConfig;
  start: bigint;
  end: bigint;
}

/** A period and the part of a queried range `[from, through]` (inclusive, nanoseconds) that falls in it. */
export interface PeriodSpan {
  period: PeriodConfig;
  from: bigint;
  through: bigint;
}

export const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const PREFIX = /^[A-Za-z0-9_.-]+$/;

/** Midnight UTC of `YYYY-MM-DD` in nanoseconds; throws on anything that is not a real calendar date. */
export function periodStartNs(from: string): bigint {
  const m = DATE.exec(from);
  if (!m) throw new Error(`schema period from ${JSON.stringify(from)}: want YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new Error(`schema period from ${JSON.stringify(from)}: not a calendar date`);
  }
  return BigInt(ms) * NS_PER_MS;
}

/** Chunk format written under a schema: v3 has no structured metadata, v4 has. */
export function chunkFormatFor(schema: SchemaVersion): 3 | 4 {
  return schema === 'v13' ? 4 : 3;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

interface Period {
  config: PeriodConfig;
  /** Inclusive start; the first period also answers for everything before it. */
  start: bigint;
  /** Exclusive end: the next period's start, or none. */
  end: bigint | undefined;
  tableNs: bigint;
}

/**
 * Loki's schema periods: which schema, index prefix and table length apply at a time. Tables are named
 * `<prefix><floor(unix seconds / period seconds)>`, as Loki names them, so `index_19700` spans 2023-12-09 UTC.
 */
export class SchemaConfig {
  readonly periods: readonly PeriodConfig[];
  private readonly spans: Period[];

  constructor(periods: PeriodConfig[]) {
    if (periods.length === 0) throw new Error('schema config: at least one period is required');
    const spans: Period[] = [];
    periods.forEach((p, i) => {
      const where = `schema config period ${i} (from ${p.from})`;
      const start = periodStartNs(p.from);
      if (!SCHEMA_VERSIONS.includes(p.schema)) {
        const supported = SCHEMA_VERSIONS.join(', ');
        throw new Error(`${where}: unsupported schema ${JSON.stringify(p.schema)}; supported: ${supported}`);
      }
      if (!p.store) throw new Error(`${where}: store is required`);
      if (!p.objectStore) throw new Error(`${where}: object_store is required`);
      if (!PREFIX.test(p.indexPrefix ?? '')) {
        throw new Error(`${where}: index prefix ${JSON.stringify(p.indexPrefix)} must be non-empty [A-Za-z0-9_.-]`);
      }
      if (!Number.isSafeInteger(p.indexPeriodMs) || p.indexPeriodMs <= 0 || p.indexPeriodMs % DAY_MS !== 0) {
        throw new Error(`${where}: index period ${p.indexPeriodMs} ms must be a positive multiple of 24h`);
      }
      const prev = spans[i - 1];
      if (prev && start <= prev.start) {
        throw new Error(
          `${where}: periods must be sorted by from, strictly increasing (previous from ${prev.config.from})`,
        );
      }
      if (prev) prev.end = start;
      const tableNs = BigInt(p.indexPeriodMs) * NS_PER_MS;
      spans.push({ config: Object.freeze({ ...p }), start, end: undefined, tableNs });
    });
    this.spans = spans;
    this.periods = spans.map((s) => s.config);
  }

  private spanFor(tsNs: bigint): Period {
    for (let i = this.spans.length - 1; i > 0; i--) {
      if (tsNs >= this.spans[i]!.start) return this.spans[i]!;
    }
    return this.spans[0]!;
  }

  /** The period in force at `tsNs`; a time before the first period belongs to the first period. */
  periodFor(tsNs: bigint): PeriodConfig {
    return this.spanFor(tsNs).config;
  }

  /** The index table holding `tsNs` (times before the epoch fall in table 0). */
  tableFor(tsNs: bigint): string {
    const s = this.spanFor(tsNs);
    return s.config.indexPrefix + floorDiv(tsNs < 0n ? 0n : tsNs, s.tableNs).toString();
  }

  /**
   * Every table overlapping `[fromNs, throughNs]` (both inclusive), in time order. A chunk is indexed in each
   * table this returns for its own range; a query reads each one. When a period boundary cuts a table and both
   * periods use the same prefix and length, that table appears once per period (callers dedupe by name).
   */
  tablesBetween(fromNs: bigint, throughNs: bigint): TableSpan[] {
    const out: TableSpan[] = [];
    for (const { period, from, through } of this.clip(fromNs, throughNs)) {
      const s = this.spans.find((x) => x.config === period)!;
      const lo = from < 0n ? 0n : from;
      const hi = through < 0n ? 0n : through;
      for (let n = floorDiv(lo, s.tableNs), last = floorDiv(hi, s.tableNs); n <= last; n++) {
        const tStart = n * s.tableNs;
        const tEnd = tStart + s.tableNs;
        out.push({
          table: period.indexPrefix + n.toString(),
          period,
          start: s === this.spans[0] || tStart >= s.start ? tStart : s.start,
          end: s.end !== undefined && s.end < tEnd ? s.end : tEnd,
        });
      }
    }
    return out;
  }

  /** The periods overlapping `[fromNs, throughNs]`, each with the part of the range inside it. */
  periodsBetween(fromNs: bigint, throughNs: bigint): PeriodSpan[] {
    return this.clip(fromNs, throughNs);
  }

  private clip(fromNs: bigint, throughNs: bigint): PeriodSpan[] {
    const out: PeriodSpan[] = [];
    if (throughNs < fromNs) return out;
    this.spans.forEach((s, i) => {
      const lo = i === 0 || fromNs > s.start ? fromNs : s.start;
      const hi = s.end === undefined || throughNs < s.end ? throughNs : s.end - 1n;
      if (lo <= hi) out.push({ period: s.config, from: lo, through: hi });
    });
    return out;
  }

  /** The object key of a chunk: the layout comes from the period of the chunk's first entry, as in Loki. */
  chunkKey(ref: ChunkRef): string {
    return chunkKey(ref, this.periodFor(ref.from).schema);
  }
}
