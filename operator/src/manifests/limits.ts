// API limits (camelCase, the Loki Operator's field names) → Loki's limits_config keys, and the merge
// size defaults ← spec.limits.global ← LokiTenant that decides what a tenant gets. Shared by config.yaml (global
// limits), the runtime overrides (per tenant) and the LokiTenant status (effective limits).
import type {
  EffectiveTenantSpec,
  IngestionLimitSpec,
  LokiStack,
  LokiTenant,
  QueryLimitSpec,
  RetentionStreamSpec,
} from '../api/v1/index.js';
import { sizeProfile } from './sizes.js';

/** Limits in API terms; any field may be absent. */
export interface LimitsInput {
  ingestion?: IngestionLimitSpec;
  queries?: QueryLimitSpec;
  retention?: { days?: number; streams?: RetentionStreamSpec[] };
}

/** One Loki key per API field, in the order they are rendered. */
const INGESTION_KEYS: ReadonlyArray<[keyof IngestionLimitSpec, string, (v: number) => number | string]> = [
  ['ingestionRate', 'ingestion_rate_mb', (v) => v],
  ['ingestionBurstSize', 'ingestion_burst_size_mb', (v) => v],
  ['maxLabelNameLength', 'max_label_name_length', (v) => v],
  ['maxLabelValueLength', 'max_label_value_length', (v) => v],
  ['maxLabelNamesPerSeries', 'max_label_names_per_series', (v) => v],
  ['maxGlobalStreamsPerTenant', 'max_global_streams_per_user', (v) => v],
  // max_line_size is a byte size in Loki; a plain integer is bytes.
  ['maxLineSize', 'max_line_size', (v) => v],
  // The API gives MB/s; Loki's per-stream limits are byte sizes, so say the unit.
  ['perStreamRateLimit', 'per_stream_rate_limit', (v) => `${v}MB`],
  ['perStreamRateLimitBurst', 'per_stream_rate_limit_burst', (v) => `${v}MB`],
];

const QUERY_KEYS: ReadonlyArray<[keyof QueryLimitSpec, string]> = [
  ['maxEntriesLimitPerQuery', 'max_entries_limit_per_query'],
  ['maxChunksPerQuery', 'max_chunks_per_query'],
  ['maxQuerySeries', 'max_query_series'],
  ['queryTimeout', 'query_timeout'],
  ['cardinalityLimit', 'cardinality_limit'],
  ['maxVolumeSeries', 'volume_max_series'],
];

/** `N` days as a Loki (Prometheus model) duration. */
export const days = (n: number): string => `${n}d`;

/**
 * The Loki limits_config / runtime overrides keys for the fields set in `input`, in a fixed order. Fields left out
 * are not rendered, so the engine's merge (limits_config ← overrides) keeps the wider value.
 */
export function toLokiLimits(input: LimitsInput): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, key, convert] of INGESTION_KEYS) {
    const v = input.ingestion?.[field];
    if (v !== undefined) out[key] = convert(v);
  }
  for (const [field, key] of QUERY_KEYS) {
    const v = input.queries?.[field];
    if (v !== undefined) out[key] = v;
  }
  const retention = input.retention;
  if (retention?.days !== undefined) out.retention_period = days(retention.days);
  if (retention?.streams !== undefined) {
    out.retention_stream = retention.streams.map((s) => ({
      selector: s.selector,
      priority: s.priority ?? 1,
      period: days(s.days),
    }));
  }
  return out;
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The stack-wide limits: the size's defaults with spec.limits.global laid over them, field by field. */
export function stackLimits(stack: LokiStack): Required<Pick<LimitsInput, 'ingestion' | 'queries'>> & Pick<LimitsInput, 'retention'> {
  const size = sizeProfile(stack.spec.size).limits;
  const global = stack.spec.limits?.global;
  const retention = global?.retention;
  return {
    ingestion: { ...size.ingestion, ...defined(global?.ingestion) },
    queries: { ...size.queries, ...defined(global?.queries) },
    ...(retention ? { retention: { days: retention.days, ...(retention.streams ? { streams: retention.streams } : {}) } } : {}),
  };
}

/** The tenant's own overrides only (what goes under its ID in the runtime overrides file). */
export function tenantOverrides(tenant: LokiTenant): LimitsInput {
  const { limits, retention } = tenant.spec;
  return {
    ...(limits?.ingestion ? { ingestion: defined(limits.ingestion) } : {}),
    ...(limits?.queries ? { queries: defined(limits.queries) } : {}),
    ...(retention ? { retention: defined(retention) } : {}),
  };
}

/**
 * What the stack enforces for a tenant: size defaults ← global limits ← the tenant's overrides. Retention streams
 * replace the global list as a whole (Loki's runtime overrides replace lists), and days fall back to the global days.
 */
export function effectiveTenantSpec(stack: LokiStack, tenant: LokiTenant): EffectiveTenantSpec {
  const base = stackLimits(stack);
  const own = tenantOverrides(tenant);
  const days = own.retention?.days ?? base.retention?.days;
  const streams = own.retention?.streams ?? base.retention?.streams;
  const retention = {
    ...(days !== undefined ? { days } : {}),
    ...(streams !== undefined ? { streams: streams.map((s) => ({ ...s, priority: s.priority ?? 1 })) } : {}),
  };
  return {
    limits: { ingestion: { ...base.ingestion, ...own.ingestion }, queries: { ...base.queries, ...own.queries } },
    retention,
  };
}
