import { EngineError } from '../errors.js';
import type { MatrixSeries, MetricResult, VectorSample } from '../logql/engine/index.js';
import { compareLabels } from '../logql/engine/labels.js';
import { labelsString } from '../distributor/labels.js';
import type { Direction } from '../model.js';
import type { LogStream } from '../querier/querier.js';
import type { QueryResult } from './types.js';

const seriesKey = (s: { labels: MatrixSeries['labels'] }): string => labelsString(s.labels);

export function asMetric(r: QueryResult): MetricResult {
  if (r.type === 'streams') throw new EngineError('internal', 'a metric sub-query returned streams');
  return r;
}

export function asStreams(r: QueryResult): LogStream[] {
  if (r.type !== 'streams') throw new EngineError('internal', `a log sub-query returned a ${r.type}`);
  return r.streams;
}

/**
 * The shards' results of one sub-query side by side. With `detect`, the shards' series must be disjoint (each
 * series is one stream's): a series two shards both return means labels collided, and the answer is undefined so
 * the caller re-runs the sub-query unsharded. Without it, repeated series are kept for a parent node to merge.
 */
export function concatShards(parts: readonly MetricResult[], detect: boolean): MetricResult | undefined {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  if (first === undefined) return { type: 'matrix', series: [] };
  if (first.type === 'scalar') return first;
  if (first.type === 'vector') {
    const samples: VectorSample[] = [];
    const seen = detect ? new Set<string>() : undefined;
    for (const p of parts) {
      if (p.type !== 'vector') throw new EngineError('internal', `shards returned a ${p.type} and a vector`);
      if (seen !== undefined) {
        for (const s of p.samples) {
          const k = seriesKey(s);
          if (seen.has(k)) return undefined;
          seen.add(k);
        }
      }
      samples.push(...p.samples);
    }
    return { type: 'vector', samples };
  }
  const series: MatrixSeries[] = [];
  const seen = detect ? new Set<string>() : undefined;
  for (const p of parts) {
    if (p.type !== 'matrix') throw new EngineError('internal', `shards returned a ${p.type} and a matrix`);
    if (seen !== undefined) {
      for (const s of p.series) {
        const k = seriesKey(s);
        if (seen.has(k)) return undefined;
        seen.add(k);
      }
    }
    series.push(...p.series);
  }
  if (detect) series.sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: 'matrix', series };
}

/**
 * The results of a metric query's time splits, in time order, as one: each series' samples appended split after
 * split (every step was evaluated by exactly one split), series sorted by labels as the engine returns them.
 */
export function mergeSplits(parts: readonly MetricResult[]): MetricResult {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 0) return { type: 'matrix', series: [] };
  const byKey = new Map<string, MatrixSeries>();
  for (const p of parts) {
    if (p.type !== 'matrix') throw new EngineError('internal', `a range query split returned a ${p.type}`);
    for (const s of p.series) {
      const k = seriesKey(s);
      const into = byKey.get(k);
      if (into === undefined) {
        byKey.set(k, { labels: s.labels, ms: s.ms.slice(), values: s.values.slice() });
      } else {
        for (let i = 0; i < s.ms.length; i++) {
          into.ms.push(s.ms[i]!);
          into.values.push(s.values[i]!);
        }
      }
    }
  }
  return { type: 'matrix', series: [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels)) };
}

/** Number of entries in a log result. */
export function entryCount(streams: readonly LogStream[]): number {
  let n = 0;
  for (const s of streams) n += s.entries.length;
  return n;
}

/**
 * The first `k` entries of one split's streams in the direction's order; ties between streams keep stream order,
 * as the querier breaks them.
 */
function firstEntries(streams: readonly LogStream[], k: number, direction: Direction): LogStream[] {
  const heads: Array<{ ts: bigint; s: number }> = [];
  streams.forEach((st, s) => {
    const n = Math.min(k, st.entries.length);
    for (let i = 0; i < n; i++) heads.push({ ts: st.entries[i]!.ts, s });
  });
  const fwd = direction === 'forward';
  heads.sort((a, b) => (a.ts === b.ts ? a.s - b.s : (a.ts < b.ts) === fwd ? -1 : 1));
  const taken = new Array<number>(streams.length).fill(0);
  for (let i = 0; i < k && i < heads.length; i++) taken[heads[i]!.s]!++;
  const out: LogStream[] = [];
  streams.forEach((st, i) => {
    if (taken[i]! > 0) out.push({ ...st, entries: st.entries.slice(0, taken[i]) });
  });
  return out;
}

/**
 * Joins a log query's splits, given in the direction's order (newest first going backward): entries of a stream
 * are appended split after split, and the answer stops at `limit` entries, cut in the direction's order. Splits
 * cover disjoint time ranges, so this is the unsplit query's answer.
 */
export function mergeLogSplits(splits: readonly (readonly LogStream[])[], limit: number, direction: Direction): LogStream[] {
  const byKey = new Map<string, LogStream>();
  const out: LogStream[] = [];
  let total = 0;
  for (const streams of splits) {
    if (limit > 0 && total >= limit) break;
    const n = entryCount(streams);
    const take = limit > 0 && total + n > limit ? firstEntries(streams, limit - total, direction) : streams;
    for (const s of take) {
      const into = byKey.get(s.canonical);
      if (into === undefined) {
        const copy: LogStream = { ...s, entries: s.entries.slice() };
        byKey.set(s.canonical, copy);
        out.push(copy);
      } else {
        for (const e of s.entries) into.entries.push(e);
      }
    }
    total += Math.min(n, limit > 0 ? limit - total : n);
  }
  return out;
}
