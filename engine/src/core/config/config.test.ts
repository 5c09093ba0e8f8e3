import { parse as parseYaml } from 'yaml';

import { DEFAULT_DISCOVER_SERVICE_NAME, defaultLimits } from '../limits/limits.js';
import {
  CONFIG_SPEC,
  ConfigError,
  configToYaml,
  defaultConfig,
  EMBEDDED_DEFAULT_CONFIG_YAML,
  expandEnv,
  loadConfig,
  parseConfig,
  periodAt,
  periodStart,
  resolveConfig,
  resolveS3Config,
  validateConfig,
  type Config,
} from './config.js';
import type { FieldSpec } from './spec.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const NOW = Date.UTC(2025, 5, 1);

/** A minimal valid config body; tests append the section they exercise. */
const SCHEMA = `schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
`;

function parse(text: string): Config {
  return parseConfig(text, { fileName: 'config.yaml', now: NOW });
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

// A complete single-binary setup in the spirit of Loki's "complete local config" examples: every section Strata
// reads, plus the keys Loki's own sample configs carry.
const REALISTIC = `
target: all
auth_enabled: true

server:
  http_listen_address: 0.0.0.0
  http_listen_port: 3200
  grpc_listen_port: 9096
  log_level: debug
  log_format: json
  http_server_read_timeout: 1m
  http_server_write_timeout: 2m30s
  http_server_idle_timeout: 5m
  grpc_server_max_concurrent_streams: 1000

common:
  instance_addr: 127.0.0.1
  path_prefix: /var/lib/strata
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
  storage:
    filesystem:
      chunks_directory: /var/lib/strata/chunks
      rules_directory: /var/lib/strata/rules

distributor:
  ring:
    kvstore:
      store: inmemory

ingester:
  chunk_encoding: zstd
  chunk_block_size: 524288
  chunk_target_size: 2097152
  max_chunk_age: 1h
  chunk_idle_period: 15m
  chunk_retain_period: 30s
  flush_check_period: 10s
  flush_op_timeout: 5m
  concurrent_flushes: 8
  flush_op_backoff:
    min_period: 5s
    max_period: 2m
    max_retries: 20
  wal:
    enabled: true
    dir: /var/lib/strata/wal
    checkpoint_duration: 10m
    flush_on_shutdown: true
    replay_memory_ceiling: 2GB
    fsync: batch
    fsync_interval: 25ms
  lifecycler:
    address: 127.0.0.1
    final_sleep: 0s
    ring:
      kvstore:
        store: inmemory
      replication_factor: 1

schema_config:
  configs:
    - from: 2023-06-01
      store: boltdb-shipper
      object_store: filesystem
      schema: v12
      index:
        prefix: index_
        period: 24h
    - from: "2024-04-15"
      store: tsdb
      object_store: s3
      schema: v13
      index:
        prefix: tsdb_index_
        period: 24h

storage_config:
  filesystem:
    directory: /var/lib/strata/chunks
  aws:
    s3: s3://AKIA123:s3cr3t@eu-west-1/logs-bucket
    s3forcepathstyle: false
    insecure: false
    http_config:
      insecure_skip_verify: false
      idle_conn_timeout: 2m
  tsdb_shipper:
    active_index_directory: /var/lib/strata/tsdb-index
    cache_location: /var/lib/strata/tsdb-cache
    cache_ttl: 12h

limits_config:
  ingestion_rate_strategy: local
  ingestion_rate_mb: 12.5
  ingestion_burst_size_mb: 24
  per_stream_rate_limit: 5MB
  per_stream_rate_limit_burst: 20MB
  max_line_size: 512kb
  max_line_size_truncate: true
  max_label_names_per_series: 30
  max_label_name_length: 512
  max_label_value_length: 4096
  reject_old_samples: true
  reject_old_samples_max_age: 2w
  creation_grace_period: 15m
  max_global_streams_per_user: 10000
  max_streams_per_user: 0
  allow_structured_metadata: true
  max_structured_metadata_size: 128KB
  max_structured_metadata_entries_count: 256
  max_entries_limit_per_query: 10000
  max_query_series: 1000
  max_query_length: 30d1h
  max_query_lookback: 90d
  query_timeout: 5m
  max_query_parallelism: 16
  split_queries_by_interval: 30m
  retention_period: 744h
  retention_stream:
    - selector: '{namespace="dev"}'
      priority: 1
      period: 24h
    - selector: '{container="nginx"}'
      priority: 2
      period: 1w
  unordered_writes: true
  increment_duplicate_timestamp: true
  discover_service_name: [service, app]
  discover_log_levels: false
  shard_streams:
    enabled: false
  volume_enabled: true
  deletion_mode: filter-only
  max_cache_freshness_per_query: 5m
  metric_aggregation_enabled: true

runtime_config:
  file: /etc/strata/overrides.yaml
  period: 30s

querier:
  query_ingesters_within: 2h
  max_concurrent: 8
  tail_max_duration: 30m

query_range:
  align_queries_with_step: true
  cache_results: true
  results_cache:
    cache:
      embedded_cache:
        enabled: true
        max_size_mb: 100

frontend:
  max_outstanding_per_tenant: 4096
  encoding: protobuf
  log_queries_longer_than: -1s

compactor:
  working_directory: /var/lib/strata/compactor
  compaction_interval: 5m
  retention_enabled: true
  retention_delete_delay: 1h
  retention_delete_worker_count: 50
  delete_request_store: s3
  delete_request_cancel_period: 12h

table_manager:
  retention_deletes_enabled: false
  retention_period: 0s

ruler:
  storage:
    type: local
    local:
      directory: /var/lib/strata/rules
  rule_path: /var/lib/strata/rules-temp
  alertmanager_url: http://localhost:9093
  evaluation_interval: 30s
  external_labels:
    cluster: dev
  remote_write:
    enabled: true
    clients:
      prom:
        url: http://prometheus:9090/api/v1/write

pattern_ingester:
  enabled: true
  metric_aggregation:
    loki_address: localhost:3100

memberlist:
  join_members: []

analytics:
  reporting_enabled: false
`;

describe('defaultConfig', () => {
  it('has Loki defaults, keys and units', () => {
    const c = defaultConfig();
    expect(c.target).toBe('all');
    expect(c.auth_enabled).toBe(true);
    expect(c.server).toMatchObject({
      http_listen_address: '',
      http_listen_port: 3100,
      grpc_listen_port: 9095,
      log_level: 'info',
      http_server_read_timeout: 30 * S,
      http_server_write_timeout: 30 * S,
      http_server_idle_timeout: 2 * M,
    });
    expect(c.common.replication_factor).toBe(3);
    expect(c.ingester).toMatchObject({
      chunk_encoding: 'gzip',
      chunk_block_size: 262144,
      chunk_target_size: 1572864,
      max_chunk_age: 2 * H,
      chunk_idle_period: 30 * M,
      chunk_retain_period: 0,
      flush_check_period: 30 * S,
      flush_op_timeout: 10 * M,
      concurrent_flushes: 32,
    });
    expect(c.ingester.wal).toEqual({
      enabled: true,
      dir: 'wal',
      checkpoint_duration: 5 * M,
      flush_on_shutdown: false,
      replay_memory_ceiling: 4 * 1024 ** 3,
      fsync: 'always',
      fsync_interval: 10,
    });
    expect(c.runtime_config).toEqual({ file: '', period: 10 * S });
    expect(c.querier).toMatchObject({ query_ingesters_within: 3 * H, max_concurrent: 4, tail_max_duration: H });
    expect(c.frontend.max_outstanding_per_tenant).toBe(2048);
    expect(c.compactor).toMatchObject({
      compaction_interval: 10 * M,
      retention_enabled: false,
      retention_delete_delay: 2 * H,
      retention_delete_worker_count: 150,
      delete_request_cancel_period: 24 * H,
    });
    expect(c.limits_config).toEqual(defaultLimits());
    expect(c.schema_config.configs).toEqual([]);
  });

  it('returns a fresh object each time', () => {
    const a = defaultConfig();
    a.limits_config.discover_service_name.push('x');
    a.server.http_listen_port = 1;
    expect(defaultConfig().limits_config.discover_service_name).toEqual(DEFAULT_DISCOVER_SERVICE_NAME);
    expect(defaultConfig().server.http_listen_port).toBe(3100);
  });

  it('matches the schema key for key, so every key parses and prints', () => {
    const mismatches: string[] = [];
    const walk = (value: unknown, spec: FieldSpec, path: string): void => {
      if (spec.kind !== 'object') return;
      const keys = Object.keys(value as object).sort();
      const specKeys = Object.keys(spec.fields).sort();
      if (JSON.stringify(keys) !== JSON.stringify(specKeys)) mismatches.push(`${path}: ${keys} vs ${specKeys}`);
      for (const k of specKeys) walk((value as Record<string, unknown>)[k], spec.fields[k]!, `${path}.${k}`);
    };
    walk(defaultConfig(), CONFIG_SPEC, 'config');
    expect(mismatches).toEqual([]);
  });
});

describe('EMBEDDED_DEFAULT_CONFIG_YAML', () => {
  it('parses into the single-binary setup', () => {
    const c = parse(EMBEDDED_DEFAULT_CONFIG_YAML);
    expect(c.auth_enabled).toBe(false);
    expect(c.server.http_listen_port).toBe(3100);
    expect(c.common.path_prefix).toBe('./data');
    expect(c.common.replication_factor).toBe(1);
    expect(c.common.storage.filesystem.chunks_directory).toBe('./data/chunks');
    expect(c.ingester.wal.dir).toBe('./data/wal');
    expect(c.ingester.chunk_encoding).toBe('snappy');
    expect(c.schema_config.configs).toEqual([
      {
        from: '2024-01-01',
        store: 'tsdb',
        object_store: 'filesystem',
        schema: 'v13',
        index: { prefix: 'index_', period: D, path_prefix: 'index/' },
        chunks: { prefix: '', period: 0 },
        row_shards: 16,
      },
    ]);
  });

  it('is what loadConfig uses without a file, with everything resolved under ./data', () => {
    const c = loadConfig({ now: NOW });
    expect(c.storage_config.filesystem.directory).toBe('./data/chunks');
    expect(c.ruler.storage).toMatchObject({ type: 'local', local: { directory: './data/rules' } });
    expect(c.storage_config.tsdb_shipper.active_index_directory).toBe('./data/tsdb-index');
    expect(c.ingester.lifecycler.ring.replication_factor).toBe(1);
    expect(c.ingester.lifecycler.address).toBe('127.0.0.1');
  });
});

describe('parseConfig: a realistic Loki config', () => {
  const c = parse(REALISTIC);

  it('reads top level and server', () => {
    expect(c.auth_enabled).toBe(true);
    expect(c.server).toMatchObject({
      http_listen_address: '0.0.0.0',
      http_listen_port: 3200,
      grpc_listen_port: 9096,
      log_level: 'debug',
      log_format: 'json',
      http_server_read_timeout: M,
      http_server_write_timeout: 150 * S,
      http_server_idle_timeout: 5 * M,
      grpc_server_max_concurrent_streams: 1000,
    });
  });

  it('reads common', () => {
    expect(c.common).toMatchObject({
      instance_addr: '127.0.0.1',
      path_prefix: '/var/lib/strata',
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
      storage: { filesystem: { chunks_directory: '/var/lib/strata/chunks', rules_directory: '/var/lib/strata/rules' } },
    });
  });

  it('reads ingester and its WAL', () => {
    expect(c.ingester).toMatchObject({
      chunk_encoding: 'zstd',
      chunk_block_size: 524288,
      chunk_target_size: 2097152,
      max_chunk_age: H,
      chunk_idle_period: 15 * M,
      chunk_retain_period: 30 * S,
      flush_check_period: 10 * S,
      flush_op_timeout: 5 * M,
      concurrent_flushes: 8,
      flush_op_backoff: { min_period: 5 * S, max_period: 2 * M, max_retries: 20 },
      lifecycler: { address: '127.0.0.1', final_sleep: 0, ring: { replication_factor: 1 } },
    });
    expect(c.ingester.wal).toEqual({
      enabled: true,
      dir: '/var/lib/strata/wal',
      checkpoint_duration: 10 * M,
      flush_on_shutdown: true,
      replay_memory_ceiling: 2 * 1024 ** 3,
      fsync: 'batch',
      fsync_interval: 25,
    });
  });

  it('reads schema periods, quoted or not', () => {
    expect(c.schema_config.configs.map((p) => [p.from, p.store, p.object_store, p.schema, p.index.prefix, p.index.period])).toEqual([
      ['2023-06-01', 'boltdb-shipper', 'filesystem', 'v12', 'index_', D],
      ['2024-04-15', 'tsdb', 's3', 'v13', 'tsdb_index_', D],
    ]);
    expect(periodAt(c.schema_config.configs, Date.UTC(2024, 0, 1))?.schema).toBe('v12');
    expect(periodAt(c.schema_config.configs, Date.UTC(2024, 3, 15))?.schema).toBe('v13');
    expect(periodAt(c.schema_config.configs, Date.UTC(2020, 0, 1))).toBeUndefined();
    expect(periodStart(c.schema_config.configs[1]!)).toBe(Date.UTC(2024, 3, 15));
  });

  it('reads storage_config', () => {
    expect(c.storage_config.filesystem.directory).toBe('/var/lib/strata/chunks');
    expect(c.storage_config.aws).toMatchObject({
      s3: 's3://AKIA123:s3cr3t@eu-west-1/logs-bucket',
      http_config: { insecure_skip_verify: false, idle_conn_timeout: 2 * M },
    });
    expect(c.storage_config.tsdb_shipper).toMatchObject({
      active_index_directory: '/var/lib/strata/tsdb-index',
      cache_location: '/var/lib/strata/tsdb-cache',
      cache_ttl: 12 * H,
    });
  });

  it('reads limits_config with Loki units', () => {
    expect(c.limits_config).toMatchObject({
      ingestion_rate_strategy: 'local',
      ingestion_rate_mb: 12.5,
      ingestion_burst_size_mb: 24,
      per_stream_rate_limit: 5 * 1024 * 1024,
      per_stream_rate_limit_burst: 20 * 1024 * 1024,
      max_line_size: 512 * 1024,
      max_line_size_truncate: true,
      max_label_names_per_series: 30,
      reject_old_samples_max_age: 14 * D,
      creation_grace_period: 15 * M,
      max_global_streams_per_user: 10000,
      max_structured_metadata_size: 128 * 1024,
      max_structured_metadata_entries_count: 256,
      max_entries_limit_per_query: 10000,
      max_query_length: 721 * H,
      max_query_lookback: 90 * D,
      query_timeout: 5 * M,
      split_queries_by_interval: 30 * M,
      retention_period: 31 * D,
      increment_duplicate_timestamp: true,
      discover_service_name: ['service', 'app'],
      discover_log_levels: false,
      shard_streams: { enabled: false, logging_enabled: false, desired_rate: 1536 * 1024 },
      deletion_mode: 'filter-only',
      max_cache_freshness_per_query: 5 * M,
    });
    expect(c.limits_config.retention_stream).toEqual([
      { selector: '{namespace="dev"}', priority: 1, period: D },
      { selector: '{container="nginx"}', priority: 2, period: 7 * D },
    ]);
    // Untouched keys keep Loki's defaults.
    expect(c.limits_config.max_query_parallelism).toBe(16);
    expect(c.limits_config.volume_max_series).toBe(1000);
  });

  it('reads the query path, compactor, ruler and accepted blocks', () => {
    expect(c.runtime_config).toEqual({ file: '/etc/strata/overrides.yaml', period: 30 * S });
    expect(c.querier).toMatchObject({ query_ingesters_within: 2 * H, max_concurrent: 8, tail_max_duration: 30 * M });
    expect(c.query_range).toMatchObject({
      align_queries_with_step: true,
      cache_results: true,
      results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 100 } } },
    });
    expect(c.frontend).toMatchObject({ max_outstanding_per_tenant: 4096, encoding: 'protobuf', log_queries_longer_than: -S });
    expect(c.compactor).toMatchObject({
      working_directory: '/var/lib/strata/compactor',
      compaction_interval: 5 * M,
      retention_enabled: true,
      retention_delete_delay: H,
      retention_delete_worker_count: 50,
      delete_request_store: 's3',
      delete_request_cancel_period: 12 * H,
    });
    expect(c.table_manager).toEqual({ retention_deletes_enabled: false, retention_period: 0, poll_interval: 2 * M, creation_grace_period: 10 * M });
    expect(c.ruler).toMatchObject({
      storage: { type: 'local', local: { directory: '/var/lib/strata/rules' } },
      rule_path: '/var/lib/strata/rules-temp',
      alertmanager_url: 'http://localhost:9093',
      evaluation_interval: 30 * S,
      external_labels: { cluster: 'dev' },
    });
    expect(c.ruler.remote_write.clients).toEqual({
      prom: { url: 'http://prometheus:9090/api/v1/write', remote_timeout: 30 * S, headers: {} },
    });
    expect(c.pattern_ingester.enabled).toBe(true);
    expect(c.analytics.reporting_enabled).toBe(false);
  });

  it('prints back as YAML that parses to the same config', () => {
    const c2 = parse(REALISTIC.replace('AKIA123:s3cr3t@', ''));
    const yaml = configToYaml(c2);
    expect(parse(yaml)).toEqual(c2);
  });

  it('prints durations, sizes and masked secrets the Loki way', () => {
    const cfg = parse(`${SCHEMA}
storage_config:
  aws:
    s3: s3://key:s3cr3t@eu-west-1/bucket
    secret_access_key: hunter2
`);
    const printed = parseYaml(configToYaml(cfg)) as Record<string, Record<string, unknown>>;
    expect(printed.limits_config).toMatchObject({
      max_line_size: '256KB',
      per_stream_rate_limit: '3MB',
      max_query_length: '30d1h',
      reject_old_samples_max_age: '1w',
      retention_period: '0s',
    });
    expect(printed.ingester).toMatchObject({ max_chunk_age: '2h', chunk_block_size: 262144 });
    expect((printed.storage_config!.aws as Record<string, unknown>).secret_access_key).toBe('********');
    expect((printed.storage_config!.aws as Record<string, unknown>).s3).toBe('s3://key:********@eu-west-1/bucket');
    expect(configToYaml(cfg)).not.toContain('hunter2');
    expect(configToYaml(cfg)).not.toContain('s3cr3t');
    const keys = Object.keys(printed);
    expect(keys.slice(0, 3)).toEqual(['target', 'auth_enabled', 'server']);
  });

  it("accepts Loki's own local sample config", () => {
    const cfg = parse(`auth_enabled: false
server:
  http_listen_port: 3100
  grpc_listen_port: 9096
  log_level: debug
  grpc_server_max_concurrent_streams: 1000
common:
  instance_addr: 127.0.0.1
  path_prefix: /tmp/loki
  storage:
    filesystem:
      chunks_directory: /tmp/loki/chunks
      rules_directory: /tmp/loki/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
query_range:
  results_cache:
    cache:
      embedded_cache:
        enabled: true
        max_size_mb: 100
limits_config:
  metric_aggregation_enabled: true
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
pattern_ingester:
  enabled: true
  metric_aggregation:
    loki_address: localhost:3100
ruler:
  alertmanager_url: http://localhost:9093
frontend:
  encoding: protobuf
`);
    expect(cfg.common.path_prefix).toBe('/tmp/loki');
  });

  it('treats an empty section or value as "keep the defaults", like an empty file', () => {
    const cfg = parse(`${SCHEMA}server:\nruler:\n  rule_path:\n`);
    expect(cfg.server).toEqual(defaultConfig().server);
    expect(cfg.ruler.rule_path).toBe('/rules');
  });

  it('accepts YAML anchors, aliases and merge keys', () => {
    const cfg = parse(`${SCHEMA}
ingester:
  lifecycler:
    ring:
      kvstore: &kv
        store: etcd
        etcd:
          endpoints: [etcd-0:2379, etcd-1:2379]
distributor:
  ring:
    kvstore:
      <<: *kv
      prefix: dist/
`);
    expect(cfg.ingester.lifecycler.ring.kvstore).toMatchObject({ store: 'etcd', etcd: { endpoints: ['etcd-0:2379', 'etcd-1:2379'] } });
    expect(cfg.distributor.ring.kvstore).toMatchObject({ store: 'etcd', prefix: 'dist/' });
  });

  it('accepts YAML 1.1 booleans as Loki (yaml.v2) does', () => {
    const cfg = parse(`${SCHEMA}auth_enabled: no\nanalytics:\n  reporting_enabled: off\n`);
    expect(cfg.auth_enabled).toBe(false);
    expect(cfg.analytics.reporting_enabled).toBe(false);
  });
});

describe('parseConfig: unknown keys', () => {
  it('names the key, the Go-style type and the line, at the top level', () => {
    const e = errorOf(() => parse(`${SCHEMA}auth_enabld: false\n`));
    expect(e.kind).toBe('unmarshal');
    expect(e.message).toBe(
      'failed parsing config: config.yaml: yaml: unmarshal errors:\n  line 10: field auth_enabld not found in type loki.Config',
    );
    expect(e.issues).toEqual([{ path: 'auth_enabld', line: 10, message: 'field auth_enabld not found in type loki.Config' }]);
  });

  it('names nested keys with their own type, and reports every one', () => {
    const text = `${SCHEMA}
ingester:
  chunk_encodng: snappy
  wal:
    enabled: true
    fsyncc: always
limits_config:
  max_line_sise: 1MB
  shard_streams:
    enable: true
`;
    const e = errorOf(() => parse(text));
    expect(e.message).toBe(
      [
        'failed parsing config: config.yaml: yaml: unmarshal errors:',
        '  line 12: field chunk_encodng not found in type ingester.Config',
        '  line 15: field fsyncc not found in type ingester.WALConfig',
        '  line 17: field max_line_sise not found in type validation.Limits',
        '  line 19: field enable not found in type shardstreams.Config',
      ].join('\n'),
    );
    expect(e.issues.map((i) => i.path)).toEqual([
      'ingester.chunk_encodng',
      'ingester.wal.fsyncc',
      'limits_config.max_line_sise',
      'limits_config.shard_streams.enable',
    ]);
  });

  it('checks keys inside list items', () => {
    const e = errorOf(() =>
      parse(`schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
        perid: 24h
`),
    );
    expect(e.message).toContain('line 10: field perid not found in type config.IndexPeriodicTableConfig');
  });

  it('omits the file name when none is given', () => {
    expect(() => parseConfig('foo: 1\n')).toThrow(/^failed parsing config: yaml: unmarshal errors:\n {2}line 1: field foo not found in type loki\.Config$/);
  });
});

describe('parseConfig: invalid values', () => {
  it.each([
    ['ingester:\n  chunk_encoding: fast\n', 11, 'ingester.chunk_encoding', 'invalid value "fast" for ingester.chunk_encoding: must be one of none, gzip, lz4-64k, snappy, lz4-256k, lz4-1M, lz4, flate, zstd'],
    ['ingester:\n  max_chunk_age: 2 hours\n', 11, 'ingester.max_chunk_age', 'invalid value "2 hours" for ingester.max_chunk_age: not a valid duration (e.g. 30s, 5m, 1h30m, 7d)'],
    ['ingester:\n  flush_check_period: 30\n', 11, 'ingester.flush_check_period', 'invalid value "30" for ingester.flush_check_period: missing unit (e.g. "30s"; units: ms, s, m, h, d, w, y)'],
    ['limits_config:\n  max_line_size: 1.5MB\n', 11, 'limits_config.max_line_size', 'invalid value "1.5MB" for limits_config.max_line_size: unknown unit ".5MB" (use B, KB, MB, GB, TB; 1KB = 1024 bytes)'],
    ['limits_config:\n  ingestion_rate_strategy: cluster\n', 11, 'limits_config.ingestion_rate_strategy', 'invalid value "cluster" for limits_config.ingestion_rate_strategy: must be one of global, local'],
    ['server:\n  http_listen_port: http\n', 11, 'server.http_listen_port', 'invalid value "http" for server.http_listen_port: expected an integer'],
    ['server:\n  http_listen_port: 70000\n', 11, 'server.http_listen_port', 'invalid value "70000" for server.http_listen_port: must be at most 65535'],
    ['auth_enabled: "true"\n', 10, 'auth_enabled', 'invalid value "true" for auth_enabled: expected a boolean (true or false)'],
    ['ingester:\n  wal:\n    fsync: sometimes\n', 12, 'ingester.wal.fsync', 'invalid value "sometimes" for ingester.wal.fsync: must be one of always, batch, never'],
    ['limits_config:\n  reject_old_samples_max_age: -1h\n', 11, 'limits_config.reject_old_samples_max_age', 'invalid value "-1h" for limits_config.reject_old_samples_max_age: must not be negative'],
    ['server: 5\n', 10, 'server', 'invalid value for server: expected a mapping (server.Config), got a value'],
    ['limits_config:\n  discover_service_name: app\n', 11, 'limits_config.discover_service_name', 'invalid value for limits_config.discover_service_name: expected a sequence of strings, got a value'],
    ['storage_config:\n  aws:\n    s3: "not a url"\n', 12, 'storage_config.aws.s3', 'invalid value "not a url" for storage_config.aws.s3: not a valid URL'],
  ])('%j', (yaml, line, path, message) => {
    const e = errorOf(() => parse(`${SCHEMA}${yaml}`));
    expect(e.kind).toBe('unmarshal');
    expect(e.issues).toEqual([{ path, line, message }]);
    expect(e.message).toContain(`line ${line}: ${message}`);
  });

  it('matches chunk encodings case-insensitively and stores the canonical name', () => {
    expect(parse(`${SCHEMA}ingester:\n  chunk_encoding: LZ4-1m\n`).ingester.chunk_encoding).toBe('lz4-1M');
  });

  it('reports YAML syntax errors with the line', () => {
    const e = errorOf(() => parse('server:\n  http_listen_port: [3100\n'));
    expect(e.kind).toBe('syntax');
    expect(e.message).toMatch(/^failed parsing config: config\.yaml: yaml: line \d+: /);
  });

  it('rejects duplicate keys like Go does', () => {
    const e = errorOf(() => parse(`${SCHEMA}target: all\ntarget: read\n`));
    expect(e.kind).toBe('syntax');
    expect(e.issues[0]!.line).toBe(11); // the second `target`
    expect(e.message).toContain('already defined');
  });

  it('rejects a document that is not a mapping', () => {
    expect(() => parse('- a\n- b\n')).toThrow('line 1: invalid document: expected a mapping (loki.Config), got a sequence');
  });
});

describe('parseConfig: validation', () => {
  const period = (from: string, extra = ''): string =>
    `    - from: ${from}\n      store: tsdb\n      object_store: filesystem\n      schema: v13\n      index:\n        prefix: index_\n        period: 24h\n${extra}`;

  it('requires at least one schema period', () => {
    const e = errorOf(() => parse('target: all\n'));
    expect(e.kind).toBe('validate');
    expect(e.message).toBe('invalid config: config.yaml: schema_config.configs: at least one period config is required');
  });

  it('rejects periods out of order, naming the key and line', () => {
    const e = errorOf(() => parse(`schema_config:\n  configs:\n${period('2024-02-01')}${period('2024-01-01')}`));
    expect(e.issues).toEqual([
      {
        path: 'schema_config.configs[1].from',
        line: 10,
        message:
          'schema_config.configs[1].from "2024-01-01" is not after the previous period\'s from "2024-02-01": schema periods must be listed in strictly increasing date order',
      },
    ]);
  });

  it('rejects duplicate period dates', () => {
    const e = errorOf(() => parse(`schema_config:\n  configs:\n${period('2024-01-01')}${period('2024-01-01')}`));
    expect(e.issues.map((i) => i.path)).toEqual(['schema_config.configs[1].from']);
  });

  it('rejects index periods that are not whole days, and missing ones', () => {
    const bad = `schema_config:\n  configs:\n${period('2024-01-01').replace('period: 24h', 'period: 36h')}`;
    expect(() => parse(bad)).toThrow(
      'invalid config: config.yaml: line 9: schema_config.configs[0].index.period must be a positive multiple of 24h, got "1d12h"',
    );
    const missing = `schema_config:\n  configs:\n    - from: 2024-01-01\n      store: tsdb\n      object_store: filesystem\n      schema: v13\n`;
    expect(errorOf(() => parse(missing)).issues.map((i) => i.path)).toEqual(['schema_config.configs[0].index.period']);
    expect(parse(`schema_config:\n  configs:\n${period('2024-01-01').replace('period: 24h', 'period: 168h')}`)).toBeDefined();
  });

  it('rejects unknown schema versions and stores, and impossible dates', () => {
    expect(() => parse(SCHEMA.replace('v13', 'v14'))).toThrow('for schema_config.configs[0].schema: must be one of v11, v12, v13');
    expect(() => parse(SCHEMA.replace('store: tsdb', 'store: bigtable'))).toThrow('must be one of tsdb, boltdb-shipper');
    expect(() => parse(SCHEMA.replace('2024-01-01', '2024-02-30'))).toThrow(
      'invalid value "2024-02-30" for schema_config.configs[0].from: expected a date in YYYY-MM-DD format',
    );
  });

  it('requires v13 and tsdb in the active period while structured metadata is allowed (Loki 3)', () => {
    const v12 = SCHEMA.replace('v13', 'v12').replace('store: tsdb', 'store: boltdb-shipper');
    const e = errorOf(() => parse(v12));
    expect(e.issues.map((i) => i.path)).toEqual(['schema_config.configs[0].store', 'schema_config.configs[0].schema']);
    expect(e.message).toContain('CONFIG ERROR: schema v13 is required to store Structured Metadata');
    expect(e.message).toContain('your index type is `boltdb-shipper`');
    expect(parse(`${v12}limits_config:\n  allow_structured_metadata: false\n`).schema_config.configs[0]!.schema).toBe('v12');
    // A v13 period starting in the future does not help yet: the active one decides.
    const upgrade = `schema_config:\n  configs:\n${period('2024-01-01').replace('v13', 'v12')}${period('2030-01-01')}`;
    expect(() => parse(upgrade)).toThrow('your schema version is v12');
  });

  it('requires a delete request store when retention is enabled', () => {
    expect(() => parse(`${SCHEMA}compactor:\n  retention_enabled: true\n`)).toThrow(
      'line 11: compactor.delete_request_store should be configured when retention is enabled',
    );
  });

  it('rejects retention shorter than 24h', () => {
    const e = errorOf(() =>
      parse(`${SCHEMA}limits_config:\n  retention_period: 12h\n  retention_stream:\n    - selector: '{a="b"}'\n      priority: 1\n      period: 1h\n`),
    );
    expect(e.issues.map((i) => [i.path, i.line])).toEqual([
      ['limits_config.retention_period', 11],
      ['limits_config.retention_stream[0].period', 15],
    ]);
    expect(e.message).toContain('limits_config.retention_period: retention period must be >= 24h was 12h');
  });

  it('rejects unknown targets', () => {
    expect(() => parse(`${SCHEMA}target: all,indexer\n`)).toThrow('target: unrecognised module name: "indexer"');
    expect(parse(`${SCHEMA}target: querier,query-frontend\n`).target).toBe('querier,query-frontend');
  });

  it('validateConfig re-checks a config changed after parsing', () => {
    const c = parse(SCHEMA);
    c.target = 'nope';
    expect(() => validateConfig(c, { now: NOW })).toThrow(ConfigError);
  });
});

describe('-config.expand-env', () => {
  const env = { BUCKET: 'logs', EMPTY: '', PORT: '3200' };

  it('expands ${VAR}, $VAR and ${VAR:-default}', () => {
    expect(expandEnv('a=${BUCKET} b=$BUCKET c=${MISSING:-dflt} d=${EMPTY:-dflt} e=${BUCKET:-x} f=${MISSING}.', env)).toBe(
      'a=logs b=logs c=dflt d=dflt e=logs f=.',
    );
    expect(expandEnv('${MISSING:dflt}', env)).toBe('dflt');
  });

  it('keeps a lone or malformed $ as is', () => {
    expect(expandEnv('cost: 5$ and ${ unclosed and $1 and ${}', env)).toBe('cost: 5$ and ${ unclosed and $1 and ${}');
  });

  it('is applied by parseConfig only when asked, before YAML parsing', () => {
    const text = `${SCHEMA}server:\n  http_listen_port: \${PORT}\nstorage_config:\n  aws:\n    bucketnames: \${BUCKET:-default-bucket}\n    region: \${REGION:-us-east-1}\n`;
    const c = parseConfig(text, { expandEnv: true, env, now: NOW });
    expect(c.server.http_listen_port).toBe(3200); // substituted text is parsed as a YAML integer
    expect(c.storage_config.aws.bucketnames).toBe('logs');
    expect(c.storage_config.aws.region).toBe('us-east-1');
    expect(() => parseConfig(text, { env, now: NOW })).toThrow('for server.http_listen_port: expected an integer');
  });
});

describe('resolveConfig (the common section)', () => {
  it('puts default directories under path_prefix and leaves explicit ones', () => {
    const c = resolveConfig(parse(`${SCHEMA}common:\n  path_prefix: /data/\ncompactor:\n  working_directory: /elsewhere\n`));
    expect(c.ingester.wal.dir).toBe('/data/wal');
    expect(c.compactor.working_directory).toBe('/elsewhere');
    expect(c.ruler.rule_path).toBe('/data/rules-temp');
    expect(c.storage_config.tsdb_shipper).toMatchObject({ active_index_directory: '/data/tsdb-index', cache_location: '/data/tsdb-cache' });
    expect(resolveConfig(c)).toEqual(c); // idempotent
  });

  it('copies common storage, ring and replication settings where the specific ones are default', () => {
    const c = resolveConfig(
      parse(`${SCHEMA}
common:
  replication_factor: 1
  ring:
    instance_id: ingester-7
    kvstore:
      store: etcd
      etcd:
        endpoints: [etcd:2379]
  storage:
    s3:
      bucketnames: chunks
      endpoint: minio:9000
memberlist:
  join_members: [strata-memberlist]
`),
    );
    expect(c.storage_config.aws).toMatchObject({ bucketnames: 'chunks', endpoint: 'minio:9000' });
    expect(c.ruler.storage.type).toBe('s3');
    expect(c.ingester.lifecycler.ring.replication_factor).toBe(1);
    expect(c.ingester.lifecycler.ring.kvstore).toMatchObject({ store: 'etcd', etcd: { endpoints: ['etcd:2379'] } });
    expect(c.distributor.ring.kvstore.store).toBe('etcd'); // explicit common store beats memberlist's implication
    expect(c.ingester.lifecycler.id).toBe('ingester-7');
  });

  it('switches rings to memberlist when join_members is set and no store was chosen', () => {
    const c = resolveConfig(parse(`${SCHEMA}memberlist:\n  join_members: [a:7946]\n`));
    expect(c.common.ring.kvstore.store).toBe('memberlist');
    expect(c.ingester.lifecycler.ring.kvstore.store).toBe('memberlist');
  });
});

describe('resolveS3Config', () => {
  const s3 = (yaml: string) => parse(`${SCHEMA}storage_config:\n  aws:\n${yaml}`).storage_config.aws;

  it('reads region, bucket and credentials from the URL form', () => {
    expect(resolveS3Config(s3('    s3: s3://AKIA:se%2Fcret@eu-west-1/my-bucket\n'))).toEqual({
      region: 'eu-west-1',
      buckets: ['my-bucket'],
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'se/cret' },
      forcePathStyle: false,
      insecureSkipVerify: false,
      inmemory: false,
    });
  });

  it('treats a host with a dot or a port as an endpoint', () => {
    expect(resolveS3Config(s3('    s3: s3://k:s@minio.local:9000/b\n')).endpoint).toBe('http://minio.local:9000');
    expect(resolveS3Config(s3('    s3: s3://k:s@minio:9000/b\n')).endpoint).toBe('http://minio:9000');
  });

  it('lets explicit fields override the URL', () => {
    const r = resolveS3Config(
      s3(
        '    s3: s3://a:b@us-east-1/one\n    bucketnames: x, y\n    endpoint: s3.example.com\n    region: eu-central-1\n    access_key_id: K\n    secret_access_key: S\n    s3forcepathstyle: true\n',
      ),
    );
    expect(r).toMatchObject({
      endpoint: 'https://s3.example.com',
      region: 'eu-central-1',
      buckets: ['x', 'y'],
      credentials: { accessKeyId: 'K', secretAccessKey: 'S' },
      forcePathStyle: true,
    });
    expect(resolveS3Config(s3('    endpoint: minio:9000\n    insecure: true\n')).endpoint).toBe('http://minio:9000');
  });

  it('recognises the inmemory mock', () => {
    expect(resolveS3Config(s3('    s3: inmemory:///bucket\n'))).toMatchObject({ inmemory: true, buckets: ['bucket'] });
  });
});
