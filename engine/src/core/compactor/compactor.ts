import { hostname } from 'node:os';
import type { Config } from '../config/config-schema.js';
import { parseIndexFileKey } from '../index/index-file.js';
import type { Limits } from '../limits/limits.js';
import type { EngineMetrics } from '../metrics.js';
import { NS_PER_MS } from '../model.js';
import type { ObjectClient } from '../storage/object-client.js';
import type { SchemaConfig } from '../storage/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { ChunkRewriter } from './chunk-rewriter.js';
import { ActiveDelete, DeleteRequestStore } from './delete-requests.js';
import { ObjectStoreLease, type CompactorLock } from './lease.js';
import { ChunkMarker, type SweepResult } from './markers.js';
import { CompactorMetrics } from './metrics.js';
import { RetentionReadFilter } from './read-filter.js';
import { retentionOf } from './retention.js';
import { compactTable } from './table-compactor.js';
import { TableManager, type TableSyncResult } from './table-manager.js';
import { tableRange, type IndexListing } from './tables.js';

export interface CompactorOptions {
  store: ObjectClient;
  schema: SchemaConfig;
  /** A tenant's effective limits (runtime overrides included, reloaded live). */
  limits: (tenant: string) => Readonly<Limits>;
  /** Loki's `compactor` block (milliseconds for durations). */
  compactor: Config['compactor'];
  /** Loki's `table_manager` block. */
  tableManager: Config['table_manager'];
  /** Block size of chunks rewritten for delete requests (the ingester's `chunk_block_size`). */
  chunkBlockSize: number;
  clock: Clock;
  logger: Logger;
  metrics?: CompactorMetrics;
  /** Who this instance is for the lease (default: the hostname). */
  instanceId?: string;
  /** Replaces the object-store lease (e.g. by ring ownership). */
  lock?: CompactorLock;
  leaseTtlMs?: number;
  /** See ObjectStoreLeaseOptions.settleMs. */
  leaseSettleMs?: number;
  /** How often the lease is renewed, or taken over when its holder is gone (real ms). */
  heartbeatMs?: number;
  /** How long another process's delete requests may take to reach this process's queries (ms). */
  deleteCacheTtlMs?: number;
}

/** What one run did (all zero and `active: false` on an idle instance). */
export interface CompactionRun {
  active: boolean;
  /** Table+tenant pairs rewritten. */
  tablesCompacted: number;
  filesIn: number;
  filesOut: number;
  /** Index entries (chunk references) in the files written. */
  indexEntries: number;
  expiredChunks: number;
  deletedChunks: number;
  rewrittenChunks: number;
  linesDeleted: number;
  requestsProcessed: number;
  failures: number;
  swept: SweepResult;
  durationMs: number;
}

const emptyRun = (): CompactionRun => ({
  active: false,
  tablesCompacted: 0,
  filesIn: 0,
  filesOut: 0,
  indexEntries: 0,
  expiredChunks: 0,
  deletedChunks: 0,
  rewrittenChunks: 0,
  linesDeleted: 0,
  requestsProcessed: 0,
  failures: 0,
  swept: { markers: 0, chunks: 0 },
  durationMs: 0,
});

/**
 * Loki's compactor for Strata's store. Only the lock holder acts; on every `compaction_interval` it:
 *  1. merges each tenant's index files of each period table into one file (atomic and idempotent, see
 *     table-compactor.ts), applying on the way
 *  2. retention (when `retention_enabled`; every run, or every `apply_retention_interval`): chunks past their stream's
 *     retention leave the index and are marked,
 *  3. delete requests of `filter-and-delete` tenants past `delete_request_cancel_period`: chunks are rewritten
 *     without the deleted lines, the originals marked; the requests become `processed`,
 *  4. sweeps: chunks marked at least `retention_delete_delay` ago are deleted with `retention_delete_worker_count`
 *     workers.
 * The table manager runs on its own `poll_interval`. Queries hide expired and deleted entries at once through
 * `readFilter`, long before the compactor reaches them.
 */
export class Compactor {
  readonly deletes: DeleteRequestStore;
  readonly readFilter: RetentionReadFilter;
  readonly marker: ChunkMarker;
  readonly tableManager: TableManager;
  readonly lock: CompactorLock;
  readonly instanceId: string;
  readonly metrics: CompactorMetrics | undefined;
  /** Whether this instance held the lock at its last check. */
  active = false;
  private readonly logger: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private seq = 0;
  private lastRetentionMs: number | undefined;

  constructor(private readonly opts: CompactorOptions) {
    const c = opts.compactor;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.instanceId = opts.instanceId ?? hostname();
    this.lock =
      opts.lock ??
      new ObjectStoreLease(opts.store, opts.clock, { holder: this.instanceId, ttlMs: opts.leaseTtlMs, settleMs: opts.leaseSettleMs });
    this.deletes = new DeleteRequestStore(opts.store, opts.clock, { cacheTtlMs: opts.deleteCacheTtlMs });
    this.marker = new ChunkMarker(opts.store, opts.clock, c.retention_delete_delay, c.retention_delete_worker_count);
    this.readFilter = new RetentionReadFilter({
      retentionEnabled: c.retention_enabled,
      limits: opts.limits,
      deletes: this.deletes,
      clock: opts.clock,
    });
    const tm = opts.tableManager;
    this.tableManager = new TableManager({
      store: opts.store,
      schema: opts.schema,
      clock: opts.clock,
      retentionDeletesEnabled: tm.retention_deletes_enabled,
      retentionPeriodMs: tm.retention_period,
      creationGracePeriodMs: tm.creation_grace_period,
      marker: this.marker,
      metrics: opts.metrics,
      logger: opts.logger,
    });
  }

  /** Runs a table sync and a compaction now, then each on its interval, and renews (or waits for) the lease. */
  start(): void {
    if (this.timers.length > 0 || this.stopped) return;
    const every = (ms: number, f: () => Promise<unknown>): void => {
      if (!(ms > 0)) return;
      const t = setInterval(() => void f().catch((err: unknown) => this.logger.error('compactor task failed', { err })), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.heartbeatMs ?? 15_000, () => this.exclusive(() => this.checkLock()));
    every(this.opts.compactor.compaction_interval, () => this.runOnce());
    every(this.opts.tableManager.poll_interval, () => this.syncTables());
    // Both queued now, so anything asked of the compactor after start() runs after them.
    const failed = (err: unknown): void => {
      if (!this.stopped) this.logger.error('compactor task failed', { err });
    };
    this.syncTables().catch(failed);
    this.runOnce().catch(failed);
  }

  /**
   * Stops the timers and gives the lease up at once (so another instance can take over), then waits for the task in
   * progress: it stops at its next lease check, after the table it is on (every step is safe to interrupt).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.active = false;
    this.metrics?.running.set(0);
    await this.lock.release().catch((err: unknown) => this.logger.warn('failed to release the compactor lease', { err }));
    await this.queue;
  }

  /** One compaction/retention/delete/sweep pass (serialised with every other task of this compactor). */
  runOnce(): Promise<CompactionRun> {
    return this.exclusive(() => this.run());
  }

  /** One table-manager reconciliation, if this instance holds the lock. */
  syncTables(): Promise<TableSyncResult | undefined> {
    return this.exclusive(async () => ((await this.checkLock()) ? this.tableManager.sync() : undefined));
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(() => (this.stopped ? Promise.reject(new Error('compactor stopped')) : f()));
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async checkLock(): Promise<boolean> {
    if (this.stopped) return false;
    let held: boolean;
    try {
      held = await this.lock.acquire();
    } catch (err) {
      this.logger.warn('compactor lease check failed', { err });
      held = false;
    }
    if (this.stopped) return false;
    if (held !== this.active) this.logger.info(held ? 'this instance is now the active compactor' : 'another instance is the active compactor');
    this.active = held;
    this.metrics?.running.set(held ? 1 : 0);
    return held;
  }

  private async run(): Promise<CompactionRun> {
    const started = performance.now();
    const res = emptyRun();
    if (!(await this.checkLock())) return res;
    res.active = true;
    const o = this.opts;
    const c = o.compactor;
    const nowMs = o.clock.now();
    const nowNs = BigInt(nowMs) * NS_PER_MS;
    const applyRetention =
      c.retention_enabled &&
      (c.apply_retention_interval === 0 || this.lastRetentionMs === undefined || nowMs - this.lastRetentionMs >= c.apply_retention_interval);
    const deletes = c.retention_enabled ? await this.eligibleDeletes(nowMs) : new Map<string, ActiveDelete[]>();
    const listing = await this.listIndex();
    const rewriter = new ChunkRewriter(o.store, o.schema, { blockSize: o.chunkBlockSize });
    const failed = new Set<string>();
    let lost = false;

    outer: for (const [table, tenants] of listing) {
      const range = tableRange(o.schema, table);
      for (const [tenant, keys] of tenants) {
        const retention = applyRetention ? retentionOf(o.limits(tenant)) : undefined;
        // A chunk indexed in a table ends at or after the table's start: a table newer than the shortest retention
        // holds nothing expired.
        const useRetention =
          retention !== undefined &&
          !retention.keepsForever &&
          (range === undefined || range.start < nowNs - BigInt(retention.shortestMs) * NS_PER_MS)
            ? retention
            : undefined;
        const tenantDeletes = deletes.get(tenant) ?? [];
        if (keys.length <= 1 && useRetention === undefined && tenantDeletes.length === 0) continue;
        if (!(await this.checkLock())) {
          lost = true;
          break outer;
        }
        try {
          const r = await compactTable(
            { table, tenant, keys, range, retention: useRetention, deletes: tenantDeletes, nowMs },
            { store: o.store, schema: o.schema, marker: this.marker, rewriter, nextSeq: () => this.seq++ },
          );
          this.metrics?.compactTablesOps.inc({ status: 'success' });
          if (!r.rewritten) continue;
          res.tablesCompacted++;
          res.filesIn += r.filesIn;
          if (r.outputKey !== undefined) res.filesOut++;
          res.indexEntries += r.chunks;
          res.expiredChunks += r.expired;
          res.deletedChunks += r.deleted;
          res.rewrittenChunks += r.rewrittenChunks;
          res.linesDeleted += r.linesDeleted;
          if (r.expired > 0) this.metrics?.markedChunks.inc({ reason: 'retention' }, r.expired);
          if (r.deleted > 0) this.metrics?.markedChunks.inc({ reason: 'delete' }, r.deleted);
          if (r.linesDeleted > 0) this.metrics?.deletedLines.inc({ user: tenant }, r.linesDeleted);
        } catch (err) {
          // Leave the table as it is (still correct: nothing was deleted before its replacement was written) and
          // retry on the next run; the tenant's delete requests stay unprocessed until every table succeeded.
          res.failures++;
          failed.add(tenant);
          this.metrics?.compactTablesOps.inc({ status: 'failure' });
          this.logger.error('failed to compact table', { table, tenant, err });
        }
      }
    }

    if (!lost) {
      for (const [tenant, ds] of deletes) {
        if (failed.has(tenant)) continue;
        for (const d of ds) {
          if (!(await this.deletes.markProcessed(d.request))) continue;
          res.requestsProcessed++;
          this.metrics?.deleteRequestsProcessed.inc({ user: tenant });
          this.logger.info('delete request processed', { tenant, request_id: d.request.requestId });
        }
      }
      if (res.failures === 0) {
        this.metrics?.lastSuccessfulRun.set(nowMs / 1000);
        if (applyRetention) {
          this.lastRetentionMs = nowMs;
          this.metrics?.retentionLastSuccessfulRun.set(nowMs / 1000);
        }
      }
      res.swept = await this.sweep();
    }
    res.durationMs = performance.now() - started;
    if (res.tablesCompacted > 0 || res.swept.chunks > 0 || res.failures > 0) {
      this.logger.info('compaction run finished', {
        tables: res.tablesCompacted,
        files_in: res.filesIn,
        files_out: res.filesOut,
        expired_chunks: res.expiredChunks,
        deleted_chunks: res.deletedChunks,
        swept_chunks: res.swept.chunks,
        failures: res.failures,
        duration_ms: Math.round(res.durationMs),
      });
    }
    return res;
  }

  /** Deletes the chunks of due markers (the sweeper); only while this instance holds the lock. */
  private async sweep(): Promise<SweepResult> {
    const r = await this.marker.sweep(() => this.checkLock());
    if (r.chunks > 0) this.metrics?.sweptChunks.inc(r.chunks);
    if (this.metrics !== undefined) this.metrics.markerFiles.set((await this.marker.pending()).length);
    return r;
  }

  /**
   * Requests to carry out now, by tenant: `received`, older than `delete_request_cancel_period`, of tenants in
   * `filter-and-delete` mode; at most `delete_batch_size` per run, oldest first.
   */
  private async eligibleDeletes(nowMs: number): Promise<Map<string, ActiveDelete[]>> {
    const c = this.opts.compactor;
    const all: ActiveDelete[] = [];
    for (const tenant of await this.deletes.tenants()) {
      if (this.opts.limits(tenant).deletion_mode !== 'filter-and-delete') continue;
      for (const r of await this.deletes.list(tenant, true)) {
        if (r.status !== 'received' || r.createdAtMs + c.delete_request_cancel_period > nowMs) continue;
        try {
          all.push(new ActiveDelete(r));
        } catch (err) {
          this.logger.warn('skipping a delete request whose query does not parse', { tenant, request_id: r.requestId, err });
        }
      }
    }
    all.sort((a, b) => a.request.createdAtMs - b.request.createdAtMs);
    const out = new Map<string, ActiveDelete[]>();
    for (const d of all.slice(0, Math.max(1, c.delete_batch_size))) {
      const list = out.get(d.request.tenant);
      if (list === undefined) out.set(d.request.tenant, [d]);
      else list.push(d);
    }
    return out;
  }

  /** Every index file, by table (oldest first) and tenant. */
  private async listIndex(): Promise<IndexListing> {
    const byTable: IndexListing = new Map();
    for (const o of await this.opts.store.list('index/')) {
      const k = parseIndexFileKey(o.key);
      if (k === undefined) continue;
      let tenants = byTable.get(k.table);
      if (tenants === undefined) byTable.set(k.table, (tenants = new Map()));
      let keys = tenants.get(k.tenant);
      if (keys === undefined) tenants.set(k.tenant, (keys = []));
      keys.push(o.key);
    }
    const start = (t: string): bigint => tableRange(this.opts.schema, t)?.start ?? -1n;
    return new Map([...byTable].sort(([a], [b]) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : a < b ? -1 : 1)));
  }
}

export interface BuildCompactorDeps {
  store: ObjectClient;
  schema: SchemaConfig;
  limits: (tenant: string) => Readonly<Limits>;
  clock: Clock;
  logger: Logger;
  metrics?: EngineMetrics;
}

/** The engine's compactor from its config: the instance ID is `common.ring.instance_id`, else the hostname. */
export function buildCompactor(config: Config, deps: BuildCompactorDeps): Compactor {
  return new Compactor({
    store: deps.store,
    schema: deps.schema,
    limits: deps.limits,
    compactor: config.compactor,
    tableManager: config.table_manager,
    chunkBlockSize: config.ingester.chunk_block_size,
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics === undefined ? undefined : new CompactorMetrics(deps.metrics.registry),
    instanceId: config.common.ring.instance_id || hostname(),
  });
}

/**
 * Query-time retention and deletes for a querier that runs without the compactor (distributed mode): its own view
 * of the delete requests in the store, refreshed every minute.
 */
export function buildReadFilter(config: Config, deps: Omit<BuildCompactorDeps, 'logger'>): RetentionReadFilter {
  return new RetentionReadFilter({
    retentionEnabled: config.compactor.retention_enabled,
    limits: deps.limits,
    deletes: new DeleteRequestStore(deps.store, deps.clock),
    clock: deps.clock,
  });
}
