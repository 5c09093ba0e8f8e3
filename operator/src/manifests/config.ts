// The engine's config.yaml for a LokiStack, in Loki's format and with only keys the engine accepts
// (engine/src/core/config/config-schema.ts; test/operator checks the output with the engine's own parser).
//
// It depends on the stack and the storage Secret's non-secret facts only — never on LokiTenants, whose limits live in
// the runtime overrides — so that its hash, on every pod template, changes exactly when pods must restart.
// Credentials stay in the Secret: config.yaml says ${AWS_ACCESS_KEY_ID} and the engine runs with
// -config.expand-env=true and those variables from the Secret.
import { Scalar, stringify } from 'yaml';
import type { LokiStack } from '../api/v1/index.js';
import {
  DATA_DIR,
  ENV_ACCESS_KEY_ID,
  ENV_ACCESS_KEY_SECRET,
  ENV_POD_IP,
  ENV_POD_NAME,
  HTTP_PORT,
  RUNTIME_FILE,
  STORAGE_CA_DIR,
  WAL_DIR,
  ZONE_FILE,
  headlessServiceName,
  serviceHost,
} from '../names.js';
import type { SecretFacts } from '../validation/secret.js';
import { schemaTimeline, sortSchemas } from '../validation/schemas.js';
import { stackLimits, toLokiLimits } from './limits.js';
import { cpuCores, isDistributed, isZoneAware, memoryBytes, planComponents, replicationFactor } from './plan.js';
import { sizeProfile } from './sizes.js';

/**
 * The ring key-value store of distributed sizes: Kubernetes itself (one coordination.k8s.io Lease per ingester in
 * the stack's namespace; the ServiceAccount's Role grants them; docs/ring.md). The engine has no memberlist, and
 * an etcd would be one more thing to run. 1x.demo (one pod) uses `inmemory`.
 */
export const DISTRIBUTED_RING_STORE = 'kubernetes';
export const SINGLE_BINARY_RING_STORE = 'inmemory';

const env = (name: string): string => `\${${name}}`;

/** The Loki object store name a schema period and the compactor use. */
export function objectStoreOf(stack: LokiStack): 's3' | 'filesystem' {
  return stack.spec.storage.secret.type;
}

function s3Block(stack: LokiStack, secret: SecretFacts | undefined): Record<string, unknown> {
  const s3 = secret?.s3;
  if (!s3) {
    throw new Error(
      `LokiStack ${stack.metadata.namespace}/${stack.metadata.name}: s3 storage needs the storage secret's facts ` +
        '(validate the Secret with secretFacts before building)',
    );
  }
  const tls = stack.spec.storage.tls;
  return {
    bucketnames: s3.bucketnames,
    endpoint: s3.endpoint,
    region: s3.region,
    access_key_id: env(ENV_ACCESS_KEY_ID),
    secret_access_key: env(ENV_ACCESS_KEY_SECRET),
    s3forcepathstyle: s3.forcePathStyle,
    ...(tls ? { http_config: { ca_file: `${STORAGE_CA_DIR}/${tls.caKey || 'service-ca.crt'}` } } : {}),
  };
}

export interface ConfigOptions {
  /** Decides allow_structured_metadata (the engine refuses it unless the period in effect is v13). */
  now: Date;
}

/**
 * config.yaml as a plain object whose key order is the output order. Exposed for tests; `renderConfig` prints it.
 */
export function buildConfig(stack: LokiStack, secret: SecretFacts | undefined, options: ConfigOptions): Record<string, unknown> {
  const ns = stack.metadata.namespace ?? '';
  const name = stack.metadata.name!;
  const distributed = isDistributed(stack);
  const store = objectStoreOf(stack);
  const plan = planComponents(stack);
  const planOf = (c: string) => plan.find((p) => p.component === c);
  const schemas = sortSchemas(stack.spec.storage.schemas ?? []);
  const s3 = store === 's3' ? s3Block(stack, secret) : undefined;
  const ruler = stack.spec.rules?.enabled === true;
  const schedulerAddress = `${headlessServiceName(name, 'queryScheduler')}.${ns}.svc:${HTTP_PORT}`;

  const common: Record<string, unknown> = {
    path_prefix: DATA_DIR,
    replication_factor: replicationFactor(stack),
    ...(distributed ? { instance_addr: env(ENV_POD_IP), compactor_address: `http://${serviceHost(name, ns, 'compactor')}:${HTTP_PORT}` } : {}),
    ring: {
      ...(distributed ? { instance_id: env(ENV_POD_NAME) } : {}),
      kvstore: { store: distributed ? DISTRIBUTED_RING_STORE : SINGLE_BINARY_RING_STORE },
    },
    ...(store === 'filesystem'
      ? { storage: { filesystem: { chunks_directory: `${DATA_DIR}/chunks`, rules_directory: `${DATA_DIR}/rules` } } }
      : {}),
  };

  const querierCores = cpuCores(planOf('querier')?.resources.requests?.cpu);
  const ingesterMemory = memoryBytes((planOf('ingester') ?? planOf('singleBinary'))?.resources.requests?.memory);

  const config: Record<string, unknown> = {
    auth_enabled: true,
    server: { http_listen_port: HTTP_PORT, grpc_listen_port: 9095, log_level: 'info' },
    common,
    ...(querierCores !== undefined ? { querier: { max_concurrent: Math.max(1, Math.ceil(querierCores)) } } : {}),
    ...(distributed
      ? {
          frontend: {
            compress_responses: true,
            max_outstanding_per_tenant: 4096,
            log_queries_longer_than: '5s',
            scheduler_address: schedulerAddress,
            tail_proxy_url: `http://${serviceHost(name, ns, 'querier')}:${HTTP_PORT}`,
          },
          // Queriers take their work from the scheduler.
          frontend_worker: { scheduler_address: schedulerAddress },
        }
      : {}),
    query_range: {
      align_queries_with_step: true,
      cache_results: true,
      max_retries: 5,
      parallelise_shardable_queries: true,
      results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: 500 } } },
    },
    ...(ruler
      ? {
          ruler: {
            enable_api: true,
            enable_sharding: distributed,
            rule_path: `${DATA_DIR}/rules-temp`,
            wal: { dir: `${DATA_DIR}/ruler-wal` },
            storage: s3 ? { type: 's3', s3: structuredClone(s3) } : { type: 'local', local: { directory: `${DATA_DIR}/rules` } },
          },
        }
      : {}),
    ingester: {
      // Zone-aware replication: each ingester reads its node's zone (set by the operator, see ANNOTATION_ZONE) and
      // the ring places a stream's replicas in distinct zones.
      ...(isZoneAware(stack) ? { lifecycler: { availability_zone_file: ZONE_FILE, ring: { zone_awareness_enabled: true } } } : {}),
      chunk_encoding: 'snappy',
      chunk_idle_period: '1h',
      max_chunk_age: '2h',
      flush_op_timeout: '10m',
      wal: {
        enabled: true,
        dir: WAL_DIR,
        // Half the ingester's memory: replay must not run the pod out of memory on restart.
        ...(ingesterMemory !== undefined ? { replay_memory_ceiling: Math.floor(ingesterMemory / 2) } : {}),
      },
    },
    storage_config: {
      ...(s3 ? { aws: s3 } : { filesystem: { directory: `${DATA_DIR}/chunks` } }),
      tsdb_shipper: {
        active_index_directory: `${DATA_DIR}/tsdb-index`,
        cache_location: `${DATA_DIR}/tsdb-cache`,
        // Queriers look the index up at the index gateways instead of reading index files themselves.
        ...(distributed ? { index_gateway_client: { server_address: `${serviceHost(name, ns, 'indexGateway')}:${HTTP_PORT}` } } : {}),
      },
      ...(schemas.some((s) => s.version !== 'v13')
        ? { boltdb_shipper: { active_index_directory: `${DATA_DIR}/boltdb-index`, cache_location: `${DATA_DIR}/boltdb-cache` } }
        : {}),
    },
    schema_config: {
      configs: schemas.map((s) => ({
        from: s.effectiveDate,
        store: s.version === 'v13' ? 'tsdb' : 'boltdb-shipper',
        object_store: store,
        schema: s.version,
        index: { prefix: 'index_', period: '24h' },
      })),
    },
    compactor: {
      working_directory: `${DATA_DIR}/compactor`,
      // Always on: tenant retention arrives through the runtime overrides, and enabling it here only when a tenant
      // asks would change config.yaml (and restart every pod) on a tenant edit. Without a retention period nothing
      // is deleted.
      retention_enabled: true,
      retention_delete_delay: '2h',
      delete_request_store: store,
    },
    limits_config: limitsConfig(stack, options.now),
    runtime_config: { file: RUNTIME_FILE, period: '10s' },
    analytics: { reporting_enabled: false },
  };
  return config;
}

function limitsConfig(stack: LokiStack, now: Date): Record<string, unknown> {
  const active = schemaTimeline(stack.spec.storage.schemas ?? [], now).active;
  const size = sizeProfile(stack.spec.size).limits;
  return {
    ingestion_rate_strategy: 'global',
    ...toLokiLimits(stackLimits(stack)),
    reject_old_samples: true,
    reject_old_samples_max_age: '168h',
    creation_grace_period: '10m',
    // Per-ingester stream limits would depend on the replica count; the global limit is the one users set.
    max_streams_per_user: 0,
    max_query_length: '721h',
    max_query_parallelism: 32,
    tsdb_max_query_parallelism: 512,
    max_streams_matchers_per_query: 1000,
    max_cache_freshness_per_query: '10m',
    split_queries_by_interval: '30m',
    volume_enabled: true,
    shard_streams: { enabled: true, desired_rate: `${size.perStreamDesiredRate}MB` },
    // The engine refuses to start with structured metadata allowed while the period in effect is not v13.
    allow_structured_metadata: active?.version === 'v13',
  };
}

/**
 * Prints a config object as YAML. A `${VAR}` value is written as a literal block scalar (`|-` and the reference on
 * its own line): the engine expands variables in the text before parsing YAML, and a block scalar keeps any
 * expanded one-line value (quotes, `#`, `: `, backslashes in a secret key) one verbatim string.
 */
export function toYaml(value: unknown): string {
  return stringify(quoteEnvRefs(value), { lineWidth: 0 });
}

function quoteEnvRefs(value: unknown): unknown {
  if (typeof value === 'string' && /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value)) {
    const s = new Scalar(value);
    s.type = Scalar.BLOCK_LITERAL;
    return s;
  }
  if (Array.isArray(value)) return value.map(quoteEnvRefs);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, quoteEnvRefs(v)]));
  }
  return value;
}

/** The engine's config.yaml for `stack` (deterministic: same inputs, same bytes). */
export function renderConfig(stack: LokiStack, secret: SecretFacts | undefined, options: ConfigOptions): string {
  return toYaml(buildConfig(stack, secret, options));
}
