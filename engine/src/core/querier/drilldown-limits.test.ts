import { defaultLimits } from '../limits/limits.js';
import { drilldownLimits, PUBLISHED_LIMITS } from './drilldown-limits.js';

describe('drilldownLimits', () => {
  it("publishes Loki's default allow-list in the configuration file's form", () => {
    const limits = defaultLimits();
    limits.retention_stream = [{ selector: '{app="x"}', priority: 1, period: 24 * 3_600_000 }];
    const r = drilldownLimits(limits, true, '1.2.3');
    expect(r.pattern_ingester_enabled).toBe(true);
    expect(r.version).toBe('1.2.3');
    expect(Object.keys(r.limits)).toEqual(PUBLISHED_LIMITS.filter((n) => n !== 'otlp_config'));
    expect(r.limits).toMatchObject({
      discover_log_levels: true,
      discover_service_name: limits.discover_service_name,
      log_level_fields: limits.log_level_fields,
      max_entries_limit_per_query: 5000,
      max_line_size_truncate: false,
      max_query_bytes_read: '0B',
      max_query_length: '30d1h',
      max_query_lookback: '0s',
      max_query_series: 500,
      metric_aggregation_enabled: false,
      pattern_persistence_enabled: false,
      query_timeout: '1m',
      retention_period: '0s',
      retention_stream: [{ selector: '{app="x"}', priority: 1, period: '1d' }],
      volume_enabled: true,
      volume_max_series: 1000,
    });
  });

  it('reports an unknown version as Loki does', () => {
    expect(drilldownLimits(defaultLimits(), false, '').version).toBe('unknown');
  });
});
