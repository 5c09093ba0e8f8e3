import type { IndexStats } from '../index/index-reader.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import type { Labels } from '../model.js';
import type { Deadline } from './deadline.js';
import { detectFields, detectFieldValues, type DetectedField } from './detected-fields.js';
import { detectLabels, type DetectedLabel } from './detected-labels.js';
import { mergeStats, type IndexStatsReader, type StreamUsage } from './index-stats.js';
import { forEachTenant, readStreamsForTenants, selectLogsForTenants, selectTenants } from './multi-tenant.js';
import { PatternMiner, type PatternSeries } from './patterns.js';
import type { LogStream, Querier } from './querier.js';
import {
  prepareVolumeMatchers,
  topVolumes,
  volumeBuckets,
  volumeResult,
  volumesIn,
  Volumes,
  type AggregateBy,
} from './volume.js';

export interface VolumeQuery {
  matchers: readonly LabelMatcher[];
  targetLabels: readonly string[];
  aggregateBy: AggregateBy;
  limit: number;
  /** `volume_max_series`: more distinct names in one bucket is an error (0: no limit). */
  maxSeries: number;
  start: bigint;
  end: bigint;
  /** 0 for `/index/volume` (one sample at `end`), the step for `/index/volume_range`. */
  step: bigint;
}

export interface LogFieldsQuery {
  expr: LogSelectorExpr;
  start: bigint;
  end: bigint;
  /** Lines read (newest first), Loki's `line_limit`. */
  lineLimit: number;
  deadline?: Deadline;
}

/**
 * The read APIs Grafana's Logs Drilldown uses, over one or several tenants: index stats, volumes, detected fields and
 * labels, and patterns. Built on the querier's public reads and the index statistics reader; every method takes the
 * tenants {@link resolveTenants} gave (several only when multi-tenant queries are enabled).
 */
export class ReadApis {
  constructor(
    private readonly querier: Pick<Querier, 'selectLogs' | 'selectStreams' | 'series'>,
    private readonly index: IndexStatsReader,
  ) {}

  /** `/index/stats`: summed over the tenants the selector's `__tenant_id__` matchers keep. */
  async indexStats(tenants: readonly string[], matchers: readonly LabelMatcher[], from: bigint, through: bigint, deadline?: Deadline): Promise<IndexStats> {
    const sel = selectTenants(tenants, matchers);
    const all = await forEachTenant(sel.tenants, (t) => this.index.stats(t, sel.matchers, from, through, deadline));
    return mergeStats(all.map((r) => r.result));
  }

  /** `/index/volume` and `/index/volume_range`: Loki's result (`vector` or `matrix`) of byte volumes. */
  async volume(tenants: readonly string[], q: VolumeQuery, deadline?: Deadline): Promise<{ resultType: 'vector' | 'matrix'; result: unknown[] }> {
    const sel = selectTenants(tenants, q.matchers);
    const prepared = prepareVolumeMatchers(q.targetLabels, sel.matchers);
    const buckets = volumeBuckets(q.start, q.end, q.step);
    const usage: StreamUsage[][] = [];
    if (buckets.length > 0) {
      const from = buckets[0]!.from;
      const through = buckets[buckets.length - 1]!.through;
      for (const r of await forEachTenant(sel.tenants, (t) => this.index.usage(t, prepared.matchers, from, through, deadline))) usage.push(r.result);
    }
    const samples = new Map<string, Array<[number, number]>>();
    const metrics = new Map<string, Record<string, string>>();
    for (const b of buckets) {
      deadline?.check();
      const v = new Volumes();
      for (const u of usage) volumesIn(u, b.from, b.through, q.aggregateBy, prepared.labels, q.targetLabels, v);
      for (const [name, bytes] of topVolumes(v.bytes, q.limit, q.maxSeries)) {
        let s = samples.get(name);
        if (s === undefined) {
          samples.set(name, (s = []));
          metrics.set(name, v.metrics.get(name)!);
        }
        s.push([b.ms, bytes]);
      }
    }
    return volumeResult(samples, metrics);
  }

  /** The newest `lineLimit` entries of a log query, as the detected-fields handlers read them. */
  private recentLogs(tenants: readonly string[], q: LogFieldsQuery): Promise<LogStream[]> {
    return selectLogsForTenants(this.querier, tenants, {
      expr: q.expr,
      from: q.start,
      through: q.end,
      direction: 'backward',
      limit: q.lineLimit,
      deadline: q.deadline,
    });
  }

  /** `/detected_fields`. */
  async detectedFields(tenants: readonly string[], q: LogFieldsQuery, fieldLimit: number): Promise<DetectedField[]> {
    return detectFields(await this.recentLogs(tenants, q), fieldLimit);
  }

  /** `/detected_field/<name>/values`. */
  async detectedFieldValues(tenants: readonly string[], q: LogFieldsQuery, name: string, limit: number): Promise<string[]> {
    return detectFieldValues(await this.recentLogs(tenants, q), name, limit);
  }

  /** `/detected_labels`: the label sets of the matching streams (store and memory) of every tenant. */
  async detectedLabels(tenants: readonly string[], matchers: readonly LabelMatcher[], from: bigint, through: bigint): Promise<DetectedLabel[]> {
    const sel = selectTenants(tenants, matchers);
    const series: Labels[] = [];
    for (const r of await forEachTenant(sel.tenants, (t) => this.querier.series(t, [sel.matchers], from, through))) series.push(...r.result);
    return detectLabels(series);
  }

  /** `/patterns`: Drain templates of every line in [from, through) of the matching streams. */
  async patterns(
    tenants: readonly string[],
    matchers: readonly LabelMatcher[],
    from: bigint,
    through: bigint,
    opts: { stepMs: number; levelFields: readonly string[]; minClusterSize?: number; deadline?: Deadline },
  ): Promise<PatternSeries[]> {
    const streams = await readStreamsForTenants(this.querier, tenants, { matchers: [...matchers], from, through, deadline: opts.deadline });
    const miner = new PatternMiner({ stepMs: opts.stepMs, levelFields: opts.levelFields, minClusterSize: opts.minClusterSize });
    for (const s of streams) {
      opts.deadline?.check();
      for (const e of s.entries) miner.add(e.ts, e.line, s.labels, e.metadata);
    }
    return miner.result();
  }
}
