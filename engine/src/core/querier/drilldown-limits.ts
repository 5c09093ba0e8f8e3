import { LIMITS_SPEC } from '../config/config-schema.js';
import { encodeValue } from '../config/spec.js';
import type { Limits } from '../limits/limits.js';

/**
 * The limits Loki publishes to Grafana Logs Drilldown by default (`tenant_limits_allow_publish`). Strata has no
 * `max_query_bytes_read`, `otlp_config` or `pattern_persistence_enabled`; the first two are published with the value
 * Loki's default would show and the third as false, `otlp_config` is left out.
 */
export const PUBLISHED_LIMITS: readonly string[] = [
  'discover_log_levels',
  'discover_service_name',
  'log_level_fields',
  'max_entries_limit_per_query',
  'max_line_size_truncate',
  'max_query_bytes_read',
  'max_query_length',
  'max_query_lookback',
  'max_query_range',
  'max_query_series',
  'metric_aggregation_enabled',
  'otlp_config',
  'pattern_persistence_enabled',
  'query_timeout',
  'retention_period',
  'retention_stream',
  'volume_enabled',
  'volume_max_series',
];

const NOT_IN_STRATA: Record<string, unknown> = {
  max_query_bytes_read: '0B',
  pattern_persistence_enabled: false,
};

/** Loki's `/loki/api/v1/drilldown-limits` body (not wrapped in `{status, data}`). */
export interface DrilldownLimits {
  limits: Record<string, unknown>;
  pattern_ingester_enabled: boolean;
  version: string;
}

/**
 * A tenant's limits as Drilldown reads them: the published subset in the configuration file's form (durations as
 * `30d1h`, lists as arrays). `patternsEnabled` tells Drilldown whether to show its Patterns tab.
 */
export function drilldownLimits(limits: Readonly<Limits>, patternsEnabled: boolean, version: string): DrilldownLimits {
  const encoded = encodeValue(limits, LIMITS_SPEC) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of PUBLISHED_LIMITS) {
    if (Object.hasOwn(encoded, name)) out[name] = encoded[name];
    else if (Object.hasOwn(NOT_IN_STRATA, name)) out[name] = NOT_IN_STRATA[name];
  }
  return { limits: out, pattern_ingester_enabled: patternsEnabled, version: version === '' ? 'unknown' : version };
}
