import { DEFAULT_DISCOVER_SERVICE_NAME, DEFAULT_LIMITS, deepFreeze, defaultLimits } from './limits.js';

describe('defaultLimits', () => {
  it("matches Loki's documented limits_config defaults, in Strata units", () => {
    const l = defaultLimits();
    expect(l).toMatchObject({
      ingestion_rate_strategy: 'global',
      ingestion_rate_mb: 4,
      ingestion_burst_size_mb: 6,
      per_stream_rate_limit: 3 * 1024 * 1024, // 3MB
      per_stream_rate_limit_burst: 15 * 1024 * 1024, // 15MB
      max_line_size: 256 * 1024, // 256KB
      max_line_size_truncate: false,
      max_label_names_per_series: 15,
      max_label_name_length: 1024,
      max_label_value_length: 2048,
      reject_old_samples: true,
      reject_old_samples_max_age: 7 * 86_400_000, // 1w
      creation_grace_period: 600_000, // 10m
      max_global_streams_per_user: 5000,
      max_streams_per_user: 0,
      allow_structured_metadata: true,
      max_structured_metadata_size: 64 * 1024,
      max_structured_metadata_entries_count: 128,
      max_entries_limit_per_query: 5000,
      max_query_series: 500,
      max_query_length: 721 * 3_600_000, // 30d1h
      max_query_lookback: 0,
      query_timeout: 60_000,
      max_query_parallelism: 32,
      split_queries_by_interval: 3_600_000,
      retention_period: 0,
      retention_stream: [],
      unordered_writes: true,
      increment_duplicate_timestamp: false,
      discover_log_levels: true,
      shard_streams: { enabled: true, logging_enabled: false, desired_rate: 1536 * 1024 },
      volume_enabled: true,
      deletion_mode: 'filter-and-delete',
      max_cache_freshness_per_query: 600_000,
    });
    expect(l.discover_service_name).toEqual([
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
  });

  it('returns independent copies; DEFAULT_LIMITS is frozen all the way down', () => {
    const a = defaultLimits();
    a.discover_service_name.push('x');
    a.shard_streams.enabled = false;
    expect(defaultLimits().discover_service_name).toEqual(DEFAULT_DISCOVER_SERVICE_NAME);
    expect(defaultLimits().shard_streams.enabled).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS.shard_streams)).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS.discover_service_name)).toBe(true);
    expect(DEFAULT_LIMITS).toEqual(defaultLimits());
  });

  it('deepFreeze freezes nested objects and arrays and returns its argument', () => {
    const v = { a: { b: [1, { c: 2 }] } };
    expect(deepFreeze(v)).toBe(v);
    expect(Object.isFrozen(v.a.b[1])).toBe(true);
  });
});
