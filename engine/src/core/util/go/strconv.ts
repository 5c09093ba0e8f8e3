/**
 * Go's strconv for numbers: FormatFloat (what `%v`, `%g`, `%e`, `%f` print), ParseFloat and ParseInt/ParseUint with
 * base 0. Loki prints query literals and template values with these and returns their error texts, so the digits
 * and the messages must be Go's: shortest round-trip digits for precision -1, and for a fixed precision the exact
 * binary value rounded half to even (JavaScript's toFixed rounds those ties up: Go prints 0.125 as "0.12").
 */
import { GoSyntaxError } from './errors.js';
import { goQuote } from './quote.js';

/** strconv.NumError: `strconv.ParseFloat: parsing "x": invalid syntax`. */
export class NumError extends GoSyntaxError {
  constructor(
    readonly func: 'ParseFloat' | 'ParseInt' | 'ParseUint',
    readonly num: string,
    /** ErrRange: the text is a number, but too large (ParseFloat's value would be ±Inf). */
    readonly range: boolean,
  ) {
    super(`strconv.${func}: parsing ${goQuote(num)}: ${range ? 'value out of range' : 'invalid syntax'}`);
    this.name = 'NumError';
  }
}

// --- formatting ------------------------------------------------------------------------------------------------

interface Dec {
  d: string; // significant digits, no leading/trailing zeros ("" for zero)
  dp: number; // decimal point position: value = 0.d × 10^dp
}

function shortestDecimal(x: number): Dec {
  if (x === 0) return { d: '', dp: 0 };
  // JavaScript's shortest round-trip digits are the same digits Go's Ryū-based shortest formatting picks.
  const [mant, exp] = x.toExponential().split('e') as [string, string];
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

function exactDecimal(x: number): Dec {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let s: string;
  let dp: number;
  if (e >= 0) {
    s = (mant << BigInt(e)).toString();
    dp = s.length;
  } else {
    s = (mant * 5n ** BigInt(-e)).toString();
    dp = s.length + e;
  }
  return { d: s.replace(/0+$/, ''), dp };
}

/** Go's decimal.Round(nd): keep nd digits, round half to even on the exact value. */
function roundDec(a: Dec, nd: number): Dec {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd);
  let up: boolean;
  if (c === 53 && nd + 1 === a.d.length) up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = c >= 53;
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ''), dp: a.dp };
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(neg: boolean, d: Dec, prec: number, e: string): string {
  let s = neg ? '-' : '';
  s += d.d.length > 0 ? d.d[0] : '0';
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(d.d.length, prec + 1);
    if (i < m) {
      s += d.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += e;
  let exp = d.dp - 1;
  if (d.d.length === 0) exp = 0;
  s += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, d: Dec, prec: number): string {
  let s = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    s += d.d.slice(0, m);
    for (let i = m; i < d.dp; i++) s += '0';
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return s;
}

export type FloatFormat = 'e' | 'E' | 'f' | 'F' | 'g' | 'G';

/**
 * strconv.FormatFloat(x, fmt, prec, 64); prec -1 means the shortest representation. `formatFloat(x, 'g', -1)` is
 * what `%v` and fmt.Sprint print, `formatFloat(x, 'f', 6)` is `%f`.
 */
export function formatFloat(x: number, fmt: FloatFormat, prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let d: Dec;
  const shortest = prec < 0;
  if (shortest) {
    d = shortestDecimal(ax);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(d.d.length - 1, 0);
    else if (fmt === 'f' || fmt === 'F') prec = Math.max(d.d.length - d.dp, 0);
    else prec = d.d.length;
  } else {
    d = exactDecimal(ax);
    if (fmt === 'e' || fmt === 'E') d = roundDec(d, prec + 1);
    else if (fmt === 'f' || fmt === 'F') d = roundDec(d, d.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDec(d, prec);
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, d, prec, fmt);
    case 'f':
    case 'F':
      return fmtF(neg, d, prec);
  }
  // %e is used when the exponent is < -4 or >= the precision; for the shortest form, the precision is taken as 6.
  let eprec = prec;
  if (eprec > d.d.length && d.d.length >= d.dp) eprec = d.d.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > d.d.length) prec = d.d.length;
    return fmtE(neg, d, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > d.dp) prec = d.d.length;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}

// --- parsing ---------------------------------------------------------------------------------------------------

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '-' || s[0] === '+') s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'boxBOX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL_FLOAT = /^(?:([+-]?)(?:inf|infinity)|nan)$/i;

/**
 * strconv.ParseFloat(s, 64): Go's float literal syntax (decimal, hexadecimal with a `p` exponent, `_` separators),
 * `Inf`/`Infinity` with an optional sign and `NaN`, any case. Returns the value, or a NumError with Go's message; a
 * finite text too large for a float64 is a range error.
 */
export function parseGoFloat(s: string): number | NumError {
  const special = SPECIAL_FLOAT.exec(s);
  if (special !== null) {
    if (special[1] === undefined) return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  let t = s;
  if (t.includes('_')) {
    if (!underscoreOK(t)) return new NumError('ParseFloat', s, false);
    t = t.replace(/_/g, '');
  }
  let v: number;
  const hex = HEX_FLOAT.exec(t);
  if (hex !== null) {
    const int = hex[2]!;
    const frac = hex[3] ?? '';
    if (int.length + frac.length === 0) return new NumError('ParseFloat', s, false);
    v = hexFloat(BigInt('0x0' + int + frac), Number(hex[4]) - 4 * frac.length);
    if (hex[1] === '-') v = -v;
  } else if (DECIMAL_FLOAT.test(t)) {
    // Number() rounds decimal text correctly (to nearest, ties to even), as Go does.
    v = Number(t);
  } else {
    return new NumError('ParseFloat', s, false);
  }
  if (!Number.isFinite(v)) return new NumError('ParseFloat', s, true);
  return v;
}

/** mant × 2^exp correctly rounded to a float64 (half to even), subnormals included; Infinity past the range. */
function hexFloat(mant: bigint, exp: number): number {
  if (mant === 0n) return 0;
  const bits = mant.toString(2).length;
  const top = exp + bits - 1; // exponent of the leading bit
  if (top > 1024) return Infinity;
  if (top < -1076) return 0;
  // Keep 53 significant bits, or fewer where the result is subnormal (its last bit is worth 2^-1074).
  const shift = Math.max(bits - 53, -1074 - exp);
  if (shift <= 0) return Number(mant) * 2 ** exp;
  const q = mant >> BigInt(shift);
  const rem = mant - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  const up = rem > half || (rem === half && (q & 1n) === 1n);
  return Number(up ? q + 1n : q) * 2 ** (exp + shift);
}

/**
 * strconv.ParseInt(s, 0, 64), or strconv.ParseUint(s, 0, 64) when `unsigned`: base prefixes `0x`, `0o`, `0b` and a
 * leading `0` for octal, `_` separators. Returns the value or a NumError with Go's message.
 */
export function parseGoInt(s: string, unsigned = false): bigint | NumError {
  const func = unsigned ? 'ParseUint' : 'ParseInt';
  let t = s;
  let neg = false;
  if (!unsigned && (t[0] === '+' || t[0] === '-')) {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  if (t.includes('_')) {
    if (!underscoreOK(t)) return new NumError(func, s, false);
    t = t.replace(/_/g, '');
  }
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^0[bB][01]+$/.test(t)) v = BigInt(t);
  else if (/^0[oO][0-7]+$/.test(t)) v = BigInt('0o' + t.slice(2));
  else if (/^0[0-7]+$/.test(t)) v = BigInt('0o' + t.slice(1));
  else if (/^(?:0|[1-9][0-9]*)$/.test(t)) v = BigInt(t);
  else return new NumError(func, s, false);
  if (neg) v = -v;
  if (unsigned ? v > 0xffffffffffffffffn : v > 0x7fffffffffffffffn || v < -0x8000000000000000n) {
    return new NumError(func, s, true);
  }
  return v;
}
