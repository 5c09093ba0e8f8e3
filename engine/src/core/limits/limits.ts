/**
 * Per-tenant limits: Loki's `limits_config` block, field for field (snake_case so `/config` and the runtime overrides
 * file read exactly like Loki's). Units:
 *  - durations are whole milliseconds (`number`); `0` disables the limit where Loki says so;
 *  - byte sizes are bytes (`number`); Loki's KB/MB are powers of 1024 (`256KB` = 262144);
 *  - `ingestion_rate_mb` / `ingestion_burst_size_mb` stay in Loki's MB (2^20 bytes) as floats.
 *
 * The same type is used for the global defaults (`limits_config` in config.yaml) and, merged with a tenant's entry in
 * the runtime overrides file, for each tenant (see core/config/runtime-config.ts).
 */

export type IngestionRateStrategy = 'global' | 'local';
export type DeletionMode = 'disabled' | 'filter-only' | 'filter-and-delete';

/** One `retention_stream` rule: streams matching `selector` keep data for `period`; highest `priority` wins. */
export interface StreamRetention {
  selector: string;
  priority: number;
  /** Milliseconds. */
  period: number;
}

export interface ShardStreamsConfig {
  /** Automatically shard streams that exceed `desired_rate`. */
  enabled: boolean;
  logging_enabled: boolean;
  /** Bytes per second above which a stream is split into shards. */
  desired_rate: number;
}

export interface Limits {
  // ---- distributor: rate limits (global strategy divides the tenant rate across healthy distributors) ----
  /** Cannot be overridden per tenant (Loki ignores it in the overrides file; so do we). */
  ingestion_rate_strategy: IngestionRateStrategy;
  ingestion_rate_mb: number;
  ingestion_burst_size_mb: number;
  /** Bytes per second per stream. */
  per_stream_rate_limit: number;
  per_stream_rate_limit_burst: number;

  // ---- distributor: validation ----
  /** Bytes; 0 = unlimited. */
  max_line_size: number;
  max_line_size_truncate: boolean;
  max_label_names_per_series: number;
  max_label_name_length: number;
  max_label_value_length: number;
  reject_old_samples: boolean;
  /** Milliseconds. */
  reject_old_samples_max_age: number;
  /** Milliseconds; entries further than this in the future are rejected. */
  creation_grace_period: number;
  increment_duplicate_timestamp: boolean;
  /** Labels tried in order to derive `service_name`; empty disables discovery. */
  discover_service_name: string[];
  discover_log_levels: boolean;
  /** Structured metadata / JSON / logfmt fields consulted for the level when `discover_log_levels` is on. */
  log_level_fields: string[];
  allow_structured_metadata: boolean;
  /** Bytes per entry. */
  max_structured_metadata_size: number;
  max_structured_metadata_entries_count: number;
  /** Deprecated in Loki (always accepted out of order now); kept because it is still read. */
  unordered_writes: boolean;
  shard_streams: ShardStreamsConfig;

  // ---- ingester ----
  /** Per ingester; 0 = disabled. */
  max_streams_per_user: number;
  /** Across the cluster; 0 = disabled. */
  max_global_streams_per_user: number;

  // ---- querier / query-frontend ----
  max_entries_limit_per_query: number;
  max_query_series: number;
  /** Milliseconds; 0 = unlimited. */
  max_query_length: number;
  /** Milliseconds; 0 = unlimited. */
  max_query_lookback: number;
  /** Milliseconds; 0 = unlimited (the `[range]` of a range query). */
  max_query_range: number;
  /** Milliseconds. */
  query_timeout: number;
  max_query_parallelism: number;
  tsdb_max_query_parallelism: number;
  /** Bytes of (uncompressed) chunks per shard the query-frontend aims for when it sizes a query's shards. */
  tsdb_max_bytes_per_shard: number;
  /** Milliseconds; 0 disables time splitting. */
  split_queries_by_interval: number;
  /** Milliseconds. */
  split_metadata_queries_by_interval: number;
  /** Milliseconds. */
  max_cache_freshness_per_query: number;
  max_queriers_per_tenant: number;
  max_chunks_per_query: number;
  max_streams_matchers_per_query: number;
  max_concurrent_tail_requests: number;
  cardinality_limit: number;
  volume_enabled: boolean;
  volume_max_series: number;

  // ---- compactor: retention and deletes ----
  /** Milliseconds; 0 = keep forever. Applied only when `compactor.retention_enabled`. */
  retention_period: number;
  retention_stream: StreamRetention[];
  deletion_mode: DeletionMode;

  // ---- ruler ----
  ruler_max_rules_per_rule_group: number;
  ruler_max_rule_groups_per_tenant: number;

  /** Accepted for compatibility with Loki's sample configs; Strata has no metric aggregation. */
  metric_aggregation_enabled: boolean;
}

const MB = 1024 * 1024;
const KB = 1024;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Loki's default `discover_service_name` list, in Loki's order (first match wins). */
export const DEFAULT_DISCOVER_SERVICE_NAME: readonly string[] = Object.freeze([
  'service',
  'app',
  'application',
  'app_name',
  'name',
  'app_kubernetes_io_name',
  'container',
  'container_name',
  'k8s_container_name',
  'component',
  'workload',
  'job',
  'k8s_job_name',
]);

/** Loki's default `log_level_fields`. */
export const DEFAULT_LOG_LEVEL_FIELDS: readonly string[] = Object.freeze([
  'level',
  'LEVEL',
  'Level',
  'log.level',
  'severity',
  'SEVERITY',
  'Severity',
  'SeverityText',
  'lvl',
  'LVL',
  'Lvl',
  'severity_text',
  'Severity_Text',
  'SEVERITY_TEXT',
]);

/** Returns a fresh, mutable copy of Loki's default limits. */
export function defaultLimits(): Limits {
  return {
    ingestion_rate_strategy: 'global',
    ingestion_rate_mb: 4,
    ingestion_burst_size_mb: 6,
    per_stream_rate_limit: 3 * MB,
    per_stream_rate_limit_burst: 15 * MB,

    max_line_size: 256 * KB,
    max_line_size_truncate: false,
    max_label_names_per_series: 15,
    max_label_name_length: 1024,
    max_label_value_length: 2048,
    reject_old_samples: true,
    reject_old_samples_max_age: 7 * DAY,
    creation_grace_period: 10 * MINUTE,
    increment_duplicate_timestamp: false,
    discover_service_name: [...DEFAULT_DISCOVER_SERVICE_NAME],
    discover_log_levels: true,
    log_level_fields: [...DEFAULT_LOG_LEVEL_FIELDS],
    allow_structured_metadata: true,
    max_structured_metadata_size: 64 * KB,
    max_structured_metadata_entries_count: 128,
    unordered_writes: true,
    shard_streams: { enabled: true, logging_enabled: false, desired_rate: 1536 * KB },

    max_streams_per_user: 0,
    max_global_streams_per_user: 5000,

    max_entries_limit_per_query: 5000,
    max_query_series: 500,
    max_query_length: 721 * HOUR, // Loki prints it as 30d1h
    max_query_lookback: 0,
    max_query_range: 0,
    query_timeout: MINUTE,
    max_query_parallelism: 32,
    tsdb_max_query_parallelism: 128,
    tsdb_max_bytes_per_shard: 600 * MB,
    split_queries_by_interval: HOUR,
    split_metadata_queries_by_interval: DAY,
    max_cache_freshness_per_query: 10 * MINUTE,
    max_queriers_per_tenant: 0,
    max_chunks_per_query: 2_000_000,
    max_streams_matchers_per_query: 1000,
    max_concurrent_tail_requests: 10,
    cardinality_limit: 100_000,
    volume_enabled: true,
    volume_max_series: 1000,

    retention_period: 0,
    retention_stream: [],
    deletion_mode: 'filter-and-delete',

    ruler_max_rules_per_rule_group: 0,
    ruler_max_rule_groups_per_tenant: 0,

    metric_aggregation_enabled: false,
  };
}

/** Recursively freezes plain objects and arrays (limits are shared between requests and must not be mutated). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Loki's defaults, frozen. Use `defaultLimits()` for a copy to modify. */
export const DEFAULT_LIMITS: Readonly<Limits> = deepFreeze(defaultLimits());
