/**
 * Strata's configuration: the subset of Loki's `config.yaml` we understand, with Loki's key names, defaults and units
 * (durations in milliseconds, sizes in bytes). Keys are snake_case so the structure prints back as Loki YAML.
 *
 * Three things live here and must stay in step (a test walks them against each other):
 *   1. the TypeScript interfaces,
 *   2. `defaultConfig()` — Loki's defaults, except where a comment says otherwise,
 *   3. `CONFIG_SPEC` — how each key is decoded/encoded and the Go-style type name Loki's errors mention.
 *
 * Blocks marked "accepted" are parsed and printed so Loki configs load unchanged, but nothing in Strata reads them.
 */
import { defaultLimits, type Limits } from '../limits/limits.js';
import {
  bool,
  bytes,
  date,
  duration,
  float,
  int,
  list,
  mapOf,
  obj,
  oneOf,
  str,
  strings,
  url,
  type ObjectSpec,
} from './spec.js';

// ------------------------------------------------------------------------------------------------ types

/** `kubernetes` is a Strata extension; `memberlist` and `consul` are accepted and refused when a ring starts. */
export type KvStore = 'inmemory' | 'etcd' | 'kubernetes' | 'memberlist' | 'consul';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type ChunkEncoding = 'none' | 'gzip' | 'lz4-64k' | 'snappy' | 'lz4-256k' | 'lz4-1M' | 'lz4' | 'flate' | 'zstd';
/** Strata extension: when the WAL is fsynced relative to acknowledging a push. */
export type WalFsync = 'always' | 'batch' | 'never';
export type IndexStore = 'tsdb' | 'boltdb-shipper';
export type ObjectStoreName = 'filesystem' | 's3' | 'aws';
export type SchemaVersion = 'v11' | 'v12' | 'v13';

export interface ServerConfig {
  http_listen_address: string;
  http_listen_port: number;
  grpc_listen_address: string;
  /** Accepted; Strata components talk HTTP only. */
  grpc_listen_port: number;
  log_level: LogLevel;
  log_format: 'logfmt' | 'json';
  /** Milliseconds. */
  http_server_read_timeout: number;
  http_server_write_timeout: number;
  http_server_idle_timeout: number;
  graceful_shutdown_timeout: number;
  http_path_prefix: string;
  register_instrumentation: boolean;
  /** Accepted (gRPC). */
  grpc_server_max_recv_msg_size: number;
  grpc_server_max_send_msg_size: number;
  grpc_server_max_concurrent_streams: number;
}

export interface EtcdConfig {
  endpoints: string[];
  /** Milliseconds. */
  dial_timeout: number;
  max_retries: number;
  username: string;
  password: string;
}

/** Strata extension: the `kubernetes` ring store (one coordination.k8s.io Lease per instance). */
export interface KubernetesKvConfig {
  /** Namespace of the Leases; '' = the pod's own (the in-cluster service account's namespace). */
  namespace: string;
  /** Path of a kubeconfig file; '' = the in-cluster service account. */
  kubeconfig: string;
}

export interface KvConfig {
  store: KvStore;
  prefix: string;
  etcd: EtcdConfig;
  kubernetes: KubernetesKvConfig;
}

export interface RingConfig {
  kvstore: KvConfig;
  /** Milliseconds. */
  heartbeat_period: number;
  heartbeat_timeout: number;
  instance_id: string;
  instance_addr: string;
  instance_port: number;
  zone_awareness_enabled: boolean;
}

export interface S3HttpConfig {
  /** Milliseconds. */
  timeout: number;
  idle_conn_timeout: number;
  response_header_timeout: number;
  insecure_skip_verify: boolean;
  ca_file: string;
}

export interface BackoffConfig {
  /** Milliseconds. */
  min_period: number;
  max_period: number;
  max_retries: number;
}

/** Loki's `s3_storage_config` (storage_config.aws, common.storage.s3, ruler.storage.s3). */
export interface S3Config {
  /** `s3://key:secret@region/bucket`, or `s3://key:secret@host:port/bucket` for a custom endpoint. */
  s3: string;
  s3forcepathstyle: boolean;
  /** Comma-separated; overrides the bucket in `s3`. */
  bucketnames: string;
  endpoint: string;
  region: string;
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  insecure: boolean;
  http_config: S3HttpConfig;
  signature_version: string;
  storage_class: string;
  backoff_config: BackoffConfig;
}

export interface CommonConfig {
  path_prefix: string;
  replication_factor: number;
  instance_addr: string;
  compactor_address: string;
  ring: RingConfig;
  storage: {
    filesystem: { chunks_directory: string; rules_directory: string };
    s3: S3Config;
  };
}

export interface PeriodConfig {
  /** `YYYY-MM-DD`, UTC; the first day this period applies. */
  from: string;
  store: IndexStore;
  object_store: ObjectStoreName;
  schema: SchemaVersion;
  index: {
    prefix: string;
    /** Milliseconds; a multiple of 24h. */
    period: number;
    path_prefix: string;
  };
  /** Accepted (legacy chunk tables). */
  chunks: { prefix: string; period: number };
  row_shards: number;
}

export interface SchemaConfig {
  configs: PeriodConfig[];
}

export interface IndexShipperConfig {
  active_index_directory: string;
  cache_location: string;
  /** Milliseconds. */
  cache_ttl: number;
  resync_interval: number;
  query_ready_num_days: number;
  /** Queriers ask this index gateway (`host:port`) instead of reading index files themselves; empty: read them. */
  index_gateway_client: { server_address: string };
}

export interface StorageConfig {
  filesystem: { directory: string };
  aws: S3Config;
  tsdb_shipper: IndexShipperConfig;
  /** Accepted: boltdb-shipper periods are read through the same shipper settings. */
  boltdb_shipper: IndexShipperConfig;
}

export interface WalConfig {
  enabled: boolean;
  /** Relative paths are under `common.path_prefix` when it is set and `dir` is left at its default `wal`. */
  dir: string;
  /** Milliseconds. */
  checkpoint_duration: number;
  flush_on_shutdown: boolean;
  /** Bytes. */
  replay_memory_ceiling: number;
  /** Strata extension (default `always`: fsync before acknowledging a push). */
  fsync: WalFsync;
  /** Strata extension: group-commit window for `fsync: batch`, milliseconds. */
  fsync_interval: number;
}

export interface LifecyclerConfig {
  ring: { kvstore: KvConfig; heartbeat_timeout: number; replication_factor: number; zone_awareness_enabled: boolean };
  num_tokens: number;
  /** Milliseconds. */
  heartbeat_period: number;
  heartbeat_timeout: number;
  join_after: number;
  min_ready_duration: number;
  final_sleep: number;
  address: string;
  port: number;
  id: string;
  availability_zone: string;
  /**
   * Strata extension: when `availability_zone` is empty, read the zone from this file, waiting until it is not
   * empty (the operator writes the node's zone into a pod annotation that a downward-API volume shows here).
   */
  availability_zone_file: string;
}

export interface IngesterConfig {
  lifecycler: LifecyclerConfig;
  concurrent_flushes: number;
  /** Milliseconds. */
  flush_check_period: number;
  flush_op_backoff: BackoffConfig;
  flush_op_timeout: number;
  chunk_retain_period: number;
  chunk_idle_period: number;
  /** Bytes (uncompressed head block size before it is cut). */
  chunk_block_size: number;
  /** Bytes (compressed chunk size target). */
  chunk_target_size: number;
  chunk_encoding: ChunkEncoding;
  max_chunk_age: number;
  max_returned_stream_errors: number;
  wal: WalConfig;
}

export interface DistributorConfig {
  ring: RingConfig;
  /** Bytes: the largest push body accepted (compressed, as received). */
  max_recv_msg_size: number;
  /** Bytes: the largest push body after decompression (Loki: 50x max_recv_msg_size). */
  max_decompressed_size: number;
}

export interface RuntimeConfigConfig {
  /** Comma-separated list of overrides files, merged left to right. */
  file: string;
  /** Milliseconds. */
  period: number;
}

export interface QuerierConfig {
  /** Milliseconds. */
  tail_max_duration: number;
  extra_query_delay: number;
  query_ingesters_within: number;
  max_concurrent: number;
  query_store_only: boolean;
  query_ingester_only: boolean;
  multi_tenant_queries_enabled: boolean;
  engine: { max_look_back_period: number };
}

export interface QueryRangeConfig {
  align_queries_with_step: boolean;
  results_cache: {
    cache: {
      /** Milliseconds. */
      default_validity: number;
      embedded_cache: { enabled: boolean; max_size_mb: number; max_size_items: number; ttl: number };
    };
    compression: '' | 'snappy';
  };
  cache_results: boolean;
  max_retries: number;
  parallelise_shardable_queries: boolean;
}

export interface FrontendConfig {
  /** Milliseconds; negative logs every query. */
  log_queries_longer_than: number;
  max_body_size: number;
  query_stats_enabled: boolean;
  max_outstanding_per_tenant: number;
  scheduler_address: string;
  compress_responses: boolean;
  downstream_url: string;
  tail_proxy_url: string;
  encoding: 'json' | 'protobuf';
}

/** How a querier takes work: from a query-scheduler (`scheduler_address`), or only as a direct HTTP target. */
export interface FrontendWorkerConfig {
  scheduler_address: string;
  /** Accepted: Strata's frontends always go through a scheduler or call queriers directly. */
  frontend_address: string;
  /** Queries one querier runs at a time for the scheduler. */
  parallelism: number;
  match_max_concurrent: boolean;
}

export interface IngesterClientConfig {
  /** Milliseconds: the timeout of a call to an ingester. */
  remote_timeout: number;
}

export interface QuerySchedulerConfig {
  max_outstanding_requests_per_tenant: number;
}

export interface CompactorConfig {
  working_directory: string;
  /** Milliseconds. */
  compaction_interval: number;
  apply_retention_interval: number;
  retention_enabled: boolean;
  retention_delete_delay: number;
  retention_delete_worker_count: number;
  delete_request_store: string;
  delete_batch_size: number;
  delete_request_cancel_period: number;
  delete_max_interval: number;
}

export interface TableManagerConfig {
  retention_deletes_enabled: boolean;
  /** Milliseconds; with deletes enabled a multiple of 24h and of the index period (checked at startup). */
  retention_period: number;
  /** Milliseconds: how often the table manager reconciles tables. */
  poll_interval: number;
  /** Milliseconds: how long before its start a period table is created. */
  creation_grace_period: number;
}

export interface RemoteWriteClientConfig {
  url: string;
  /** Milliseconds. */
  remote_timeout: number;
  headers: Record<string, string>;
}

export interface RulerConfig {
  external_url: string;
  external_labels: Record<string, string>;
  /** Milliseconds. */
  evaluation_interval: number;
  poll_interval: number;
  storage: { type: '' | 'local' | 's3'; local: { directory: string }; s3: S3Config };
  rule_path: string;
  /** Comma-separated Alertmanager URLs. */
  alertmanager_url: string;
  enable_alertmanager_v2: boolean;
  notification_queue_capacity: number;
  notification_timeout: number;
  enable_api: boolean;
  enable_sharding: boolean;
  wal: { dir: string };
  remote_write: { enabled: boolean; clients: Record<string, RemoteWriteClientConfig> };
}

export interface MemberlistConfig {
  node_name: string;
  randomize_node_name: boolean;
  join_members: string[];
  bind_addr: string[];
  bind_port: number;
  advertise_addr: string;
  advertise_port: number;
  abort_if_cluster_join_fails: boolean;
  /** Milliseconds. */
  rejoin_interval: number;
  dead_node_reclaim_time: number;
  left_ingesters_timeout: number;
}

export interface Config {
  /** Comma-separated components, `all` for the single binary. */
  target: string;
  auth_enabled: boolean;
  server: ServerConfig;
  distributor: DistributorConfig;
  querier: QuerierConfig;
  query_scheduler: QuerySchedulerConfig;
  frontend: FrontendConfig;
  frontend_worker: FrontendWorkerConfig;
  ingester_client: IngesterClientConfig;
  index_gateway: { mode: 'simple' | 'ring' };
  query_range: QueryRangeConfig;
  ruler: RulerConfig;
  ingester: IngesterConfig;
  /** Accepted (Loki's sample configs enable it); Strata has no pattern ingester. */
  pattern_ingester: { enabled: boolean; metric_aggregation: { loki_address: string } };
  storage_config: StorageConfig;
  schema_config: SchemaConfig;
  compactor: CompactorConfig;
  limits_config: Limits;
  table_manager: TableManagerConfig;
  memberlist: MemberlistConfig;
  runtime_config: RuntimeConfigConfig;
  analytics: { reporting_enabled: boolean; usage_stats_url: string };
  common: CommonConfig;
}

// ------------------------------------------------------------------------------------------------ defaults

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function defaultEtcd(): EtcdConfig {
  return { endpoints: [], dial_timeout: 10 * SECOND, max_retries: 10, username: '', password: '' };
}

/**
 * Loki defaults every ring's kvstore to `consul`; Strata has no Consul client, so the default is `inmemory` (what
 * every single-binary Loki config sets anyway). `consul` is still accepted so the component can refuse it clearly.
 */
function defaultKv(prefix = 'collectors/'): KvConfig {
  return { store: 'inmemory', prefix, etcd: defaultEtcd(), kubernetes: { namespace: '', kubeconfig: '' } };
}

function defaultRing(heartbeatPeriod = 15 * SECOND): RingConfig {
  return {
    kvstore: defaultKv(),
    heartbeat_period: heartbeatPeriod,
    heartbeat_timeout: MINUTE,
    instance_id: '',
    instance_addr: '',
    instance_port: 0,
    zone_awareness_enabled: false,
  };
}

export function defaultS3Config(): S3Config {
  return {
    s3: '',
    s3forcepathstyle: false,
    bucketnames: '',
    endpoint: '',
    region: '',
    access_key_id: '',
    secret_access_key: '',
    session_token: '',
    insecure: false,
    http_config: {
      timeout: 0,
      idle_conn_timeout: 90 * SECOND,
      response_header_timeout: 0,
      insecure_skip_verify: false,
      ca_file: '',
    },
    signature_version: 'v4',
    storage_class: 'STANDARD',
    backoff_config: { min_period: 100, max_period: 3 * SECOND, max_retries: 5 },
  };
}

function defaultShipper(): IndexShipperConfig {
  return {
    active_index_directory: '',
    cache_location: '',
    cache_ttl: 24 * HOUR,
    resync_interval: 5 * MINUTE,
    query_ready_num_days: 0,
    index_gateway_client: { server_address: '' },
  };
}

export function defaultPeriodConfig(): PeriodConfig {
  // Loki has no defaults for these; empty values are rejected by validation with the key named.
  return {
    from: '',
    store: '' as IndexStore,
    object_store: '' as ObjectStoreName,
    schema: '' as SchemaVersion,
    index: { prefix: '', period: 0, path_prefix: 'index/' },
    chunks: { prefix: '', period: 0 },
    row_shards: 16,
  };
}

export function defaultRemoteWriteClient(): RemoteWriteClientConfig {
  return { url: '', remote_timeout: 30 * SECOND, headers: {} };
}

/** Loki's defaults (see the notes on `defaultKv` and `ingester.wal`). A fresh object on every call. */
export function defaultConfig(): Config {
  return {
    target: 'all',
    auth_enabled: true,
    server: {
      http_listen_address: '',
      http_listen_port: 3100,
      grpc_listen_address: '',
      grpc_listen_port: 9095,
      log_level: 'info',
      log_format: 'logfmt',
      http_server_read_timeout: 30 * SECOND,
      http_server_write_timeout: 30 * SECOND,
      http_server_idle_timeout: 2 * MINUTE,
      graceful_shutdown_timeout: 30 * SECOND,
      http_path_prefix: '',
      register_instrumentation: true,
      grpc_server_max_recv_msg_size: 4 * 1024 * 1024,
      grpc_server_max_send_msg_size: 4 * 1024 * 1024,
      grpc_server_max_concurrent_streams: 100,
    },
    distributor: { ring: defaultRing(5 * SECOND), max_recv_msg_size: 104857600, max_decompressed_size: 5242880000 },
    querier: {
      tail_max_duration: HOUR,
      extra_query_delay: 0,
      query_ingesters_within: 3 * HOUR,
      max_concurrent: 4,
      query_store_only: false,
      query_ingester_only: false,
      multi_tenant_queries_enabled: false,
      engine: { max_look_back_period: 30 * SECOND },
    },
    query_scheduler: { max_outstanding_requests_per_tenant: 32000 },
    frontend_worker: { scheduler_address: '', frontend_address: '', parallelism: 10, match_max_concurrent: true },
    ingester_client: { remote_timeout: 5 * SECOND },
    index_gateway: { mode: 'simple' },
    frontend: {
      log_queries_longer_than: 0,
      max_body_size: 10 * 1024 * 1024,
      query_stats_enabled: false,
      max_outstanding_per_tenant: 2048,
      scheduler_address: '',
      compress_responses: true,
      downstream_url: '',
      tail_proxy_url: '',
      encoding: 'json',
    },
    query_range: {
      align_queries_with_step: false,
      results_cache: {
        cache: {
          default_validity: HOUR,
          embedded_cache: { enabled: false, max_size_mb: 100, max_size_items: 0, ttl: HOUR },
        },
        compression: '',
      },
      cache_results: false,
      max_retries: 5,
      parallelise_shardable_queries: true,
    },
    ruler: {
      external_url: '',
      external_labels: {},
      evaluation_interval: MINUTE,
      poll_interval: MINUTE,
      storage: { type: '', local: { directory: '' }, s3: defaultS3Config() },
      rule_path: '/rules',
      alertmanager_url: '',
      enable_alertmanager_v2: true,
      notification_queue_capacity: 10000,
      notification_timeout: 10 * SECOND,
      enable_api: true,
      enable_sharding: false,
      wal: { dir: 'ruler-wal' },
      remote_write: { enabled: false, clients: {} },
    },
    ingester: {
      lifecycler: {
        ring: { kvstore: defaultKv(), heartbeat_timeout: MINUTE, replication_factor: 3, zone_awareness_enabled: false },
        num_tokens: 128,
        heartbeat_period: 5 * SECOND,
        heartbeat_timeout: MINUTE,
        join_after: 0,
        min_ready_duration: 15 * SECOND,
        final_sleep: 0,
        address: '',
        port: 0,
        id: '',
        availability_zone: '',
        availability_zone_file: '',
      },
      concurrent_flushes: 32,
      flush_check_period: 30 * SECOND,
      flush_op_backoff: { min_period: 10 * SECOND, max_period: MINUTE, max_retries: 10 },
      flush_op_timeout: 10 * MINUTE,
      chunk_retain_period: 0,
      chunk_idle_period: 30 * MINUTE,
      chunk_block_size: 262144,
      chunk_target_size: 1572864,
      // Loki's documented default is still gzip; Strata's embedded single-binary config picks snappy.
      chunk_encoding: 'gzip',
      max_chunk_age: 2 * HOUR,
      max_returned_stream_errors: 10,
      wal: {
        enabled: true,
        dir: 'wal',
        checkpoint_duration: 5 * MINUTE,
        flush_on_shutdown: false,
        replay_memory_ceiling: 4 * 1024 ** 3,
        fsync: 'always',
        fsync_interval: 10,
      },
    },
    pattern_ingester: { enabled: false, metric_aggregation: { loki_address: '' } },
    storage_config: {
      filesystem: { directory: '' },
      aws: defaultS3Config(),
      tsdb_shipper: defaultShipper(),
      boltdb_shipper: defaultShipper(),
    },
    schema_config: { configs: [] },
    compactor: {
      working_directory: '/var/loki/compactor',
      compaction_interval: 10 * MINUTE,
      apply_retention_interval: 0,
      retention_enabled: false,
      retention_delete_delay: 2 * HOUR,
      retention_delete_worker_count: 150,
      delete_request_store: '',
      delete_batch_size: 70,
      delete_request_cancel_period: 24 * HOUR,
      delete_max_interval: 24 * HOUR,
    },
    limits_config: defaultLimits(),
    table_manager: { retention_deletes_enabled: false, retention_period: 0, poll_interval: 2 * MINUTE, creation_grace_period: 10 * MINUTE },
    memberlist: {
      node_name: '',
      randomize_node_name: true,
      join_members: [],
      bind_addr: [],
      bind_port: 7946,
      advertise_addr: '',
      advertise_port: 7946,
      abort_if_cluster_join_fails: false,
      rejoin_interval: 0,
      dead_node_reclaim_time: 0,
      left_ingesters_timeout: 5 * MINUTE,
    },
    runtime_config: { file: '', period: 10 * SECOND },
    analytics: { reporting_enabled: true, usage_stats_url: 'https://stats.grafana.org/loki-usage-report' },
    common: {
      path_prefix: '',
      // Loki leaves this unset and the ingester ring's own default (3) applies; the value is the same.
      replication_factor: 3,
      instance_addr: '',
      compactor_address: '',
      ring: defaultRing(),
      storage: {
        filesystem: { chunks_directory: '', rules_directory: '' },
        s3: defaultS3Config(),
      },
    },
  };
}

// ------------------------------------------------------------------------------------------------ schema

export const CHUNK_ENCODINGS: readonly ChunkEncoding[] = [
  'none',
  'gzip',
  'lz4-64k',
  'snappy',
  'lz4-256k',
  'lz4-1M',
  'lz4',
  'flate',
  'zstd',
];

const KV_STORES: readonly KvStore[] = ['inmemory', 'etcd', 'kubernetes', 'memberlist', 'consul'];

const etcdSpec = obj('etcd.Config', {
  endpoints: strings(),
  dial_timeout: duration(),
  max_retries: int(0),
  username: str(),
  password: str({ secret: true }),
});

const kvSpec = obj('kv.Config', {
  store: oneOf(KV_STORES),
  prefix: str(),
  etcd: etcdSpec,
  kubernetes: obj('kv.KubernetesConfig', { namespace: str(), kubeconfig: str() }),
});

const ringSpec = obj('ring.Config', {
  kvstore: kvSpec,
  heartbeat_period: duration(),
  heartbeat_timeout: duration(),
  instance_id: str(),
  instance_addr: str(),
  instance_port: int(0, 65535),
  zone_awareness_enabled: bool(),
});

const backoffSpec = obj('backoff.Config', {
  min_period: duration(),
  max_period: duration(),
  max_retries: int(0),
});

const s3Spec = obj('aws.S3Config', {
  s3: url(),
  s3forcepathstyle: bool(),
  bucketnames: str(),
  endpoint: str(),
  region: str(),
  access_key_id: str(),
  secret_access_key: str({ secret: true }),
  session_token: str({ secret: true }),
  insecure: bool(),
  http_config: obj('aws.HTTPConfig', {
    timeout: duration(),
    idle_conn_timeout: duration(),
    response_header_timeout: duration(),
    insecure_skip_verify: bool(),
    ca_file: str(),
  }),
  signature_version: oneOf(['v4']),
  storage_class: str(),
  backoff_config: backoffSpec,
});

const shipperSpec = (type: string): ObjectSpec =>
  obj(type, {
    active_index_directory: str(),
    cache_location: str(),
    cache_ttl: duration(),
    resync_interval: duration(),
    query_ready_num_days: int(0),
    index_gateway_client: obj('indexgateway.ClientConfig', { server_address: str() }),
  });

const periodSpec = obj('config.PeriodConfig', {
  from: date(),
  store: oneOf(['tsdb', 'boltdb-shipper']),
  object_store: oneOf(['filesystem', 's3', 'aws']),
  schema: oneOf(['v11', 'v12', 'v13']),
  index: obj('config.IndexPeriodicTableConfig', {
    prefix: str(),
    period: duration(),
    path_prefix: str(),
  }),
  chunks: obj('config.PeriodicTableConfig', { prefix: str(), period: duration() }),
  row_shards: int(1),
});

export const LIMITS_SPEC = obj('validation.Limits', {
  ingestion_rate_strategy: oneOf(['global', 'local']),
  ingestion_rate_mb: float(0),
  ingestion_burst_size_mb: float(0),
  per_stream_rate_limit: bytes(),
  per_stream_rate_limit_burst: bytes(),
  max_line_size: bytes(),
  max_line_size_truncate: bool(),
  max_label_names_per_series: int(0),
  max_label_name_length: int(0),
  max_label_value_length: int(0),
  reject_old_samples: bool(),
  reject_old_samples_max_age: duration(),
  creation_grace_period: duration(),
  increment_duplicate_timestamp: bool(),
  discover_service_name: strings(),
  discover_log_levels: bool(),
  log_level_fields: strings(),
  allow_structured_metadata: bool(),
  max_structured_metadata_size: bytes(),
  max_structured_metadata_entries_count: int(0),
  unordered_writes: bool(),
  shard_streams: obj('shardstreams.Config', {
    enabled: bool(),
    logging_enabled: bool(),
    desired_rate: bytes(),
  }),
  max_streams_per_user: int(0),
  max_global_streams_per_user: int(0),
  max_entries_limit_per_query: int(0),
  max_query_series: int(0),
  max_query_length: duration(),
  max_query_lookback: duration(),
  max_query_range: duration(),
  query_timeout: duration(),
  max_query_parallelism: int(0),
  tsdb_max_query_parallelism: int(0),
  tsdb_max_bytes_per_shard: bytes(),
  split_queries_by_interval: duration(),
  split_metadata_queries_by_interval: duration(),
  max_cache_freshness_per_query: duration(),
  max_queriers_per_tenant: int(0),
  max_chunks_per_query: int(0),
  max_streams_matchers_per_query: int(0),
  max_concurrent_tail_requests: int(0),
  cardinality_limit: int(0),
  volume_enabled: bool(),
  volume_max_series: int(0),
  retention_period: duration(),
  retention_stream: list(
    obj('validation.StreamRetention', { selector: str(), priority: int(), period: duration() }),
    () => ({ selector: '', priority: 0, period: 0 }),
  ),
  deletion_mode: oneOf(['disabled', 'filter-only', 'filter-and-delete']),
  ruler_max_rules_per_rule_group: int(0),
  ruler_max_rule_groups_per_tenant: int(0),
  metric_aggregation_enabled: bool(),
});

export const CONFIG_SPEC = obj('loki.Config', {
  target: str(),
  auth_enabled: bool(),
  server: obj('server.Config', {
    http_listen_address: str(),
    http_listen_port: int(0, 65535),
    grpc_listen_address: str(),
    grpc_listen_port: int(0, 65535),
    log_level: oneOf(['debug', 'info', 'warn', 'error']),
    log_format: oneOf(['logfmt', 'json']),
    http_server_read_timeout: duration(),
    http_server_write_timeout: duration(),
    http_server_idle_timeout: duration(),
    graceful_shutdown_timeout: duration(),
    http_path_prefix: str(),
    register_instrumentation: bool(),
    grpc_server_max_recv_msg_size: int(0),
    grpc_server_max_send_msg_size: int(0),
    grpc_server_max_concurrent_streams: int(0),
  }),
  distributor: obj('distributor.Config', {
    ring: ringSpec,
    max_recv_msg_size: int(0),
    max_decompressed_size: int(0),
  }),
  querier: obj('querier.Config', {
    tail_max_duration: duration(),
    extra_query_delay: duration(),
    query_ingesters_within: duration(),
    max_concurrent: int(1),
    query_store_only: bool(),
    query_ingester_only: bool(),
    multi_tenant_queries_enabled: bool(),
    engine: obj('logql.EngineOpts', { max_look_back_period: duration() }),
  }),
  query_scheduler: obj('scheduler.Config', { max_outstanding_requests_per_tenant: int(0) }),
  frontend_worker: obj('worker.Config', {
    scheduler_address: str(),
    frontend_address: str(),
    parallelism: int(1),
    match_max_concurrent: bool(),
  }),
  ingester_client: obj('client.Config', { remote_timeout: duration() }),
  index_gateway: obj('indexgateway.Config', { mode: oneOf(['simple', 'ring']) }),
  frontend: obj('frontend.Config', {
    log_queries_longer_than: duration({ allowNegative: true }),
    max_body_size: int(0),
    query_stats_enabled: bool(),
    max_outstanding_per_tenant: int(0),
    scheduler_address: str(),
    compress_responses: bool(),
    downstream_url: str(),
    tail_proxy_url: str(),
    encoding: oneOf(['json', 'protobuf']),
  }),
  query_range: obj('queryrange.Config', {
    align_queries_with_step: bool(),
    results_cache: obj('queryrangebase.ResultsCacheConfig', {
      cache: obj('cache.Config', {
        default_validity: duration(),
        embedded_cache: obj('cache.EmbeddedCacheConfig', {
          enabled: bool(),
          max_size_mb: int(0),
          max_size_items: int(0),
          ttl: duration(),
        }),
      }),
      compression: oneOf(['', 'snappy']),
    }),
    cache_results: bool(),
    max_retries: int(0),
    parallelise_shardable_queries: bool(),
  }),
  ruler: obj('ruler.Config', {
    external_url: str(),
    external_labels: mapOf(str()),
    evaluation_interval: duration(),
    poll_interval: duration(),
    storage: obj('rulestore.Config', {
      type: oneOf(['', 'local', 's3']),
      local: obj('local.Config', { directory: str() }),
      s3: s3Spec,
    }),
    rule_path: str(),
    alertmanager_url: str(),
    enable_alertmanager_v2: bool(),
    notification_queue_capacity: int(0),
    notification_timeout: duration(),
    enable_api: bool(),
    enable_sharding: bool(),
    wal: obj('instance.Config', { dir: str() }),
    remote_write: obj('ruler.RemoteWriteConfig', {
      enabled: bool(),
      clients: mapOf(
        obj('config.RemoteWriteConfig', { url: url(), remote_timeout: duration(), headers: mapOf(str()) }),
        () => defaultRemoteWriteClient() as unknown as Record<string, unknown>,
      ),
    }),
  }),
  ingester: obj('ingester.Config', {
    lifecycler: obj('ring.LifecyclerConfig', {
      ring: obj('ring.Config', {
        kvstore: kvSpec,
        heartbeat_timeout: duration(),
        replication_factor: int(1),
        zone_awareness_enabled: bool(),
      }),
      num_tokens: int(1),
      heartbeat_period: duration(),
      heartbeat_timeout: duration(),
      join_after: duration(),
      min_ready_duration: duration(),
      final_sleep: duration(),
      address: str(),
      port: int(0, 65535),
      id: str(),
      availability_zone: str(),
      availability_zone_file: str(),
    }),
    concurrent_flushes: int(1),
    flush_check_period: duration(),
    flush_op_backoff: backoffSpec,
    flush_op_timeout: duration(),
    chunk_retain_period: duration(),
    chunk_idle_period: duration(),
    chunk_block_size: int(1),
    chunk_target_size: int(0),
    chunk_encoding: oneOf(CHUNK_ENCODINGS, { ignoreCase: true }),
    max_chunk_age: duration(),
    max_returned_stream_errors: int(0),
    wal: obj('ingester.WALConfig', {
      enabled: bool(),
      dir: str(),
      checkpoint_duration: duration(),
      flush_on_shutdown: bool(),
      replay_memory_ceiling: bytes(),
      fsync: oneOf(['always', 'batch', 'never']),
      fsync_interval: duration(),
    }),
  }),
  pattern_ingester: obj('pattern.Config', {
    enabled: bool(),
    metric_aggregation: obj('aggregation.Config', { loki_address: str() }),
  }),
  storage_config: obj('storage.Config', {
    filesystem: obj('local.FSConfig', { directory: str() }),
    aws: s3Spec,
    tsdb_shipper: shipperSpec('indexshipper.Config'),
    boltdb_shipper: shipperSpec('boltdb.IndexCfg'),
  }),
  schema_config: obj('config.SchemaConfig', {
    configs: list(periodSpec, () => defaultPeriodConfig() as unknown as Record<string, unknown>),
  }),
  compactor: obj('compactor.Config', {
    working_directory: str(),
    compaction_interval: duration(),
    apply_retention_interval: duration(),
    retention_enabled: bool(),
    retention_delete_delay: duration(),
    retention_delete_worker_count: int(1),
    delete_request_store: str(),
    delete_batch_size: int(1),
    delete_request_cancel_period: duration(),
    delete_max_interval: duration(),
  }),
  limits_config: LIMITS_SPEC,
  table_manager: obj('index.TableManagerConfig', {
    retention_deletes_enabled: bool(),
    retention_period: duration(),
    poll_interval: duration(),
    creation_grace_period: duration(),
  }),
  memberlist: obj('memberlist.KVConfig', {
    node_name: str(),
    randomize_node_name: bool(),
    join_members: strings(),
    bind_addr: strings(),
    bind_port: int(0, 65535),
    advertise_addr: str(),
    advertise_port: int(0, 65535),
    abort_if_cluster_join_fails: bool(),
    rejoin_interval: duration(),
    dead_node_reclaim_time: duration(),
    left_ingesters_timeout: duration(),
  }),
  runtime_config: obj('runtimeconfig.Config', { file: str(), period: duration() }),
  analytics: obj('analytics.Config', { reporting_enabled: bool(), usage_stats_url: str() }),
  common: obj('common.Config', {
    path_prefix: str(),
    replication_factor: int(1),
    instance_addr: str(),
    compactor_address: str(),
    ring: ringSpec,
    storage: obj('common.Storage', {
      filesystem: obj('common.FilesystemConfig', { chunks_directory: str(), rules_directory: str() }),
      s3: s3Spec,
    }),
  }),
});
