import type { RangeOp } from '../syntax/ast.js';
import { durationSeconds } from '../../util/go/duration.js';

/**
 * The value of one range aggregation over one window: the samples `[lo, hi)` of a series, oldest first. `ts` are
 * the samples' timestamps relative to the query's base, in units of `unitNs` nanoseconds (1 unless the query spans
 * more than 2^53 ns). Formulas and their floating-point order follow Loki's range aggregators, so results match
 * Loki digit for digit.
 */
export type WindowFn = (ts: readonly number[], values: readonly number[], lo: number, hi: number) => number;

export function windowFunction(op: RangeOp, rangeNs: bigint, unwrapped: boolean, param: number | undefined, unitNs: bigint): WindowFn {
  const rangeSeconds = durationSeconds(rangeNs);
  switch (op) {
    case 'count_over_time':
      return (_t, _v, lo, hi) => hi - lo;
    case 'rate':
      return unwrapped ? (_t, v, lo, hi) => sum(v, lo, hi) / rangeSeconds : (_t, _v, lo, hi) => (hi - lo) / rangeSeconds;
    case 'bytes_over_time':
    case 'sum_over_time':
      return (_t, v, lo, hi) => sum(v, lo, hi);
    case 'bytes_rate':
      return (_t, v, lo, hi) => sum(v, lo, hi) / rangeSeconds;
    case 'avg_over_time':
      return avgOverTime;
    case 'max_over_time':
      return (_t, v, lo, hi) => {
        let max = v[lo]!;
        for (let i = lo; i < hi; i++) if (v[i]! > max || Number.isNaN(max)) max = v[i]!;
        return max;
      };
    case 'min_over_time':
      return (_t, v, lo, hi) => {
        let min = v[lo]!;
        for (let i = lo; i < hi; i++) if (v[i]! < min || Number.isNaN(min)) min = v[i]!;
        return min;
      };
    case 'stdvar_over_time':
      return (_t, v, lo, hi) => welford(v, lo, hi);
    case 'stddev_over_time':
      return (_t, v, lo, hi) => Math.sqrt(welford(v, lo, hi));
    case 'quantile_over_time': {
      const q = param ?? NaN;
      return (_t, v, lo, hi) => quantile(q, v.slice(lo, hi));
    }
    case 'first_over_time':
      return (_t, v, lo, hi) => (hi > lo ? v[lo]! : NaN);
    case 'last_over_time':
      return (_t, v, lo, hi) => (hi > lo ? v[hi - 1]! : NaN);
    case 'absent_over_time':
      return () => 1;
    case 'rate_counter':
      return rateCounter(rangeNs, unitNs);
  }
}

function sum(v: readonly number[], lo: number, hi: number): number {
  let s = 0;
  for (let i = lo; i < hi; i++) s += v[i]!;
  return s;
}

/** Loki's incremental mean, which keeps an infinite mean instead of turning it into NaN. */
function avgOverTime(_t: readonly number[], v: readonly number[], lo: number, hi: number): number {
  let mean = 0;
  let count = 0;
  for (let i = lo; i < hi; i++) {
    const x = v[i]!;
    count++;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(x) && !Number.isNaN(x) && (mean > 0) === (x > 0)) continue;
      if (Number.isFinite(x)) continue;
    }
    mean += x / count - mean / count;
  }
  return mean;
}

/** Variance by Welford's online algorithm (population variance, as Loki). */
function welford(v: readonly number[], lo: number, hi: number): number {
  let aux = 0;
  let count = 0;
  let mean = 0;
  for (let i = lo; i < hi; i++) {
    const x = v[i]!;
    count++;
    const delta = x - mean;
    mean += delta / count;
    aux += delta * (x - mean);
  }
  return aux / count;
}

/** φ-quantile with linear interpolation between the closest ranks; NaN sorts first (Loki's HeapByMaxValue order). */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

/**
 * Loki's rate_counter: Prometheus' extrapolated counter rate. Loki feeds it sample timestamps in nanoseconds while
 * the formula expects milliseconds (it subtracts the range in ms and divides by 1000); the arithmetic is reproduced
 * as is, so values agree with Loki's.
 */
function rateCounter(rangeNs: bigint, unitNs: bigint): WindowFn {
  const rangeMs = Number(rangeNs / 1_000_000n);
  const rangeSeconds = durationSeconds(rangeNs);
  const unit = Number(unitNs);
  return (ts, v, lo, hi) => {
    const n = hi - lo;
    if (n < 2) return 0;
    const first = v[lo]!;
    const last = v[hi - 1]!;
    let result = last - first;
    let lastValue = 0;
    for (let i = lo; i < hi; i++) {
      if (v[i]! < lastValue) result += lastValue;
      lastValue = v[i]!;
    }
    // rangeStart = T0 - rangeMs and rangeEnd = Tlast, so these two are independent of the absolute timestamps.
    let durationToStart = rangeMs / 1000;
    const durationToEnd = 0;
    const sampledInterval = ((ts[hi - 1]! - ts[lo]!) * unit) / 1000;
    const averageDurationBetweenSamples = sampledInterval / (n - 1);
    if (result > 0 && first >= 0) {
      const durationToZero = sampledInterval * (first / result);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
    const threshold = averageDurationBetweenSamples * 1.1;
    let extrapolateToInterval = sampledInterval;
    extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
    extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
    result = result * (extrapolateToInterval / sampledInterval);
    return result / rangeSeconds;
  };
}
