import { NS_PER_MS } from '../model.js';
import type { SchemaConfig } from '../storage/schema.js';

export interface TableRange {
  /** Inclusive, ns. */
  start: bigint;
  /** Exclusive, ns. */
  end: bigint;
}

/**
 * The time a table name covers under the schema (its `<prefix><number>` span, clipped to the periods that use it),
 * or undefined for a name no period produces. Several periods sharing a prefix give the union of their parts.
 */
export function tableRange(schema: SchemaConfig, name: string): TableRange | undefined {
  let out: TableRange | undefined;
  const seen = new Set<string>();
  for (const p of schema.periods) {
    if (!name.startsWith(p.indexPrefix)) continue;
    const digits = name.slice(p.indexPrefix.length);
    if (!/^\d{1,12}$/.test(digits)) continue;
    const tableNs = BigInt(p.indexPeriodMs) * NS_PER_MS;
    const key = `${p.indexPrefix}/${tableNs}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const start = BigInt(digits) * tableNs;
    for (const t of schema.tablesBetween(start, start + tableNs - 1n)) {
      if (t.table !== name) continue;
      if (out === undefined) out = { start: t.start, end: t.end };
      else {
        if (t.start < out.start) out.start = t.start;
        if (t.end > out.end) out.end = t.end;
      }
    }
  }
  return out;
}

/** `index/<table>/<tenant>/…` keys grouped by table, then tenant (only well-formed index file keys). */
export type IndexListing = Map<string, Map<string, string[]>>;
