import { Counter, Gauge, type Registry } from 'prom-client';

/** Returns the registry's metric of that name, or registers `make()` (two compactors may share a registry in tests). */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The compactor's metrics, with Loki's names where Loki has the metric. */
export class CompactorMetrics {
  readonly running: Gauge;
  readonly compactTablesOps: Counter<'status'>;
  readonly lastSuccessfulRun: Gauge;
  readonly retentionLastSuccessfulRun: Gauge;
  readonly markedChunks: Counter<'reason'>;
  readonly sweptChunks: Counter;
  readonly markerFiles: Gauge;
  readonly deleteRequestsReceived: Counter<'user'>;
  readonly deleteRequestsProcessed: Counter<'user'>;
  readonly deletedLines: Counter<'user'>;
  readonly tablesCreated: Counter;
  readonly tablesDeleted: Counter;

  constructor(registry: Registry) {
    const r = [registry];
    this.running = once(registry, 'loki_compactor_running', () =>
      new Gauge({ name: 'loki_compactor_running', help: 'Value will be 1 if compactor is currently running on this instance', registers: r }),
    );
    this.compactTablesOps = once(registry, 'loki_compactor_compact_tables_operation_total', () =>
      new Counter({
        name: 'loki_compactor_compact_tables_operation_total',
        help: 'Total number of tables compaction done by status',
        labelNames: ['status'] as const,
        registers: r,
      }),
    );
    this.lastSuccessfulRun = once(registry, 'loki_compactor_compact_tables_operation_last_successful_run_timestamp_seconds', () =>
      new Gauge({
        name: 'loki_compactor_compact_tables_operation_last_successful_run_timestamp_seconds',
        help: 'Time (in seconds since epoch) when compaction of tables last succeeded',
        registers: r,
      }),
    );
    this.retentionLastSuccessfulRun = once(registry, 'loki_compactor_apply_retention_last_successful_run_timestamp_seconds', () =>
      new Gauge({
        name: 'loki_compactor_apply_retention_last_successful_run_timestamp_seconds',
        help: 'Time (in seconds since epoch) when apply retention last succeeded',
        registers: r,
      }),
    );
    this.markedChunks = once(registry, 'loki_compactor_marked_chunks_total', () =>
      new Counter({
        name: 'loki_compactor_marked_chunks_total',
        help: 'Chunks removed from the index and marked for deletion, by reason (retention, delete, table-manager)',
        labelNames: ['reason'] as const,
        registers: r,
      }),
    );
    this.sweptChunks = once(registry, 'loki_compactor_retention_sweeper_chunks_deleted_total', () =>
      new Counter({
        name: 'loki_compactor_retention_sweeper_chunks_deleted_total',
        help: 'Chunk objects deleted by the sweeper after retention_delete_delay',
        registers: r,
      }),
    );
    this.markerFiles = once(registry, 'loki_compactor_retention_sweeper_marker_files_current', () =>
      new Gauge({
        name: 'loki_compactor_retention_sweeper_marker_files_current',
        help: 'The current total of marker files valid for deletion',
        registers: r,
      }),
    );
    this.deleteRequestsReceived = once(registry, 'loki_compactor_delete_requests_received_total', () =>
      new Counter({
        name: 'loki_compactor_delete_requests_received_total',
        help: 'Number of delete requests received per user',
        labelNames: ['user'] as const,
        registers: r,
      }),
    );
    this.deleteRequestsProcessed = once(registry, 'loki_compactor_delete_requests_processed_total', () =>
      new Counter({
        name: 'loki_compactor_delete_requests_processed_total',
        help: 'Number of delete requests processed per user',
        labelNames: ['user'] as const,
        registers: r,
      }),
    );
    this.deletedLines = once(registry, 'loki_compactor_deleted_lines', () =>
      new Counter({
        name: 'loki_compactor_deleted_lines',
        help: 'Number of deleted lines per user',
        labelNames: ['user'] as const,
        registers: r,
      }),
    );
    this.tablesCreated = once(registry, 'loki_table_manager_tables_created_total', () =>
      new Counter({ name: 'loki_table_manager_tables_created_total', help: 'Period tables created ahead of their start', registers: r }),
    );
    this.tablesDeleted = once(registry, 'loki_table_manager_tables_deleted_total', () =>
      new Counter({ name: 'loki_table_manager_tables_deleted_total', help: 'Period tables deleted whole past the retention period', registers: r }),
    );
  }
}
