import { join, resolve } from 'node:path';
import { KNOWN_TARGETS, type Config } from './config/config.js';
import { EngineError } from './errors.js';
import { Distributor } from './distributor/distributor.js';
import { IndexReader } from './index/index-reader.js';
import { ChunkFlusher } from './ingester/flusher.js';
import { Ingester } from './ingester/ingester.js';
import type { Limits } from './limits/limits.js';
import { Overrides, RuntimeConfigWatcher } from './config/runtime-config.js';
import { EngineMetrics } from './metrics.js';
import { Querier } from './querier/querier.js';
import { objectClientFromOptions } from './storage/from-config.js';
import type { ObjectClient } from './storage/object-client.js';
import { SchemaConfig } from './storage/schema.js';
import { TailManager } from './tail/tail-manager.js';
import { systemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';
import { Wal } from './wal/wal.js';
import { resolveStorage, schemaPeriods } from './config/storage-options.js';

/** The components Strata can run (Loki's module names); `all` runs every one in one process. */
export const TARGETS = KNOWN_TARGETS;
export type Target = (typeof KNOWN_TARGETS)[number];

/** What each target runs, as Loki's `/services` lists it. */
export function servicesFor(target: Target): string[] {
  switch (target) {
    case 'all':
      return ['server', 'runtime-config', 'overrides', 'store', 'ingester', 'distributor', 'querier'];
    default:
      return ['server'];
  }
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
 * routes HTTP requests to these objects and drives start/stop.
 */
export class Engine {
  readonly metrics: EngineMetrics;
  readonly overrides: Overrides;
  readonly schema: SchemaConfig;
  readonly store: ObjectClient;
  readonly ingester: Ingester;
  readonly distributor: Distributor;
  readonly querier: Querier;
  /** The label index reader (one cache of index files for every reader of this process). */
  readonly index: IndexReader;
  /** Live tails (`/loki/api/v1/tail`): fed by the ingester, historic entries from the querier. */
  readonly tail: TailManager;
  readonly clock: Clock;
  readonly logger: Logger;
  state: EngineState = 'Starting';
  stateReason = 'Starting';
  private wal: Wal | undefined;
  private runtimeWatcher: RuntimeConfigWatcher | undefined;
  private readonly walDir: string | undefined;

  constructor(
    readonly config: Config,
    readonly target: Target,
    deps: EngineDeps,
    private readonly runtimeConfigFile?: string,
  ) {
    if (target !== 'all') {
      throw new Error(
        `target "${target}" runs a single component, which needs distributed mode (the ring between processes); this build runs -target=all`,
      );
    }
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger;
    this.metrics = deps.metrics ?? new EngineMetrics({ defaultMetrics: true });
    this.overrides = new Overrides(config.limits_config);
    this.schema = new SchemaConfig(schemaPeriods(config));
    const stores = new Set(config.schema_config.configs.map((p) => (p.object_store === 'aws' ? 's3' : p.object_store)));
    if (stores.size > 1) {
      throw new Error(
        `schema_config.configs: periods use different object_store values (${[...stores].join(', ')}); one object store for all periods is supported`,
      );
    }
    this.store = deps.store ?? objectClientFromOptions(resolveStorage(config));
    const ing = config.ingester;
    this.walDir = ing.wal.enabled ? resolve(ing.wal.dir || join(config.common.path_prefix || '.', 'wal')) : undefined;
    const limits = (tenant: string): Limits => this.overrides.forTenant(tenant);
    const flusher = new ChunkFlusher({
      store: this.store,
      schema: this.schema,
      uploaderId: config.ingester.lifecycler.id || 'ingester-0',
      concurrency: ing.concurrent_flushes,
      timeoutMs: ing.flush_op_timeout,
      logger: this.logger.with({ component: 'flusher' }),
      metrics: this.metrics,
    });
    // The WAL is opened in start() (after the replay it needs) and handed to the ingester then.
    this.ingester = new Ingester({
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
    this.distributor = new Distributor({
      limits,
      target: this.ingester,
      metadataAllowedAt: (ts) => this.schema.periodFor(ts).schema === 'v13',
      clock: this.clock,
      metrics: this.metrics,
    });
    this.index = new IndexReader(this.store, this.schema);
    this.querier = new Querier({
      ingester: this.ingester,
      index: this.index,
      store: this.store,
      schema: this.schema,
    });
    this.tail = new TailManager({
      source: this.ingester,
      querier: this.querier,
      limits,
      clock: this.clock,
      logger: this.logger.with({ component: 'tail' }),
      bounds: { maxDurationMs: config.querier.tail_max_duration },
    });
  }

  /** Requests are refused with 503 and the reason until the engine runs (WAL replay) and after it stops. */
  assertRunning(): void {
    if (this.state !== 'Running') throw new EngineError('unavailable', this.stateReason);
  }

  /** Loads runtime overrides, replays the WAL, starts flushing; the engine is Running (ready) afterwards. */
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
    if (this.walDir) {
      this.stateReason = 'Ingester not ready: replaying the WAL';
      const ing = this.config.ingester.wal;
      this.wal = await Wal.open({
        dir: this.walDir,
        fsync: ing.fsync,
        fsyncIntervalMs: ing.fsync_interval,
        logger: { warn: (m) => this.logger.warn(m), info: (m) => this.logger.info(m) },
      });
      this.ingester.useWal(this.wal);
      const replayed = await this.ingester.replay(this.walDir, Wal.replay.bind(Wal));
      this.logger.info('WAL replayed', { records: replayed.records, entries: replayed.entries });
    }
    this.ingester.start();
    this.state = 'Running';
    this.stateReason = 'ready';
  }

  /** Graceful shutdown: refuse new pushes, flush everything to the store, close the WAL. */
  async stop(): Promise<void> {
    if (this.state === 'Stopping' || this.state === 'Terminated') return;
    this.state = 'Stopping';
    this.stateReason = 'Ingester not ready: stopping';
    this.runtimeWatcher?.stop();
    this.tail.stop();
    await this.ingester.stop();
    await this.store.close();
    this.state = 'Terminated';
  }
}
