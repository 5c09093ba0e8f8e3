import { join } from 'node:path';
import type { ChunkEncoding } from '../../chunk/codec.js';
import { IndexReader } from '../../index/index-reader.js';
import { ChunkFlusher } from '../../ingester/flusher.js';
import { Ingester } from '../../ingester/ingester.js';
import { localIngesterReader } from '../../ingester/memory-stream.js';
import { defaultLimits, type Limits } from '../../limits/limits.js';
import { EngineMetrics } from '../../metrics.js';
import { FilesystemObjectClient } from '../../storage/filesystem-client.js';
import { SchemaConfig } from '../../storage/schema.js';
import { ManualClock } from '../../util/clock.js';
import { nopLogger } from '../../util/logger.js';
import { Querier } from '../querier.js';

export interface LocalQuerierOptions {
  nowMs: number;
  chunk: { encoding: ChunkEncoding; blockSize: number; targetSize: number };
  chunkIdlePeriodMs: number;
  chunkRetainPeriodMs?: number;
  /** Over the defaults, which already allow any rate and old samples. */
  limits?: Partial<Limits>;
}

/**
 * An ingester (WAL off, flushing into a filesystem store under `dir`) and a querier reading its memory and the
 * store, on a manual clock: the read path as the single binary wires it, for tests.
 */
export function localQuerier(dir: string, o: LocalQuerierOptions) {
  const store = new FilesystemObjectClient(join(dir, 'chunks'));
  const schema = new SchemaConfig([
    { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 },
  ]);
  const metrics = new EngineMetrics();
  const limits: Limits = { ...defaultLimits(), per_stream_rate_limit: 0, reject_old_samples: false, ...o.limits };
  const clock = new ManualClock(o.nowMs);
  const flusher = new ChunkFlusher({ store, schema, uploaderId: 'test', concurrency: 4, timeoutMs: 10_000, logger: nopLogger, metrics });
  const ingester = new Ingester({
    chunk: o.chunk,
    maxChunkAgeMs: 240 * 60_000,
    chunkIdlePeriodMs: o.chunkIdlePeriodMs,
    chunkRetainPeriodMs: o.chunkRetainPeriodMs ?? 0,
    flushCheckPeriodMs: 1000,
    checkpointIntervalMs: 5 * 60_000,
    schema,
    limits: () => limits,
    flusher,
    clock,
    logger: nopLogger,
    metrics,
  });
  const querier = new Querier({ ingester: localIngesterReader(ingester), index: new IndexReader(store, schema), store, schema, fetchConcurrency: 4 });
  return { ingester, querier, store, clock, limits };
}
