import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { COMPONENTS, KNOWN_TARGETS, type Config } from './config/config.js';
import { EngineError } from './errors.js';
import { Distributor, type PushTarget } from './distributor/distributor.js';
import { IndexGatewayClient, registerIndexGatewayMethods, type IndexSource } from './index/index-gateway.js';
import { IndexReader } from './index/index-reader.js';
import { ChunkFlusher } from './ingester/flusher.js';
import { Ingester } from './ingester/ingester.js';
import { IngesterClient, registerIngesterMethods } from './ingester/ingester-rpc.js';
import { localIngesterReader, type IngesterReader } from './ingester/memory-stream.js';
import type { Limits } from './limits/limits.js';
import { Overrides, RuntimeConfigWatcher } from './config/runtime-config.js';
import { EngineMetrics } from './metrics.js';
import { Querier } from './querier/querier.js';
import { RemoteIngesters } from './querier/remote-ingesters.js';
import { queryLimits } from './querier/multi-tenant.js';
import { LocalDownstream } from './frontend/local-downstream.js';
import { QueryFrontend } from './frontend/query-frontend.js';
import { indexShardCount } from './frontend/shard-factor.js';
import { RemoteQuerierDownstream, registerQuerierMethods } from './frontend/querier-rpc.js';
import { ResultsCache } from './frontend/results-cache.js';
import type { Downstream, DownstreamRequest, DownstreamResponse } from './frontend/types.js';
import { QueryScheduler } from './scheduler/query-scheduler.js';
import { QuerierWorker, SchedulerDownstream, type SubQueryScheduler } from './scheduler/scheduler-downstream.js';
import { RemoteSchedulerDownstream, RemoteWorkSource, SchedulerService } from './scheduler/scheduler-rpc.js';
import { RpcClient } from './rpc/client.js';
import { RpcServer } from './rpc/server.js';
import { objectClientFromOptions } from './storage/from-config.js';
import type { ObjectClient } from './storage/object-client.js';
import { SchemaConfig } from './storage/schema.js';
import { RemoteTailSource } from './tail/remote-tail-source.js';
import { TailFeed } from './tail/tail-feed.js';
import { TailManager } from './tail/tail-manager.js';
import { systemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';
import { Wal } from './wal/wal.js';
import { resolveStorage, schemaPeriods } from './config/storage-options.js';
import { IngesterRingClient, type IngesterRingHandle } from './ingester/ingester-ring.js';
import type { RingStatus } from './ring/ring.js';
import { buildCompactor, buildReadFilter, type Compactor } from './compactor/compactor.js'; // compactor (ADR 0009)


export { COMPONENTS };
export type Component = (typeof COMPONENTS)[number];

/** Loki's groups: `all` runs everything in one process; `read`, `write` and `backend` are the simple-scalable mode. */
const GROUPS: Readonly<Record<string, readonly Component[]>> = {
  all: COMPONENTS,
  write: ['distributor', 'ingester'],
  read: ['querier', 'query-frontend'],
  backend: ['query-scheduler', 'index-gateway', 'compactor', 'ruler'],
};

/** The components of a target (a name, a group, or a comma-separated list of them). */
export function componentsOf(target: string): Set<Component> {
  const out = new Set<Component>();
  for (const part of target.split(',').map((t) => t.trim())) {
    const group = GROUPS[part];
    if (group) for (const c of group) out.add(c);
    else if ((COMPONENTS as readonly string[]).includes(part)) out.add(part as Component);
    else throw new Error(`unrecognised module name: ${JSON.stringify(part)} (known: ${KNOWN_TARGETS.join(', ')})`);
  }
  return out;
}

/** What a target runs, as Loki's `/services` lists its modules (supporting services first). */
export function servicesFor(target: string): string[] {
  const c = componentsOf(target);
  const out = ['server', 'runtime-config', 'overrides'];
  if (c.has('distributor') || c.has('ingester') || c.has('querier') || c.has('query-frontend')) out.push('ring');
  if (c.has('ingester') || c.has('querier') || c.has('query-frontend') || c.has('index-gateway') || c.has('compactor')) out.push('store');
  for (const name of COMPONENTS) if (c.has(name)) out.push(name);
  return out;
}

export type EngineState = 'Starting' | 'Running' | 'Stopping' | 'Terminated';

export interface EngineDeps {
  clock?: Clock;
  logger: Logger;
  metrics?: EngineMetrics;
  /** Overrides the object client built from the config (tests inject a failing one). */
  store?: ObjectClient;
}

/**
 * Builds the components of the configured target from a validated config. Framework-free: the NestJS shell only
 * routes HTTP requests to these objects and drives start/stop. In the single binary (`all`) components call each
 * other directly; otherwise they reach each other through the ring and the internal protocol
 * (docs/internal-protocol.md), and this process serves its own components' internal methods on `rpc`.
 */
export class Engine {
  readonly metrics: EngineMetrics;
  readonly overrides: Overrides;
  readonly schema: SchemaConfig;
  readonly components: ReadonlySet<Component>;
  /** The internal methods this process serves (`POST /internal/v1/<method>`). */
  readonly rpc = new RpcServer();
  readonly clock: Clock;
  readonly logger: Logger;
  state: EngineState = 'Starting';
  stateReason = 'Starting';
  private _store: ObjectClient | undefined;
  private _ingester: Ingester | undefined;
  private _distributor: Distributor | undefined;
  private _querier: Querier | undefined;
  private _tail: TailManager | undefined;
  private _index: IndexReader | undefined;
  private _indexSource: IndexSource | undefined;
  private _ingesterReader: IngesterReader | undefined;
  private _compactor: Compactor | undefined; // compactor (ADR 0009)
  /** The ingester ring: this ingester's lifecycler and/or the client distributors and queriers use. */
  private ring: IngesterRingHandle | undefined;
  /** The query-frontend (distributed targets that run it): splits, shards, caches and sends sub-queries on. */
  readonly frontend: QueryFrontend | undefined;
  /** The query-scheduler: per-tenant queues that queriers pull sub-queries from. */
  readonly scheduler: SubQueryScheduler | undefined;
  private schedulerService: SchedulerService | undefined;
  /** An ingester's live entries for tails served by other processes. */
  private tailFeed: TailFeed | undefined;
  private workers: { worker: QuerierWorker; source?: RemoteWorkSource } | undefined;
  private readonly rpcClient: RpcClient;
  private wal: Wal | undefined;
  private runtimeWatcher: RuntimeConfigWatcher | undefined;
  private readonly walDir: string | undefined;

  constructor(
    readonly config: Config,
    /** A component, a group (`all`, `read`, `write`, `backend`) or a comma-separated list of them. */
    readonly target: string,
    deps: EngineDeps,
    private readonly runtimeConfigFile?: string,
  ) {
    this.components = componentsOf(target);
    const has = (c: Component): boolean => this.components.has(c);
    const single = target === 'all';
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger;
    this.metrics = deps.metrics ?? new EngineMetrics({ defaultMetrics: true });
    this.overrides = new Overrides(config.limits_config);
    this.schema = new SchemaConfig(schemaPeriods(config));
    this.rpcClient = new RpcClient({ timeoutMs: config.ingester_client.remote_timeout });
    const limits = (tenant: string): Limits => this.overrides.forTenant(tenant);
    const needsStore = has('ingester') || has('querier') || has('query-frontend') || has('index-gateway') || has('compactor');
    if (needsStore || deps.store) {
      const stores = new Set(config.schema_config.configs.map((p) => (p.object_store === 'aws' ? 's3' : p.object_store)));
      if (stores.size > 1) {
        throw new Error(
          `schema_config.configs: periods use different object_store values (${[...stores].join(', ')}); one object store for all periods is supported`,
        );
      }
      this._store = deps.store ?? objectClientFromOptions(resolveStorage(config));
    }
    const ing = config.ingester;
    this.walDir = has('ingester') && ing.wal.enabled ? resolve(ing.wal.dir || join(config.common.path_prefix || '.', 'wal')) : undefined;

    if (!single && (has('distributor') || has('ingester') || has('querier') || has('query-frontend'))) {
      this.ring = new IngesterRingClient({
        config,
        lifecycle: has('ingester'),
        instanceAddr: `${hostAddress(config)}:${config.server.http_listen_port}`,
        clock: this.clock,
        logger: this.logger.with({ component: 'ring' }),
      });
    }

    if (has('ingester')) {
      const flusher = new ChunkFlusher({
        store: this.store,
        schema: this.schema,
        uploaderId: ing.lifecycler.id || 'ingester-0',
        concurrency: ing.concurrent_flushes,
        timeoutMs: ing.flush_op_timeout,
        logger: this.logger.with({ component: 'flusher' }),
        metrics: this.metrics,
      });
      // The WAL is opened in start() (after the replay it needs) and handed to the ingester then.
      this._ingester = new Ingester({
        chunk: { encoding: ing.chunk_encoding, blockSize: ing.chunk_block_size, targetSize: ing.chunk_target_size },
        maxChunkAgeMs: ing.max_chunk_age,
        chunkIdlePeriodMs: ing.chunk_idle_period,
        chunkRetainPeriodMs: ing.chunk_retain_period,
        flushCheckPeriodMs: ing.flush_check_period,
        checkpointIntervalMs: ing.wal.checkpoint_duration,
        schema: this.schema,
        limits,
        flusher,
        clock: this.clock,
        logger: this.logger.with({ component: 'ingester' }),
        metrics: this.metrics,
      });
      if (!single) {
        registerIngesterMethods(this.rpc, this._ingester);
        this.tailFeed = new TailFeed(this._ingester, { clock: this.clock });
        this.tailFeed.register(this.rpc);
      }
    }

    if (has('distributor')) {
      const target: PushTarget = single ? this.ingester : this.ring!.pushTarget(new IngesterClient(this.rpcClient));
      this._distributor = new Distributor({
        limits,
        target,
        metadataAllowedAt: (ts) => this.schema.periodFor(ts).schema === 'v13',
        clock: this.clock,
        metrics: this.metrics,
      });
    }

    if (has('querier') || has('index-gateway')) {
      this._index = new IndexReader(this.store, this.schema);
      if (has('index-gateway') && !single) registerIndexGatewayMethods(this.rpc, this._index);
    }

    // A frontend answers labels, series and the other metadata reads itself: it reads like a querier.
    if (has('querier') || has('query-frontend')) {
      const gateway = config.storage_config.tsdb_shipper.index_gateway_client.server_address;
      this._indexSource = gateway !== '' && !has('index-gateway') ? new IndexGatewayClient(this.rpcClient, gateway) : this._index!;
      this._ingesterReader = single
        ? localIngesterReader(this.ingester)
        : new RemoteIngesters({
            client: new IngesterClient(this.rpcClient),
            ring: this.ring!.ring,
            queryIngestersWithinMs: config.querier.query_ingesters_within,
            clock: this.clock,
            timeoutMs: config.ingester_client.remote_timeout,
          });
      this._querier = new Querier({ ingester: this._ingesterReader, index: this._indexSource, store: this.store, schema: this.schema });
      // Live tails: the ingester's appends in the single binary; in distributed mode every ingester's, polled over
      // the internal protocol (tail-feed.ts, remote-tail-source.ts).
      const tailLogger = this.logger.with({ component: 'tail' });
      const source = single
        ? this.ingester
        : new RemoteTailSource({ rpc: this.rpcClient, ring: this.ring!.ring, tenants: () => this._tail?.activeTenants() ?? [], logger: tailLogger });
      this._tail = new TailManager({
        source,
        querier: this._querier,
        limits,
        clock: this.clock,
        logger: tailLogger,
        bounds: { maxDurationMs: config.querier.tail_max_duration },
      });
    }

    // Compactor (ADR 0009): compaction, retention, delete requests, table manager. Queriers hide expired and deleted
    // entries at once, sharing the compactor's delete requests when both run here.
    if (this._store) {
      const compactorDeps = { store: this._store, schema: this.schema, limits, clock: this.clock, metrics: this.metrics };
      if (has('compactor')) this._compactor = buildCompactor(config, { ...compactorDeps, logger: this.logger.with({ component: 'compactor' }) });
      this._querier?.useReadFilter(this._compactor?.readFilter ?? buildReadFilter(config, compactorDeps));
    }

    // ── query path between processes: frontend → scheduler → querier (docs/query-frontend.md) ──
    const orgLimits = (org: string): Readonly<Limits> => queryLimits(org.split('|').map((t) => this.overrides.forTenant(t)));
    const local = this._querier && has('querier') ? new LocalDownstream({ querier: this._querier, limits: orgLimits }) : undefined;
    // A sub-query may wait in the queue and then run for the whole query timeout.
    const subQueryTimeoutMs = Math.max(config.limits_config.query_timeout, 60_000) + 30_000;
    if (has('query-scheduler') && !single) {
      this.scheduler = new QueryScheduler<DownstreamRequest, DownstreamResponse>({
        maxOutstandingPerTenant: config.query_scheduler.max_outstanding_requests_per_tenant,
        maxQueriersPerTenant: (t) => this.overrides.forTenant(t).max_queriers_per_tenant,
        hooks: {
          queueLength: (user, n) => this.metrics.schedulerQueueLength.set({ user }, n),
          discarded: (user) => this.metrics.schedulerDiscarded.inc({ user }),
          dequeued: (_user, waitedMs) => this.metrics.schedulerQueueDuration.observe(waitedMs / 1000),
          inflight: (n) => this.metrics.schedulerInflight.set(n),
          connectedQueriers: (n) => this.metrics.schedulerConnectedQueriers.set(n),
        },
      });
      this.schedulerService = new SchedulerService(this.scheduler, this.clock);
      this.schedulerService.register(this.rpc);
    }
    if (has('querier') && !single) {
      registerQuerierMethods(this.rpc, local!);
      const querierId = ing.lifecycler.id || config.common.ring.instance_id || hostname();
      const concurrency = config.querier.max_concurrent;
      const remoteScheduler = config.frontend_worker.scheduler_address;
      if (remoteScheduler !== '' && !this.scheduler) {
        const source = new RemoteWorkSource(this.rpcClient, remoteScheduler, `${querierId}-${process.pid}`, this.logger.with({ component: 'querier-worker' }));
        this.workers = { worker: new QuerierWorker({ scheduler: source, querierId, downstream: local!, concurrency }), source };
      } else if (this.scheduler) {
        this.workers = { worker: new QuerierWorker({ scheduler: this.scheduler, querierId, downstream: local!, concurrency }) };
      }
    }
    if (has('query-frontend') && !single) {
      let downstream: Downstream;
      if (this.scheduler) downstream = new SchedulerDownstream(this.scheduler);
      else if (config.frontend.scheduler_address !== '') downstream = new RemoteSchedulerDownstream(this.rpcClient, config.frontend.scheduler_address, subQueryTimeoutMs);
      else if (config.frontend.downstream_url !== '') downstream = new RemoteQuerierDownstream(this.rpcClient, config.frontend.downstream_url, subQueryTimeoutMs);
      else if (local) downstream = local;
      else throw new Error('query-frontend: set frontend.scheduler_address (queriers pull from a scheduler) or frontend.downstream_url (a querier)');
      const rc = config.query_range;
      const embedded = rc.results_cache.cache.embedded_cache;
      const index = this._indexSource;
      this.frontend = new QueryFrontend({
        downstream,
        limits: orgLimits,
        maxRetries: rc.max_retries,
        sharding: rc.parallelise_shardable_queries,
        // Shards sized from the index per time split (shard-factor.ts).
        shards:
          index === undefined
            ? undefined
            : indexShardCount({ index, limits: orgLimits, queryIngestersWithinMs: config.querier.query_ingesters_within, now: () => this.clock.now() }),
        cache: rc.cache_results
          ? new ResultsCache({ maxBytes: embedded.max_size_mb * 1024 * 1024, maxItems: embedded.max_size_items || undefined, ttlMs: embedded.ttl, clock: this.clock })
          : undefined,
        schema: this.schema,
        clock: this.clock,
      });
    }
  }

  // Components a controller needs: registered only for targets that run them, so a missing one is a wiring bug.
  get store(): ObjectClient {
    return need(this._store, 'store');
  }
  get ingester(): Ingester {
    return need(this._ingester, 'ingester');
  }
  get distributor(): Distributor {
    return need(this._distributor, 'distributor');
  }
  get querier(): Querier {
    return need(this._querier, 'querier');
  }
  get tail(): TailManager {
    return need(this._tail, 'tail (a querier and an ingester in one process)');
  }
  get compactor(): Compactor {
    return need(this._compactor, 'compactor');
  }
  /** The label index over the object store (querier, index gateway). */
  get index(): IndexReader {
    return need(this._index, 'index');
  }
  /** Where the querier's index lookups go: the local index, or the index gateway. */
  get indexSource(): IndexSource {
    return need(this._indexSource, 'querier');
  }
  /** Where the querier reads ingesters' memory: the local ingester, or the ring's ingesters. */
  get ingesterReader(): IngesterReader {
    return need(this._ingesterReader, 'querier');
  }
  get hasTail(): boolean {
    return this._tail !== undefined;
  }
  /** The ingester ring's state for `/ring` (undefined in the single binary). */
  ringStatus(): RingStatus | undefined {
    return this.ring?.describe();
  }

  /** Requests are refused with 503 and the reason until the engine runs (WAL replay) and after it stops. */
  assertRunning(): void {
    if (this.state !== 'Running') throw new EngineError('unavailable', this.stateReason);
  }

  /** Loads runtime overrides, replays the WAL, joins the ring, starts flushing; Running (ready) afterwards. */
  async start(): Promise<void> {
    const file = this.runtimeConfigFile || this.config.runtime_config.file;
    if (file) {
      this.runtimeWatcher = new RuntimeConfigWatcher(
        file,
        this.config.runtime_config.period,
        (rt) => {
          this.overrides.set(rt);
          this.logger.info('runtime config loaded', { file });
        },
        (err) => this.logger.warn('runtime config reload failed, keeping the last good one', { file, err }),
      );
      await this.runtimeWatcher.reloadNow();
      this.runtimeWatcher.start();
    }
    const ingester = this._ingester;
    if (ingester && this.walDir) {
      this.stateReason = 'Ingester not ready: replaying the WAL';
      const ing = this.config.ingester.wal;
      this.wal = await Wal.open({
        dir: this.walDir,
        fsync: ing.fsync,
        fsyncIntervalMs: ing.fsync_interval,
        logger: { warn: (m) => this.logger.warn(m), info: (m) => this.logger.info(m) },
      });
      ingester.useWal(this.wal);
      const replayed = await ingester.replay(this.walDir, Wal.replay.bind(Wal));
      this.logger.info('WAL replayed', { records: replayed.records, entries: replayed.entries });
    }
    ingester?.start();
    if (this.ring) {
      this.stateReason = 'joining the ring';
      await this.ring.start();
    }
    this.schedulerService?.start();
    this.workers?.source?.start();
    this.workers?.worker.start();
    this._compactor?.start(); // compactor (ADR 0009)
    this.state = 'Running';
    this.stateReason = 'ready';
  }

  /** Graceful shutdown: refuse new pushes, leave the ring after flushing everything to the store, close the WAL. */
  async stop(): Promise<void> {
    if (this.state === 'Stopping' || this.state === 'Terminated') return;
    this.state = 'Stopping';
    this.stateReason = 'Ingester not ready: stopping';
    this.runtimeWatcher?.stop();
    this._tail?.stop();
    this.tailFeed?.stop();
    this.workers?.source?.stop();
    await this.workers?.worker.stop();
    this.scheduler?.stop();
    this.schedulerService?.stop();
    const ingester = this._ingester;
    // An ingester leaving the ring flushes first (LEAVING), so no other replica is needed to keep its data.
    if (this.ring) await this.ring.stop(async () => await ingester?.stop());
    else await ingester?.stop();
    await this._compactor?.stop(); // compactor (ADR 0009): releases its lease before the store closes
    await this._store?.close();
    this.state = 'Terminated';
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new EngineError('internal', `this process does not run the ${what}`);
  return v;
}

/**
 * The address this instance registers in the ring: `ingester.lifecycler.address` / `common.instance_addr` when set,
 * else the listen address when it is a specific one, else the first private IPv4 address (Loki's default picks an
 * interface address too).
 */
export function hostAddress(config: Config): string {
  const explicit = config.ingester.lifecycler.address || config.common.ring.instance_addr || config.common.instance_addr;
  if (explicit) return explicit;
  const listen = config.server.http_listen_address;
  if (listen && listen !== '0.0.0.0' && listen !== '::') return listen;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
