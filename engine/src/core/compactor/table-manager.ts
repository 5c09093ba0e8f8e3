import { decodeIndexFile, parseIndexFileKey } from '../index/index-file.js';
import { NS_PER_MS } from '../model.js';
import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { formatTs } from '../util/time.js';
import type { ChunkMarker } from './markers.js';
import type { CompactorMetrics } from './metrics.js';
import { tableRange } from './tables.js';

const DAY_MS = 86_400_000;
export const TABLES_PREFIX = 'tables/';
const TABLE_KEY = /^tables\/([A-Za-z0-9_.-]+)\.json$/;

export interface TableManagerOptions {
  store: ObjectClient;
  schema: SchemaConfig;
  clock: Clock;
  /** `table_manager.retention_deletes_enabled`. */
  retentionDeletesEnabled: boolean;
  /** `table_manager.retention_period` (ms; 0 keeps every table). */
  retentionPeriodMs: number;
  /** `table_manager.creation_grace_period` (ms): how long before its start a table is created. */
  creationGracePeriodMs: number;
  /** Where the chunks of deleted tables are marked (the compactor's sweeper deletes them after its delay). */
  marker: ChunkMarker;
  metrics?: CompactorMetrics;
  logger?: Logger;
}

export interface TableSyncResult {
  created: string[];
  deleted: string[];
}

/**
 * The one check of `table_manager.retention_period` (config validation and the table manager share it): with
 * deletes enabled, a non-zero period must be a whole number of days and of the table period in force at `nowMs`
 * (Loki validates against the newest period). Returns the message, or undefined when the value is fine.
 */
export function tableRetentionProblem(
  retentionDeletesEnabled: boolean,
  retentionPeriodMs: number,
  tablePeriodMs: number,
  describe: (ms: number) => string = (ms) => `${ms / 3_600_000}h`,
): string | undefined {
  if (!retentionDeletesEnabled || retentionPeriodMs === 0) return undefined;
  if (retentionPeriodMs < 0 || retentionPeriodMs % DAY_MS !== 0) {
    return `table_manager.retention_period must be a multiple of 24h, got ${describe(retentionPeriodMs)}`;
  }
  if (tablePeriodMs % DAY_MS !== 0 || retentionPeriodMs % tablePeriodMs !== 0) {
    return (
      `table_manager.retention_period ${describe(retentionPeriodMs)}: retention period should now be a multiple of periodic table ` +
      `duration (the schema's index period is ${describe(tablePeriodMs)})`
    );
  }
  return undefined;
}

/**
 * Loki's table manager for Strata's periodic tables (`index/<table>/…`). Every sync:
 *  - creates the table in force now and every table starting within `creation_grace_period` (a descriptor object
 *    `tables/<table>.json`; tables of the past exist through their data and are not back-filled);
 *  - with `retention_deletes_enabled` and a `retention_period`, keeps the newest floor(retention / table period) + 1
 *    tables up to the current one and deletes older ones whole: their index files, their descriptor, and (marked for
 *    the sweeper) the chunks no kept table indexes.
 */
export class TableManager {
  constructor(private readonly opts: TableManagerOptions) {
    const problem = tableRetentionProblem(opts.retentionDeletesEnabled, opts.retentionPeriodMs, this.tablePeriodMs(opts.clock.now()));
    if (problem !== undefined) throw new Error(problem);
  }

  private tablePeriodMs(nowMs: number): number {
    return this.opts.schema.periodFor(BigInt(nowMs) * NS_PER_MS).indexPeriodMs;
  }

  /** How many tables are kept (0 = all): floor(retention / table period) + 1, as Loki documents. */
  tablesToKeep(nowMs = this.opts.clock.now()): number {
    const o = this.opts;
    if (!o.retentionDeletesEnabled || o.retentionPeriodMs === 0) return 0;
    return Math.floor(o.retentionPeriodMs / this.tablePeriodMs(nowMs)) + 1;
  }

  /** The tables that must exist at `nowMs`: the current one and those starting within the grace period. */
  expectedTables(nowMs = this.opts.clock.now()): string[] {
    const now = BigInt(nowMs) * NS_PER_MS;
    const spans = this.opts.schema.tablesBetween(now, now + BigInt(this.opts.creationGracePeriodMs) * NS_PER_MS);
    return [...new Set(spans.map((t) => t.table))];
  }

  /** Every table that exists: created ahead (descriptor) or holding index files. Sorted by start time. */
  async listTables(): Promise<string[]> {
    const names = new Set<string>();
    for (const o of await this.opts.store.list(TABLES_PREFIX)) {
      const m = TABLE_KEY.exec(o.key);
      if (m !== null) names.add(m[1]!);
    }
    for (const o of await this.opts.store.list('index/')) {
      const k = parseIndexFileKey(o.key);
      if (k !== undefined) names.add(k.table);
    }
    return this.sortByStart([...names]);
  }

  private sortByStart(names: string[]): string[] {
    const start = (n: string): bigint => tableRange(this.opts.schema, n)?.start ?? -1n;
    return names.sort((a, b) => {
      const x = start(a);
      const y = start(b);
      return x !== y ? (x < y ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0;
    });
  }

  /** One reconciliation: create what is due, delete what is past retention. */
  async sync(): Promise<TableSyncResult> {
    const o = this.opts;
    const nowMs = o.clock.now();
    const result: TableSyncResult = { created: [], deleted: [] };
    const described = new Set<string>();
    for (const x of await o.store.list(TABLES_PREFIX)) {
      const m = TABLE_KEY.exec(x.key);
      if (m !== null) described.add(m[1]!);
    }
    for (const table of this.expectedTables(nowMs)) {
      if (described.has(table)) continue;
      await o.store.put(`${TABLES_PREFIX}${table}.json`, this.descriptor(table, nowMs));
      result.created.push(table);
      o.metrics?.tablesCreated.inc();
    }

    const keep = this.tablesToKeep(nowMs);
    if (keep === 0) return result;
    const tableNs = BigInt(this.tablePeriodMs(nowMs)) * NS_PER_MS;
    const nowNs = BigInt(nowMs) * NS_PER_MS;
    // Start of the oldest table kept: the current table and keep − 1 before it.
    const cutoffNs = (nowNs / tableNs - BigInt(keep - 1)) * tableNs;
    const byTable = new Map<string, string[]>();
    for (const x of await o.store.list('index/')) {
      const k = parseIndexFileKey(x.key);
      if (k === undefined) continue;
      let keys = byTable.get(k.table);
      if (keys === undefined) byTable.set(k.table, (keys = []));
      keys.push(x.key);
    }
    for (const table of this.sortByStart([...new Set([...described, ...byTable.keys()])])) {
      const range = tableRange(o.schema, table);
      if (range === undefined || range.end > cutoffNs) continue;
      await this.deleteTable(table, byTable.get(table) ?? [], cutoffNs);
      result.deleted.push(table);
      o.metrics?.tablesDeleted.inc();
    }
    if (result.deleted.length > 0) o.logger?.info('deleted tables past the retention period', { tables: result.deleted.join(',') });
    return result;
  }

  /**
   * Marks the chunks that only deleted tables index (every table a chunk overlaps ends at or before the cutoff),
   * then removes the index files and the descriptor. A crash in between leaves index files the next sync deletes.
   */
  private async deleteTable(table: string, keys: readonly string[], cutoffNs: bigint): Promise<void> {
    const o = this.opts;
    const byTenant = new Map<string, Set<string>>();
    for (const key of keys) {
      let buf: Buffer;
      try {
        buf = await o.store.get(key);
      } catch (e) {
        if (isObjectNotFound(e)) continue;
        throw e;
      }
      const f = decodeIndexFile(buf, key);
      let set = byTenant.get(f.tenant);
      if (set === undefined) byTenant.set(f.tenant, (set = new Set()));
      for (const s of f.series) {
        for (const c of s.chunks) {
          const last = o.schema.tablesBetween(c.through, c.through);
          if (last.every((t) => t.end <= cutoffNs)) set.add(o.schema.chunkKey(c));
        }
      }
    }
    for (const [tenant, chunks] of byTenant) if (chunks.size > 0) await o.marker.mark([...chunks], 'table-manager', table, tenant);
    for (const key of keys) await o.store.delete(key);
    await o.store.delete(`${TABLES_PREFIX}${table}.json`);
  }

  private descriptor(table: string, nowMs: number): Buffer {
    const r = tableRange(this.opts.schema, table);
    const doc = {
      format: 1,
      table,
      start: r === undefined ? null : formatTs(r.start),
      end: r === undefined ? null : formatTs(r.end),
      created_at_ms: nowMs,
    };
    return Buffer.from(JSON.stringify(doc) + '\n');
  }
}
