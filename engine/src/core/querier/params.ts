import { badRequest } from '../errors.js';
import type { Direction } from '../model.js';
import { parsePromDuration } from '../util/go/duration.js';
import { goQuote } from '../util/go/quote.js';
import { parseGoFloat } from '../util/go/strconv.js';
import { parseRfc3339Ns } from '../util/time.js';

export type Params = Record<string, string | string[] | undefined>;

export function param(p: Params, name: string): string | undefined {
  const v = p[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function params(p: Params, name: string): string[] {
  const v = p[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * A time parameter in any form Loki accepts: integer nanoseconds, integer seconds (up to 10 digits), float
 * seconds, or RFC3339(Nano). Returns nanoseconds.
 */
export function parseTime(value: string | undefined, def: bigint, name: string): bigint {
  if (value === undefined || value === '') return def;
  if (/^-?\d+$/.test(value)) {
    const n = BigInt(value);
    return value.replace('-', '').length <= 10 ? n * 1_000_000_000n : n;
  }
  if (/^-?\d*\.\d+$|^-?\d+\.\d*$/.test(value)) {
    const [int, frac = ''] = value.split('.');
    const neg = int!.startsWith('-');
    const ns = BigInt(int === '-' || int === '' ? '0' : int!) * 1_000_000_000n;
    const f = BigInt((frac + '000000000').slice(0, 9));
    return neg ? ns - f : ns + f;
  }
  const t = parseRfc3339Ns(value);
  if (t === undefined) throw badRequest(`invalid ${name} parameter: cannot parse "${value}" to a valid timestamp`);
  return t;
}

export function parseDirection(value: string | undefined): Direction {
  if (value === undefined || value === '') return 'backward';
  const v = value.toLowerCase();
  if (v === 'forward' || v === 'backward') return v;
  throw badRequest(`invalid direction '${value}'`);
}

export function parseLimit(value: string | undefined, def = 100): number {
  if (value === undefined || value === '') return def;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid limit parameter: ${value}`);
  const n = Number(value);
  if (n <= 0) throw badRequest('limit must be a positive value');
  return n;
}

export interface TimeRange {
  start: bigint;
  end: bigint;
}

/** start/end (or `since`) with Loki's defaults: end = now, start = end − 1h (or end − since). */
export function parseRange(p: Params, nowNs: bigint, defaultSinceMs = 3_600_000): TimeRange {
  const end = parseTime(param(p, 'end'), nowNs, 'end');
  const since = param(p, 'since');
  const sinceNs = since !== undefined && since !== '' ? durationNs(since) : BigInt(defaultSinceMs) * 1_000_000n;
  const start = parseTime(param(p, 'start'), end - sinceNs, 'start');
  if (end < start) throw badRequest('end timestamp must not be before or equal to start time');
  return { start, end };
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
  y: 31_536_000_000_000_000n,
};

/** A Prometheus-style duration (`1h30m`, `500ms`) in nanoseconds. */
export function durationNs(s: string): bigint {
  const re = /(\d+)(ns|us|µs|ms|s|m|h|d|w|y)/gy;
  let total = 0n;
  let pos = 0;
  for (const m of s.matchAll(re)) {
    total += BigInt(m[1]!) * UNITS[m[2]!]!;
    pos += m[0].length;
  }
  if (pos !== s.length || s.length === 0) throw badRequest(`cannot parse "${s}" to a valid duration`);
  return total;
}

// ── metric query parameters (Loki's loghttp) ─────────────────────────────────────────────────────────────────

const MAX_INT64 = (1n << 63n) - 1n;

/**
 * Loki's `step` and `interval` values: float seconds (`15`, `0.5`, `1e3`) or a Prometheus duration (`1m`, `1h30m`).
 * Returns nanoseconds, truncated as Go converts a float to a Duration.
 */
export function parseSecondsOrDuration(value: string): bigint {
  const f = parseGoFloat(value);
  if (typeof f === 'number') {
    if (Number.isNaN(f)) return -1n;
    const ns = f * 1e9;
    if (ns > Number(MAX_INT64) || ns < -Number(MAX_INT64)) {
      throw badRequest(`cannot parse ${goQuote(value)} to a valid duration. It overflows int64`);
    }
    return BigInt(Math.trunc(ns));
  }
  const d = parsePromDuration(value);
  if (typeof d === 'bigint') return d;
  throw badRequest(`cannot parse ${goQuote(value)} to a valid duration`);
}

/** Loki's default step: a 250th of the range in whole seconds, at least 1s. */
export function defaultStep(start: bigint, end: bigint): bigint {
  const seconds = Math.max(Math.floor(Number(end - start) / 1e9 / 250), 1);
  return BigInt(seconds) * 1_000_000_000n;
}

/** `step` of a range query, validated as Loki does (positive, at most 11,000 steps). */
export function parseStep(p: Params, start: bigint, end: bigint): bigint {
  const v = param(p, 'step');
  const step = v === undefined || v === '' ? defaultStep(start, end) : parseSecondsOrDuration(v);
  if (step <= 0n) throw badRequest('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / step > 11000n) {
    throw badRequest('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
  }
  return step;
}

/** `interval` of a log range query (0 when absent). */
export function parseInterval(p: Params): bigint {
  const v = param(p, 'interval');
  if (v === undefined || v === '') return 0n;
  const interval = parseSecondsOrDuration(v);
  if (interval < 0n) throw badRequest('interval must be >= 0');
  return interval;
}
