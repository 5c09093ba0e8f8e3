import { badRequest } from '../errors.js';
import { labelsString } from '../distributor/labels.js';
import { LabelMatcher } from '../logql/syntax/matcher.js';
import type { LabelPair } from '../model.js';
import { formatFloat } from '../util/go/strconv.js';
import { bytesIn, type StreamUsage } from './index-stats.js';
import { TENANT_LABEL } from './multi-tenant.js';

export type AggregateBy = 'series' | 'labels';

/** Loki's defaults and the selector that matches every stream. */
export const DEFAULT_VOLUME_LIMIT = 100;
export const MATCH_ANY = '{}';

export function parseAggregateBy(v: string | undefined): AggregateBy {
  if (v === undefined || v === '') return 'series';
  if (v === 'series' || v === 'labels') return v;
  throw badRequest('invalid aggregation option');
}

/** `targetLabels`: a comma-separated list; empty means none. */
export function parseTargetLabels(v: string | undefined): string[] {
  if (v === undefined || v === '') return [];
  return v.split(',');
}

/**
 * The labels volumes are aggregated into and the matchers streams must satisfy, as Loki prepares them: without target
 * labels, the names the selector mentions; with them, the targets, and a `=~".+"` matcher added for each target the
 * selector does not mention (a stream without the label has no volume for it).
 */
export function prepareVolumeMatchers(
  targetLabels: readonly string[],
  matchers: readonly LabelMatcher[],
): { labels: Set<string>; matchers: LabelMatcher[] } {
  const mentioned = new Set(matchers.map((m) => m.name).filter((n) => n !== TENANT_LABEL));
  if (targetLabels.length === 0) return { labels: mentioned, matchers: [...matchers] };
  const out = [...matchers];
  for (const t of new Set(targetLabels)) if (!mentioned.has(t)) out.push(new LabelMatcher('=~', t, '.+'));
  return { labels: new Set(targetLabels), matchers: out };
}

/** Volumes keyed by Loki's volume name, with the metric (label set) each name stands for. */
export class Volumes {
  readonly bytes = new Map<string, number>();
  readonly metrics = new Map<string, Record<string, string>>();

  add(name: string, metric: () => Record<string, string>, v: number): void {
    this.bytes.set(name, (this.bytes.get(name) ?? 0) + v);
    if (!this.metrics.has(name)) this.metrics.set(name, metric());
  }

  /** Sums another tenant's volumes into these. */
  merge(o: Volumes): void {
    for (const [name, v] of o.bytes) this.add(name, () => o.metrics.get(name)!, v);
  }
}

/**
 * Byte volumes in [from, through] keyed by Loki's volume name: with `series`, the label string of the stream's labels
 * kept by `labels` (`{app="a", env="prod"}`); with `labels`, each label name (the target labels only, when given),
 * whose metric is `{name: ""}`. Partly overlapping chunks count in proportion to their overlap; streams with no
 * entries in the range are skipped.
 */
export function volumesIn(
  usage: readonly StreamUsage[],
  from: bigint,
  through: bigint,
  aggregateBy: AggregateBy,
  labels: ReadonlySet<string>,
  targetLabels: readonly string[],
  into: Volumes = new Volumes(),
): Volumes {
  for (const u of usage) {
    const { bytes, entries } = bytesIn(u, from, through);
    if (entries <= 0) continue;
    if (aggregateBy === 'series') {
      const kept: LabelPair[] = u.labels.filter(([n]) => labels.has(n) && n !== TENANT_LABEL);
      into.add(labelsString(kept), () => Object.fromEntries(kept), bytes);
    } else {
      for (const [n] of u.labels) {
        if (n === TENANT_LABEL) continue;
        if (targetLabels.length > 0 && !labels.has(n)) continue;
        into.add(n, () => ({ [n]: '' }), bytes);
      }
    }
  }
  return into;
}

/**
 * Loki's volume limit: the `limit` largest volumes (ties by name). More than `maxSeries` distinct names is an error,
 * as in Loki's accumulator.
 */
export function topVolumes(volumes: ReadonlyMap<string, number>, limit: number, maxSeries: number): Array<[string, number]> {
  if (maxSeries > 0 && volumes.size > maxSeries) {
    throw badRequest(`the query hit the max number of series limit (limit: ${maxSeries} series)`);
  }
  const all = [...volumes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return limit > 0 && all.length > limit ? all.slice(0, limit) : all;
}

export interface VolumeBucket {
  /** Inclusive range queried for the bucket, truncated to whole seconds as Loki's frontend does. */
  from: bigint;
  through: bigint;
  /** Sample time in milliseconds: the bucket's end. */
  ms: number;
}

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const floorSec = (ns: bigint): bigint => ns - (((ns % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND);

/**
 * The buckets of a volume request, as Loki's frontend splits it: one for an instant query (`step` 0), else the range
 * cut at multiples of `step`, the first bucket starting at `start`, each but the last ending 1 ms before the next
 * boundary. Each sample is stamped with its bucket's end.
 */
export function volumeBuckets(start: bigint, end: bigint, step: bigint): VolumeBucket[] {
  const bucket = (s: bigint, e: bigint): VolumeBucket => ({ from: floorSec(s), through: floorSec(e), ms: Number(e / NS_PER_MS) });
  if (step <= 0n) return [bucket(start, end)];
  const out: VolumeBucket[] = [];
  const aligned = start - (((start % step) + step) % step);
  for (let s = aligned; s < end; s += step) {
    let e = s + step;
    if (e >= end) e = end;
    else e -= NS_PER_MS;
    out.push(bucket(s === aligned ? start : s, e));
  }
  return out;
}

/**
 * Loki's volume response from the samples of each name: a vector when every series has one sample, else a matrix;
 * series ordered by their first sample, largest first (ties by name).
 */
export function volumeResult(
  samplesByName: ReadonlyMap<string, Array<[number, number]>>,
  metrics: ReadonlyMap<string, Record<string, string>>,
): { resultType: 'vector' | 'matrix'; result: unknown[] } {
  const series = [...samplesByName.entries()].map(([name, samples]) => ({
    name,
    metric: metrics.get(name) ?? {},
    samples: [...samples].sort((a, b) => a[0] - b[0]),
  }));
  const matrix = series.some((s) => s.samples.length > 1);
  series.sort((a, b) => b.samples[0]![1] - a.samples[0]![1] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const point = ([ms, v]: [number, number]): [number, string] => [ms / 1000, formatFloat(v, 'f', -1)];
  if (matrix) return { resultType: 'matrix', result: series.map((s) => ({ metric: s.metric, values: s.samples.map(point) })) };
  return { resultType: 'vector', result: series.map((s) => ({ metric: s.metric, value: point(s.samples[0]!) })) };
}
