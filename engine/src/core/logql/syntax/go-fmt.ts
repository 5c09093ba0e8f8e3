/**
 * The few Go and Prometheus formatting and parsing rules LogQL's text forms depend on: Loki prints queries with Go's
 * fmt/strconv, reads durations with Prometheus' and Go's parsers and sizes with go-humanize, so a faithful parser and
 * printer must reproduce them exactly. Durations are nanoseconds as bigint.
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const MAX_INT64 = (1n << 63n) - 1n;

/** Thrown by the parsers below; `message` is the exact Go error text. */
export class GoSyntaxError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Quoting

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote (and `%q` on strings): escapes quotes, backslashes and non-printable runes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot come from valid UTF-8; Go would print the replacement of the broken bytes.
      out += '\\ufffd';
    } else if (PRINTABLE.test(ch)) {
      out += ch;
    } else {
      out += escapeRune(cp);
    }
  }
  return out + '"';
}

function escapeRune(cp: number): string {
  switch (cp) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Go's `%#q`: a raw `…` string when strconv.CanBackquote allows it, else a quoted one. */
export function goBackquote(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/u.test(s)) return '`' + s + '`';
  return goQuote(s);
}

// ---------------------------------------------------------------------------------------------------------------
// Floats

/** Shortest round-trip decimal digits of a finite, non-zero |v| and its decimal exponent (d.ddd × 10^exp). */
function shortestDigits(v: number): { digits: string; exp: number } {
  const [mant, e] = Math.abs(v).toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), exp: Number(e) };
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return undefined;
}

function sign(v: number): string {
  return v < 0 || Object.is(v, -0) ? '-' : '';
}

function fixedFromDigits(digits: string, exp: number): string {
  // value = 0.d1d2… × 10^(exp+1)
  const point = exp + 1;
  if (point <= 0) return '0.' + '0'.repeat(-point) + digits;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return digits.slice(0, point) + '.' + digits.slice(point);
}

/** Go's `%v` / fmt.Sprint for a float64 (strconv 'g' with the shortest precision). */
export function formatGoFloat(v: number): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  if (v === 0) return sign(v) + '0';
  const { digits, exp } = shortestDigits(v);
  // strconv's 'g' with the shortest precision uses %e when the exponent is < -4 or >= 6 (so 1e6 prints "1e+06").
  if (exp < -4 || exp >= 6) return sign(v) + expForm(digits, exp);
  return sign(v) + fixedFromDigits(digits, exp);
}

function expForm(digits: string, exp: number): string {
  const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp).toString().padStart(2, '0');
  return `${mant}e${exp < 0 ? '-' : '+'}${e}`;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest round-trip digits, never an exponent. */
export function formatFloatF(v: number): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  if (v === 0) return sign(v) + '0';
  const { digits, exp } = shortestDigits(v);
  return sign(v) + fixedFromDigits(digits, exp);
}

/** Go's `%.Nf`: fixed decimals, ties broken to even as Go does on exactly representable halves. */
export function formatFixed(v: number, decimals: number): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  const abs = Math.abs(v);
  let body: string;
  if (abs >= 1e21) {
    body = BigInt(abs).toString() + (decimals > 0 ? '.' + '0'.repeat(decimals) : '');
  } else {
    body = abs.toFixed(decimals);
    if (decimals === 0 && abs % 1 === 0.5 && Math.floor(abs) % 2 === 0) body = Math.floor(abs).toFixed(0);
  }
  return sign(v) + body;
}

/**
 * Go's strconv.ParseFloat for the number texts LogQL's lexer produces (decimal, optional fraction and exponent).
 * Returns the value or the Go error text.
 */
export function parseGoFloat(text: string): number | GoSyntaxError {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    return new GoSyntaxError(`strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`);
  }
  const v = Number(text);
  if (!Number.isFinite(v)) return new GoSyntaxError(`strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Durations

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
 * alone is allowed. Throws GoSyntaxError with Prometheus' message.
 */
export function parsePromDuration(s: string): bigint {
  if (s === '') throw new GoSyntaxError('empty duration string');
  if (s === '0') return 0n;
  const invalid = (): GoSyntaxError => new GoSyntaxError(`not a valid duration string: ${goQuote(s)}`);
  let rest = s;
  let total = 0n;
  let lastPos = 0;
  while (rest !== '') {
    const num = /^[0-9]+/.exec(rest);
    if (num === null) throw invalid();
    rest = rest.slice(num[0].length);
    const unit = /^[^0-9]+/.exec(rest);
    if (unit === null) throw invalid();
    rest = rest.slice(unit[0].length);
    const u = PROM_UNITS[unit[0]];
    if (u === undefined) throw new GoSyntaxError(`unknown unit ${goQuote(unit[0])} in duration ${goQuote(s)}`);
    if (u.pos <= lastPos) throw invalid();
    lastPos = u.pos;
    const v = BigInt(num[0]);
    if (v > MAX_INT64 / u.ns) throw new GoSyntaxError('duration out of range');
    total += v * u.ns;
    if (total > MAX_INT64) throw new GoSyntaxError('duration out of range');
  }
  return total;
}

const GO_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  '\u00b5s': 1000n,
  '\u03bcs': 1000n,
  ms: NS_PER_MS,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
};

/** Go's time.ParseDuration (`1.5h`, `-5m`, `300ms`, `1h2m`); undefined when the text is not a Go duration. */
export function parseGoDuration(s: string): bigint | undefined {
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest)!;
    const intPart = m[1]!;
    const frac = m[2];
    if (intPart === '' && (frac === undefined || frac === '')) return undefined;
    rest = rest.slice(m[0].length);
    const unitMatch = /^[^0-9.]+/.exec(rest);
    if (unitMatch === null) return undefined;
    const unit = GO_UNITS[unitMatch[0]];
    if (unit === undefined) return undefined;
    rest = rest.slice(unitMatch[0].length);
    let v = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (frac !== undefined && frac !== '') v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return undefined;
  }
  return neg ? -total : total;
}

/** Loki's lexer: a Prometheus duration first, Go's time.ParseDuration as the fallback. */
export function parseLokiDuration(s: string): bigint | undefined {
  try {
    return parsePromDuration(s);
  } catch {
    return parseGoDuration(s);
  }
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

// ---------------------------------------------------------------------------------------------------------------
// Byte sizes (go-humanize)

const SIZE_TABLE: Record<string, number> = {
  b: 1,
  '': 1,
  kib: 1024,
  kb: 1000,
  ki: 1024,
  k: 1000,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  mi: 1024 ** 2,
  m: 1000 ** 2,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  gi: 1024 ** 3,
  g: 1000 ** 3,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
  ti: 1024 ** 4,
  t: 1000 ** 4,
  pib: 1024 ** 5,
  pb: 1000 ** 5,
  pi: 1024 ** 5,
  p: 1000 ** 5,
  eib: 1024 ** 6,
  eb: 1000 ** 6,
  ei: 1024 ** 6,
  e: 1000 ** 6,
};

/** go-humanize's ParseBytes (`10KB`, `1.5MiB`, `42`); undefined when the text is not a size. */
export function parseHumanBytes(s: string): number | undefined {
  const m = /^[0-9.,]*/.exec(s)!;
  const num = m[0].replace(/,/g, '');
  const f = parseGoFloat(num);
  if (f instanceof GoSyntaxError) return undefined;
  const mult = SIZE_TABLE[s.slice(m[0].length).trim().toLowerCase()];
  if (mult === undefined) return undefined;
  const v = f * mult;
  if (v >= 2 ** 64) return undefined;
  return Math.trunc(v);
}

const SI_SIZES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** go-humanize's Bytes (SI units, one decimal below 10), with the space removed as Loki prints it: `10kB`, `1.0MB`. */
export function formatHumanBytes(v: number): string {
  if (v < 10) return `${v}B`;
  const e = Math.floor(Math.log(v) / Math.log(1000));
  const val = Math.floor((v / 1000 ** e) * 10 + 0.5) / 10;
  return (val < 10 ? formatFixed(val, 1) : formatFixed(val, 0)) + SI_SIZES[e]!;
}
