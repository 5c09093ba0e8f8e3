import { maxRangeInterval } from '../logql/engine/index.js';
import type { SampleExpr } from '../logql/syntax/ast.js';

/**
 * A time split of a query. For a metric query both ends are steps that are evaluated (start, start+step, … end);
 * for a log query the range is [start, end).
 */
export interface TimeSplit {
  start: bigint;
  end: bigint;
}

/** Floor division (towards −∞), so times before the epoch align the same way as after it. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function floorMod(a: bigint, b: bigint): bigint {
  return ((a % b) + b) % b;
}

/**
 * Loki's step alignment before splitting a metric query: start rounded down and end rounded up to multiples of
 * the step, so every split evaluates steps on the same grid (and the grid is the same whatever the split).
 */
export function alignToStep(start: bigint, end: bigint, step: bigint): TimeSplit {
  if (step <= 0n) return { start, end };
  const over = floorMod(end, step);
  return { start: start - floorMod(start, step), end: over === 0n ? end : end + step - over };
}

/**
 * The split interval for a metric query: `split_queries_by_interval`, or the query's longest `[range]` when that is
 * longer (as Loki does: a split shorter than its range would re-read most of its data in every split).
 */
export function metricSplitInterval(interval: bigint, expr: SampleExpr): bigint {
  if (interval <= 0n) return 0n;
  const range = maxRangeInterval(expr);
  return range > interval ? range : interval;
}

/**
 * Splits the steps of a metric range query by time. Every step lands in exactly one split, and a split covers the
 * steps from its start up to the last step before the next multiple of `interval` (counted from the epoch), so
 * splits line up with the interval boundaries and their results can be cached per interval. As in Loki:
 * - a step at least as long as the interval gives one split per step;
 * - a split whose next step would be the query's last one takes that step too (no one-step tail split).
 * `interval` ≤ 0: one split, the whole query.
 */
export function splitMetricByInterval(start: bigint, end: bigint, step: bigint, interval: bigint): TimeSplit[] {
  if (interval <= 0n || step <= 0n || end <= start) return [{ start, end }];
  const out: TimeSplit[] = [];
  if (step >= interval) {
    for (let t = start; t <= end; t += step) out.push({ start: t, end: t });
    return out;
  }
  for (let s = start; s <= end; ) {
    const boundary = (floorDiv(s, interval) + 1n) * interval;
    // The last step strictly before the boundary.
    let e = s + ((boundary - 1n - s) / step) * step;
    if (e + step >= end) e = end;
    out.push({ start: s, end: e });
    s = e + step;
  }
  return out;
}

/**
 * Splits a log query's [start, end) at the multiples of `interval` (counted from the epoch), oldest first. The
 * pieces are disjoint and half-open like the query, so an entry is read by exactly one split.
 */
export function splitLogsByInterval(start: bigint, end: bigint, interval: bigint): TimeSplit[] {
  if (interval <= 0n || end <= start) return [{ start, end }];
  const out: TimeSplit[] = [];
  for (let s = start; s < end; ) {
    const boundary = (floorDiv(s, interval) + 1n) * interval;
    const e = boundary < end ? boundary : end;
    out.push({ start: s, end: e });
    s = e;
  }
  return out;
}
