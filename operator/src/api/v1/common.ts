// Schemas shared by LokiStack and LokiTenant. Field names follow the Grafana Loki Operator's LokiStack v1 where it
// has the field, so a LokiStack migrates by changing its apiVersion; additions are marked "Strata:".
import { t, type Infer } from '../schema.js';

export const GROUP = 'loki.strata.dev';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Go duration as Loki parses it (`30s`, `3m`, `1h30m`). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';

/** Loki's tenant ID rules: at most 150 characters from [A-Za-z0-9!-_.*'()], and not `.` or `..`. */
export const TENANT_ID_PATTERN = "^[A-Za-z0-9!._*'()-]+$";
export const MAX_TENANT_ID_LENGTH = 150;

/** A Kubernetes object name (DNS-1123 subdomain). */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

// ── conditions (metav1.Condition) ────────────────────────────────────────────────────────────────────────────────

export const conditionStatus = t.enum(['True', 'False', 'Unknown']);

export const condition = t
  .object({
    type: t
      .string({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' })
      .describe('Type of condition in CamelCase.')
      .required(),
    status: conditionStatus.describe('Status of the condition: True, False or Unknown.').required(),
    observedGeneration: t
      .integer({ format: 'int64', minimum: 0 })
      .describe('The .metadata.generation the condition was set for.'),
    lastTransitionTime: t.dateTime().describe('When the condition last changed status.').required(),
    reason: t
      .string({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' })
      .describe('A programmatic identifier for the last transition, in CamelCase.')
      .required(),
    message: t.string({ maxLength: 32768 }).describe('A human readable message about the transition.').required(),
  })
  .describe('One aspect of the current state (metav1.Condition).');

export const conditions = t
  .array(condition, { listType: 'map', mapKeys: ['type'] })
  .describe('The latest observations of the object\'s state, one per condition type.');

export type Condition = Infer<typeof condition>;
export type ConditionStatus = Infer<typeof conditionStatus>;

// ── limits ──────────────────────────────────────────────────────────────────────────────────────────────────────

const count = (description: string) => t.integer({ format: 'int32', minimum: 0 }).describe(description);

export const ingestionLimitSpec = t
  .object({
    ingestionRate: count('Per-tenant ingestion rate limit, in MB per second (ingestion_rate_mb).'),
    ingestionBurstSize: count('Per-distributor burst size, in MB (ingestion_burst_size_mb); at least the largest push.'),
    maxLabelNameLength: count('Maximum characters of a label name (max_label_name_length).'),
    maxLabelValueLength: count('Maximum characters of a label value (max_label_value_length).'),
    maxLabelNamesPerSeries: count('Maximum label names per stream (max_label_names_per_series).'),
    maxGlobalStreamsPerTenant: count('Maximum active streams per tenant across the cluster (max_global_streams_per_user).'),
    maxLineSize: count('Maximum line size in bytes (max_line_size); 0 means unlimited.'),
    perStreamRateLimit: count('Maximum rate per stream, in MB per second (per_stream_rate_limit).'),
    perStreamRateLimitBurst: count('Maximum burst per stream, in MB (per_stream_rate_limit_burst).'),
  })
  .describe('Limits applied on the push path.');

export const queryLimitSpec = t
  .object({
    maxEntriesLimitPerQuery: count('Maximum log entries a query returns (max_entries_limit_per_query).'),
    maxChunksPerQuery: count('Maximum chunks a single query may fetch (max_chunks_per_query).'),
    maxQuerySeries: count('Maximum unique series a metric query returns (max_query_series).'),
    queryTimeout: t
      .string({ pattern: DURATION_PATTERN })
      .describe('Timeout of a query against ingesters and storage (query_timeout), a duration such as 3m.'),
    cardinalityLimit: count('Cardinality limit of index queries (cardinality_limit).'),
    maxVolumeSeries: count('Maximum aggregated series in a volume response (volume_max_series).'),
  })
  .describe('Limits applied on the query path.');

export const retentionStreamSpec = t
  .object({
    days: t.integer({ minimum: 1 }).describe('Days logs of the matching streams are kept.').required(),
    priority: t
      .integer({ format: 'int32', minimum: 0 })
      .default(1)
      .describe('Priority of this rule when several selectors match a stream; the higher wins.'),
    selector: t
      .string({ minLength: 1 })
      .describe('A LogQL stream selector, for example {namespace="prod", app="api"}.')
      .required(),
  })
  .describe('A stream selector with its own retention.');

const retentionStreams = t.array(retentionStreamSpec).describe('Per-stream retention rules.');

export const retentionLimitSpec = t
  .object({
    days: t.integer({ minimum: 1 }).describe('Days logs are kept.').required(),
    streams: retentionStreams,
  })
  .describe('How long logs are kept in storage (enables compactor retention).');

/** LokiTenant retention: `days` may be left out to keep the stack's global retention. */
export const tenantRetentionSpec = t
  .object({
    days: t.integer({ minimum: 1 }).describe('Days this tenant\'s logs are kept; absent: the stack\'s global retention.'),
    streams: retentionStreams,
  })
  .describe('How long this tenant\'s logs are kept; per-stream rules override days.');

export type IngestionLimitSpec = Infer<typeof ingestionLimitSpec>;
export type QueryLimitSpec = Infer<typeof queryLimitSpec>;
export type RetentionStreamSpec = Infer<typeof retentionStreamSpec>;
export type RetentionLimitSpec = Infer<typeof retentionLimitSpec>;
export type TenantRetentionSpec = Infer<typeof tenantRetentionSpec>;

// ── pod scheduling (subsets of core/v1, same field names) ─────────────────────────────────────────────────────

export const toleration = t
  .object({
    key: t.string().describe('The taint key the toleration applies to; empty matches all keys (with Exists).'),
    operator: t.string().describe('Exists or Equal (the default).'),
    value: t.string().describe('The taint value the toleration matches (with Equal).'),
    effect: t.string().describe('NoSchedule, PreferNoSchedule or NoExecute; empty matches all effects.'),
    tolerationSeconds: t.integer({ format: 'int64' }).describe('How long a NoExecute taint is tolerated.'),
  })
  .describe('A core/v1 Toleration.');

export const resourceRequirements = t
  .object({
    limits: t.map(t.quantity()).describe('Maximum compute resources (cpu, memory).'),
    requests: t.map(t.quantity()).describe('Requested compute resources (cpu, memory).'),
  })
  .describe('Strata: compute resources of the component\'s containers (core/v1 ResourceRequirements); overrides the size table.');

export const labelSelector = t
  .object({
    matchLabels: t.map(t.string()).describe('Labels a pod must carry.'),
    matchExpressions: t
      .array(
        t.object({
          key: t.string().describe('The label key.').required(),
          operator: t.string().describe('In, NotIn, Exists or DoesNotExist.').required(),
          values: t.array(t.string()).describe('Values for In and NotIn.'),
        }),
      )
      .describe('Label requirements, ANDed.'),
  })
  .describe('A metav1.LabelSelector.');

export const podAffinityTerm = t
  .object({
    labelSelector: labelSelector.describe('Pods this term applies to.'),
    namespaces: t.array(t.string()).describe('Namespaces of those pods; empty: the pod\'s own namespace.'),
    topologyKey: t.string({ minLength: 1 }).describe('The node label whose value defines a topology domain.').required(),
  })
  .describe('A core/v1 PodAffinityTerm.');

export const podAntiAffinity = t
  .object({
    requiredDuringSchedulingIgnoredDuringExecution: t
      .array(podAffinityTerm)
      .describe('Hard anti-affinity terms.'),
    preferredDuringSchedulingIgnoredDuringExecution: t
      .array(
        t.object({
          weight: t.integer({ format: 'int32', minimum: 1, maximum: 100 }).describe('Weight, 1–100.').required(),
          podAffinityTerm: podAffinityTerm.required(),
        }),
      )
      .describe('Soft anti-affinity terms, by weight.'),
  })
  .describe('A core/v1 PodAntiAffinity for the component\'s pods.');

export type Toleration = Infer<typeof toleration>;
export type ResourceRequirements = Infer<typeof resourceRequirements>;
export type PodAntiAffinity = Infer<typeof podAntiAffinity>;
