/**
 * Durations as Go's time package and Prometheus' model package read and print them. LogQL ranges are Prometheus
 * durations (`[5m]`, `1d`, `1w`), Loki's lexer falls back to Go's time.ParseDuration (`1.5h`, `-5m`), label filters
 * and templates use Go's, and Loki prints them back with the matching String method. Values are nanoseconds as
 * bigint; the parsers return a GoSyntaxError with the exact Go message instead of throwing.
 */
import { GoSyntaxError } from './errors.js';
import { goQuote, timeQuote } from './quote.js';

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;

// --- Prometheus ------------------------------------------------------------------------------------------------

const PROM_UNITS: Record<string, { pos: number; ns: bigint }> = {
  y: { pos: 1, ns: 365n * 24n * 3600n * NS_PER_S },
  w: { pos: 2, ns: 7n * 24n * 3600n * NS_PER_S },
  d: { pos: 3, ns: 24n * 3600n * NS_PER_S },
  h: { pos: 4, ns: 3600n * NS_PER_S },
  m: { pos: 5, ns: 60n * NS_PER_S },
  s: { pos: 6, ns: NS_PER_S },
  ms: { pos: 7, ns: NS_PER_MS },
};

/**
 * Prometheus' model.ParseDuration: integer amounts of y w d h m s ms, biggest unit first, each at most once; "0"
 * alone is allowed.
 */
export function parsePromDuration(s: string): bigint | GoSyntaxError {
  if (s === '') return new GoSyntaxError('empty duration string');
  if (s === '0') return 0n;
  const invalid = (): GoSyntaxError => new GoSyntaxError(`not a valid duration string: ${goQuote(s)}`);
  let rest = s;
  let total = 0n;
  let lastPos = 0;
  while (rest !== '') {
    const num = /^[0-9]+/.exec(rest);
    if (num === null) return invalid();
    rest = rest.slice(num[0].length);
    const unit = /^[^0-9]+/.exec(rest);
    if (unit === null) return invalid();
    rest = rest.slice(unit[0].length);
    const u = PROM_UNITS[unit[0]];
    if (u === undefined) return new GoSyntaxError(`unknown unit ${goQuote(unit[0])} in duration ${goQuote(s)}`);
    if (u.pos <= lastPos) return invalid();
    lastPos = u.pos;
    const v = BigInt(num[0]);
    if (v > MAX_INT64 / u.ns) return new GoSyntaxError('duration out of range');
    total += v * u.ns;
    if (total > MAX_INT64) return new GoSyntaxError('duration out of range');
  }
  return total;
}

/** Prometheus' model.Duration.String: `1h30m`, `1w`, `90d` (y and w only when exact), millisecond resolution. */
export function formatPromDuration(ns: bigint): string {
  let ms = ns / NS_PER_MS;
  if (ms === 0n) return '0s';
  let out = '';
  if (ms < 0n) {
    out = '-';
    ms = -ms;
  }
  const unit = (name: string, mult: bigint, exact: boolean): void => {
    if (exact && ms % mult !== 0n) return;
    const v = ms / mult;
    if (v > 0n) {
      out += `${v}${name}`;
      ms -= v * mult;
    }
  };
  unit('y', 365n * 24n * 3600n * 1000n, true);
  unit('w', 7n * 24n * 3600n * 1000n, true);
  unit('d', 24n * 3600n * 1000n, false);
  unit('h', 3600n * 1000n, false);
  unit('m', 60n * 1000n, false);
  unit('s', 1000n, false);
  unit('ms', 1n, false);
  return out;
}

// --- Go's time package -----------------------------------------------------------------------------------------

const GO_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  '\u00b5s': 1000n, // micro sign
  '\u03bcs': 1000n, // Greek mu
  ms: NS_PER_MS,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Go's leadingFraction: the digits as an integer (stopping before it overflows) and 10^(digits used). */
function leadingFraction(digits: string): { f: bigint; scale: number } {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    if (f > MAX_INT64 / 10n) break;
    const y = f * 10n + BigInt(c.charCodeAt(0) - 48);
    if (y > 1n << 63n) break;
    f = y;
    scale *= 10;
  }
  return { f, scale };
}

/** Go's time.ParseDuration (`1.5h`, `-5m`, `300ms`, `1h2m`, `2µs`). */
export function parseGoDuration(orig: string): bigint | GoSyntaxError {
  const invalid = (): GoSyntaxError => new GoSyntaxError(`time: invalid duration ${timeQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return invalid();
  let d = 0n;
  const max = 1n << 63n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid();
    const intPart = /^[0-9]*/.exec(s)![0];
    let v = intPart.length > 0 ? BigInt(intPart) : 0n;
    // Go's leadingInt allows up to 1<<63 here, so that -9223372036854775808ns is the minimum duration.
    if (v > max) return invalid();
    s = s.slice(intPart.length);
    let frac = '';
    if (s[0] === '.') {
      s = s.slice(1);
      frac = /^[0-9]*/.exec(s)![0];
      s = s.slice(frac.length);
    }
    if (intPart === '' && frac === '') return invalid();
    let i = 0;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    if (i === 0) return new GoSyntaxError(`time: missing unit in duration ${timeQuote(orig)}`);
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = GO_UNITS[u];
    if (unit === undefined) {
      return new GoSyntaxError(`time: unknown unit ${timeQuote(u)} in duration ${timeQuote(orig)}`);
    }
    if (v > max / unit) return invalid();
    v *= unit;
    if (frac !== '') {
      // Go adds the fraction in float64 (f × unit/scale), truncated: exact enough for a fraction of an hour.
      const { f, scale } = leadingFraction(frac);
      if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > max) return invalid();
    }
    d += v;
    if (d > max) return invalid();
  }
  if (neg) return -d;
  if (d > MAX_INT64) return invalid();
  return d;
}

/** Go's time.Duration.String: `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `1µs`, `0s`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < NS_PER_S) {
    let prec: number;
    let unit: string;
    if (u < 1000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < NS_PER_MS) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    out = fraction(u, prec) + unit;
  } else {
    const secs = fraction(u % (60n * NS_PER_S), 9);
    u /= 60n * NS_PER_S;
    out = secs + 's';
    if (u > 0n) {
      out = `${u % 60n}m` + out;
      u /= 60n;
      if (u > 0n) out = `${u}h` + out;
    }
  }
  return (neg ? '-' : '') + out;
}

/** `v / 10^prec` with trailing zeros of the fraction (and a bare point) dropped, as Go's fmtFrac does. */
function fraction(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const int = v / scale;
  const frac = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac === '' ? int.toString() : `${int}.${frac}`;
}

/** Go's Duration.Seconds(): whole seconds and the remainder converted separately, as Go does. */
export function durationSeconds(d: bigint): number {
  return Number(d / NS_PER_S) + Number(d % NS_PER_S) / 1e9;
}

// --- Loki ------------------------------------------------------------------------------------------------------

/** Loki's lexer: a Prometheus duration first, Go's time.ParseDuration as the fallback; undefined when neither. */
export function parseLokiDuration(s: string): bigint | undefined {
  const prom = parsePromDuration(s);
  if (typeof prom === 'bigint') return prom;
  const go = parseGoDuration(s);
  return typeof go === 'bigint' ? go : undefined;
}
