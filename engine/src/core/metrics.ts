import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The engine's Prometheus metrics, with Loki's names where Loki has the metric, so existing dashboards and alerts
 * keep working. One instance per process, passed to the components that update it.
 */
export class EngineMetrics {
  readonly registry = new Registry();

  readonly distributorBytesReceived = new Counter({
    name: 'loki_distributor_bytes_received_total',
    help: 'The total number of uncompressed bytes received per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly distributorLinesReceived = new Counter({
    name: 'loki_distributor_lines_received_total',
    help: 'The total number of log lines received per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly discardedSamples = new Counter({
    name: 'loki_discarded_samples_total',
    help: 'The total number of entries that were discarded, by reason.',
    labelNames: ['reason', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly discardedBytes = new Counter({
    name: 'loki_discarded_bytes_total',
    help: 'The total number of bytes that were discarded, by reason.',
    labelNames: ['reason', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly memoryStreams = new Gauge({
    name: 'loki_ingester_memory_streams',
    help: 'The total number of streams in memory per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly memoryChunks = new Gauge({
    name: 'loki_ingester_memory_chunks',
    help: 'The total number of chunks in memory.',
    registers: [this.registry],
  });
  readonly chunksFlushed = new Counter({
    name: 'loki_ingester_chunks_flushed_total',
    help: 'The total number of chunks flushed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly chunkFlushFailures = new Counter({
    name: 'loki_ingester_chunks_flush_failures_total',
    help: 'The total number of failed chunk flush attempts (each is retried).',
    registers: [this.registry],
  });
  readonly chunkSizeBytes = new Histogram({
    name: 'loki_ingester_chunk_size_bytes',
    help: 'Compressed size of flushed chunks.',
    buckets: [16384, 65536, 262144, 524288, 1048576, 1572864, 2097152, 4194304],
    registers: [this.registry],
  });
  readonly chunkEntries = new Histogram({
    name: 'loki_ingester_chunk_entries',
    help: 'Number of entries in flushed chunks.',
    buckets: [1, 10, 100, 1000, 10000, 100000],
    registers: [this.registry],
  });
  readonly walRecordsLogged = new Counter({
    name: 'loki_ingester_wal_records_logged_total',
    help: 'The total number of WAL records logged.',
    registers: [this.registry],
  });
  readonly walReplayDuration = new Gauge({
    name: 'loki_ingester_wal_replay_duration_seconds',
    help: 'Time taken to replay the WAL.',
    registers: [this.registry],
  });
  readonly walCorruptions = new Counter({
    name: 'loki_ingester_wal_corruptions_total',
    help: 'The total number of WAL corruptions detected (and skipped) during replay.',
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'loki_request_duration_seconds',
    help: 'Time (in seconds) spent serving HTTP requests.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100],
    registers: [this.registry],
  });

  // Loki's querier tail metrics (pkg/querier/tail): open tails, the streams they have sent entries of, and the bytes
  // of the lines they sent.
  readonly tailsActive = new Gauge({
    name: 'loki_querier_tail_active',
    help: 'Number of active tailers',
    registers: [this.registry],
  });
  readonly tailedStreamsActive = new Gauge({
    name: 'loki_querier_tail_active_streams',
    help: 'Number of active streams being tailed',
    registers: [this.registry],
  });
  readonly tailedBytesTotal = new Counter({
    name: 'loki_querier_tail_bytes_total',
    help: 'total bytes tailed',
    registers: [this.registry],
  });

  // ── query-scheduler (Loki's names) ──
  readonly schedulerQueueLength = new Gauge({
    name: 'loki_query_scheduler_queue_length',
    help: 'Number of queries in the queue.',
    labelNames: ['user'] as const,
    registers: [this.registry],
  });
  readonly schedulerDiscarded = new Counter({
    name: 'loki_query_scheduler_discarded_requests_total',
    help: 'Total number of query requests discarded.',
    labelNames: ['user'] as const,
    registers: [this.registry],
  });
  readonly schedulerQueueDuration = new Histogram({
    name: 'loki_query_scheduler_queue_duration_seconds',
    help: 'Time spend by requests in queue before getting picked up by a querier.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly schedulerInflight = new Gauge({
    name: 'loki_query_scheduler_inflight_requests',
    help: 'Number of inflight requests (either queued or processing) sampled at a regular interval.',
    registers: [this.registry],
  });
  readonly schedulerConnectedQueriers = new Gauge({
    name: 'loki_query_scheduler_connected_querier_clients',
    help: 'Number of querier worker clients currently connected to the query-scheduler.',
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
