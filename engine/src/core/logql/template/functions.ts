/**
 * The functions a LogQL template can call: text/template's builtins and Loki's function map (its own functions
 * plus the sprig functions it imports, see the "Template functions" page of the LogQL docs). Each function has
 * Go's parameter types, because Go checks arguments against them (`wrong type for value; expected int; got
 * string`) and converts nothing implicitly.
 */
import { parseHumanBytes } from '../../util/go/bytes.js';
import { durationSeconds, parseGoDuration } from '../../util/go/duration.js';
import { goQuote } from '../../util/go/quote.js';
import { compileGoRegexp, goExpand, goFindAll, goReplaceAll, type GoRegexp } from '../../util/go/regexp.js';
import { parseGoFloat, parseGoInt } from '../../util/go/strconv.js';
import { trimSpace } from '../../util/go/strings.js';
import { formatValue, sprint, sprintf, sprintln } from './go-fmt.js';
import {
  formatTime,
  loadLocation,
  localLocation,
  parseTime,
  unixSeconds,
  UTC,
  ZERO_TIME,
  type GoLocation,
} from './go-time.js';
import { cmpStr, fromJsonValue, GoInt, GoTime, int, isTrue, kindOf, LabelsValue, typeName, type GoValue } from './values.js';

/** A Go function returning a non-nil error (or panicking): reported as `error calling <name>: <message>`. */
export class FuncError extends Error {}

/** Go parameter types: `value` is reflect.Value (builtins see any value, even an invalid one). */
export type ParamType = 'string' | 'int' | 'int64' | 'float64' | 'bool' | 'any' | 'time' | 'value';

export interface FuncContext {
  /** The server's time zone (Go's time.Local). */
  local: GoLocation;
  /** Current time in Unix nanoseconds. */
  now(): bigint;
  /** The current log line (`__line__`). */
  line(): string;
  /** The current entry's timestamp in Unix nanoseconds (`__timestamp__`). */
  ts(): bigint;
}

export interface GoFunc {
  params: ParamType[];
  variadic?: ParamType;
  /** `and` / `or`: arguments are evaluated lazily. */
  shortCircuit?: 'and' | 'or';
  /** Throws FuncError for a Go error return (or a recovered panic). `receiver` is set for methods. */
  call(args: GoValue[], ctx: FuncContext, receiver?: GoValue): GoValue;
}

const fn = (params: ParamType[], call: GoFunc['call'], variadic?: ParamType): GoFunc =>
  variadic === undefined ? { params, call } : { params, variadic, call };

const s = (v: GoValue): string => v as string;
const n = (v: GoValue): number => Number((v as GoInt).v);

// --- spf13/cast conversions used by sprig ------------------------------------------------------------------------

function trimZeroDecimal(str: string): string {
  let foundZero = false;
  for (let i = str.length; i > 0; i--) {
    const c = str[i - 1];
    if (c === '.') {
      if (foundZero) return str.slice(0, i - 1);
    } else if (c === '0') {
      foundZero = true;
    } else {
      return str;
    }
  }
  return str;
}

const MIN_INT64 = -(2n ** 63n);

/** cast.ToInt64: numbers truncate, strings parse (base prefixes allowed), anything else is 0. */
export function toInt64(v: GoValue): bigint {
  if (v instanceof GoInt) return v.v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 63) return MIN_INT64; // what amd64 gives for such conversions
    return BigInt(Math.trunc(v));
  }
  if (typeof v === 'string') {
    const i = parseGoInt(trimZeroDecimal(v));
    return typeof i === 'bigint' ? i : 0n;
  }
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

/** cast.ToFloat64. */
export function toFloat64(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (v instanceof GoInt) return Number(v.v);
  if (typeof v === 'string') {
    const f = parseGoFloat(v);
    return typeof f === 'number' ? f : 0;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 0;
}

// --- shopspring/decimal arithmetic used by sprig's addf/subf/mulf/divf ------------------------------------------

interface Dec {
  m: bigint;
  e: number;
}

function decFromFloat(f: number): Dec {
  if (!Number.isFinite(f)) throw new FuncError(`Cannot create a Decimal from ${formatValue(f)}`);
  if (f === 0) return { m: 0n, e: 0 };
  const [mant, exp] = f.toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace('-', '');
  const frac = mant.includes('.') ? mant.split('.')[1]!.length : 0;
  return { m: BigInt((f < 0 ? '-' : '') + digits), e: Number(exp) - frac };
}

function alignDec(a: Dec, b: Dec): [bigint, bigint, number] {
  if (a.e === b.e) return [a.m, b.m, a.e];
  if (a.e < b.e) return [a.m, b.m * 10n ** BigInt(b.e - a.e), a.e];
  return [a.m * 10n ** BigInt(a.e - b.e), b.m, b.e];
}

const DIVISION_PRECISION = 16;

const decOps: Record<'add' | 'sub' | 'mul' | 'div', (a: Dec, b: Dec) => Dec> = {
  add: (a, b) => {
    const [x, y, e] = alignDec(a, b);
    return { m: x + y, e };
  },
  sub: (a, b) => {
    const [x, y, e] = alignDec(a, b);
    return { m: x - y, e };
  },
  mul: (a, b) => ({ m: a.m * b.m, e: a.e + b.e }),
  div: (a, b) => {
    if (b.m === 0n) throw new FuncError('decimal division by zero');
    // quotient rounded to 10^-16, half away from zero (Decimal.DivRound)
    let num = a.m;
    let den = b.m;
    const shift = a.e - b.e + DIVISION_PRECISION;
    if (shift >= 0) num *= 10n ** BigInt(shift);
    else den *= 10n ** BigInt(-shift);
    let q = num / den;
    const r = num % den;
    const abs = (x: bigint): bigint => (x < 0n ? -x : x);
    if (2n * abs(r) >= abs(den)) q += (num < 0n) !== (den < 0n) ? -1n : 1n;
    return { m: q, e: -DIVISION_PRECISION };
  },
};

function decToFloat(d: Dec): number {
  return Number(`${d.m}e${d.e}`);
}

function execDecimalOp(first: GoValue, rest: GoValue[], op: keyof typeof decOps): number {
  let acc = decFromFloat(toFloat64(first));
  for (const x of rest) acc = decOps[op](acc, decFromFloat(toFloat64(x)));
  return decToFloat(acc);
}

// --- comparisons (text/template funcs.go) -------------------------------------------------------------------------

type BasicKind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string';

function basicKind(v: GoValue): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'uint' || k === 'float' || k === 'string' ? k : 'invalid';
}

function valueEquals(a: GoValue, b: GoValue, k: BasicKind): boolean {
  switch (k) {
    case 'bool':
    case 'string':
    case 'float':
      return a === b;
    default:
      return (a as GoInt).v === (b as GoInt).v;
  }
}

function eq(arg1: GoValue, ...arg2: GoValue[]): boolean {
  if (arg2.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) {
        truth = (arg1 as GoInt).v === (arg as GoInt).v;
      } else if (arg1 !== undefined && arg !== undefined) {
        throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
      }
    } else if (k1 !== 'invalid') {
      truth = valueEquals(arg1, arg, k1);
    } else {
      const kk1 = kindOf(arg1);
      const kk2 = kindOf(arg);
      if (kk1 !== kk2 && kk1 !== 'invalid' && kk2 !== 'invalid') {
        throw new FuncError(`non-comparable types ${formatValue(arg1)}: ${typeName(arg1)}, ${typeName(arg)}: ${formatValue(arg)}`);
      }
      if (arg1 === undefined || arg === undefined) truth = arg1 === arg;
      else if (arg instanceof GoTime && arg1 instanceof GoTime) truth = arg.ns === arg1.ns && arg.loc === arg1.loc;
      else throw new FuncError(`non-comparable type ${formatValue(arg)}: ${typeName(arg)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: GoValue, arg2: GoValue): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === 'invalid' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) {
    if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) return (arg1 as GoInt).v < (arg2 as GoInt).v;
    throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg2)}`);
  }
  switch (k1) {
    case 'bool':
      throw new FuncError('invalid type for comparison');
    case 'float':
      return (arg1 as number) < (arg2 as number);
    case 'string':
      return cmpStr(arg1 as string, arg2 as string) < 0;
    default:
      return (arg1 as GoInt).v < (arg2 as GoInt).v;
  }
}

const le = (a: GoValue, b: GoValue): boolean => lt(a, b) || eq(a, b);

// --- builtins helpers ---------------------------------------------------------------------------------------------

function indexArg(index: GoValue, cap: number): number {
  if (index instanceof GoInt) {
    const x = index.v;
    if (x < 0n || x > BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
    return Number(x);
  }
  if (index === undefined || index === null) throw new FuncError('cannot index slice/array with nil');
  throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
}

function goIndex(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new FuncError('index of untyped nil');
  for (let index of indexes) {
    if (index === null) index = undefined;
    if (item === undefined || item === null) throw new FuncError('index of nil pointer');
    if (typeof item === 'string' || Array.isArray(item)) {
      const bytes: Buffer | undefined = typeof item === 'string' ? Buffer.from(item, 'utf8') : undefined;
      const len: number = bytes !== undefined ? bytes.length : (item as GoValue[]).length;
      const x = indexArg(index, len);
      if (x === len) throw new FuncError(`reflect: ${bytes !== undefined ? 'string' : 'slice'} index out of range`);
      item = bytes !== undefined ? int(bytes[x]!, 'uint8') : (item as GoValue[])[x]!;
      continue;
    }
    if (item instanceof Map || item instanceof LabelsValue) {
      if (index === undefined) throw new FuncError('value is nil; should be of type string');
      if (typeof index !== 'string') throw new FuncError(`value has type ${typeName(index)}; should be string`);
      if (item instanceof LabelsValue) item = item.data.get(index) ?? '';
      else {
        const v = item.get(index);
        item = v === undefined ? null : v;
      }
      continue;
    }
    throw new FuncError(`can't index item of type ${typeName(item)}`);
  }
  return item;
}

function goSlice(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
    len = Buffer.byteLength(item, 'utf8');
  } else if (Array.isArray(item)) {
    len = item.length;
  } else {
    throw new FuncError(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, len)));
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(idx[0], idx[1]).toString('utf8');
  return item.slice(idx[0], idx[1]);
}

function goLen(v: GoValue): GoValue {
  if (v === undefined) throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
  if (v === null) throw new FuncError('len of nil pointer');
  if (typeof v === 'string') return int(Buffer.byteLength(v, 'utf8'));
  if (Array.isArray(v)) return int(v.length);
  if (v instanceof Map) return int(v.size);
  if (v instanceof LabelsValue) return int([...v.data.entries()].length);
  throw new FuncError(`len of type ${typeName(v)}`);
}

/** evalArgs of text/template (html, js, urlquery): Sprint, with invalid values printed as <no value>. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined ? '<no value>' : a)));
}

function htmlEscape(str: string): string {
  return str.replace(/["'&<>\0]/g, (c) => ({ '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\ufffd' })[c]!);
}

function jsEscape(str: string): string {
  let out = '';
  for (const ch of str) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp >= 0x80 && !/[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch)) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

// --- net/url ----------------------------------------------------------------------------------------------------

/** url.QueryEscape. */
export function queryEscape(str: string): string {
  let out = '';
  for (const b of Buffer.from(str, 'utf8')) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) {
      out += '+';
    } else {
      out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

/** url.QueryUnescape. */
export function queryUnescape(str: string): string {
  const src = Buffer.from(str, 'utf8');
  const out: number[] = [];
  const hex = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x25) {
      const h1 = i + 1 < src.length ? hex(src[i + 1]!) : -1;
      const h2 = i + 2 < src.length ? hex(src[i + 2]!) : -1;
      if (h1 < 0 || h2 < 0) {
        const bad = src.subarray(i, Math.min(i + 3, src.length)).toString('utf8');
        throw new FuncError(`invalid URL escape ${goQuote(bad)}`);
      }
      out.push(h1 * 16 + h2);
      i += 2;
    } else if (c === 0x2b) {
      out.push(0x20);
    } else {
      out.push(c);
    }
  }
  return Buffer.from(out).toString('utf8');
}

// --- encoding/base64 ---------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_MAP = new Int16Array(256).fill(-1);
for (let i = 0; i < B64.length; i++) B64_MAP[B64.charCodeAt(i)] = i;

/** base64.StdEncoding.DecodeString; returns the bytes or the error text (sprig's b64dec returns that text). */
export function base64Decode(str: string): Buffer | string {
  const src = Buffer.from(str, 'utf8');
  const out: number[] = [];
  let si = 0;
  const corrupt = (at: number): string => `illegal base64 data at input byte ${at}`;
  while (si < src.length) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let j = 0;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return Buffer.from(out);
        return corrupt(si - j);
      }
      const inb = src[si]!;
      si++;
      const o = B64_MAP[inb]!;
      if (o >= 0) {
        dbuf[j] = o;
        continue;
      }
      if (inb === 0x0a || inb === 0x0d) {
        j--;
        continue;
      }
      if (inb !== 0x3d) return corrupt(si - 1);
      // padding
      if (j === 0 || j === 1) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === 0x0a || src[si] === 0x0d)) si++;
      if (si < src.length) return corrupt(si);
      dlen = j;
      break;
    }
    const val = (dbuf[0]! << 18) | (dbuf[1]! << 12) | (dbuf[2]! << 6) | dbuf[3]!;
    const b = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
    if (dlen === 4) out.push(b[0]!, b[1]!, b[2]!);
    else if (dlen === 3) out.push(b[0]!, b[1]!);
    else if (dlen === 2) out.push(b[0]!);
    if (dlen < 4) return Buffer.from(out);
  }
  return Buffer.from(out);
}

/** Loki's `bytes`: humanize.ParseBytes as a float64. */
function bytesFn(str: string): number {
  const v = parseHumanBytes(str);
  if (typeof v !== 'number') throw new FuncError(v.message);
  return v;
}

// --- strings ------------------------------------------------------------------------------------------------------

// Go's strings.ToUpper/ToLower map each character by its simple case mapping; JavaScript applies full mappings
// (ß → SS), so characters whose full mapping is longer keep Go's one-character result.
const SIMPLE_LOWER: Record<string, string> = { '\u0130': 'i' };

function caseMap(str: string, upper: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(str)) return upper ? str.toUpperCase() : str.toLowerCase();
  let out = '';
  for (const ch of str) {
    const m = upper ? ch.toUpperCase() : (SIMPLE_LOWER[ch] ?? ch.toLowerCase());
    out += Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

function runes(str: string): string[] {
  return Array.from(str);
}

function trimCutset(str: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set(runes(cutset));
  const r = runes(str);
  let a = 0;
  let b = r.length;
  if (left) while (a < b && set.has(r[a]!)) a++;
  if (right) while (b > a && set.has(r[b - 1]!)) b--;
  return r.slice(a, b).join('');
}

function stringsReplace(str: string, old: string, nw: string, count: number): string {
  if (old === nw || count === 0) return str;
  if (old === '') {
    const r = runes(str);
    let out = '';
    let done = 0;
    for (let i = 0; i <= r.length; i++) {
      if (count < 0 || done < count) {
        out += nw;
        done++;
      }
      if (i < r.length) out += r[i];
    }
    return out;
  }
  let out = '';
  let i = 0;
  let done = 0;
  for (;;) {
    const j = str.indexOf(old, i);
    if (j < 0 || (count >= 0 && done >= count)) break;
    out += str.slice(i, j) + nw;
    i = j + old.length;
    done++;
  }
  return out + str.slice(i);
}

/** Title case as golang.org/x/text/cases.Title(und, NoLower) does it for common text: first letter of words. */
function title(str: string): string {
  let out = '';
  let prev = '';
  let prevPrev = '';
  for (const ch of str) {
    const isLetter = /\p{L}/u.test(ch);
    const inWord =
      prev !== '' && (/[\p{L}\p{N}\p{M}_]/u.test(prev) || ((prev === "'" || prev === '’') && /\p{L}/u.test(prevPrev)));
    out += isLetter && !inWord ? caseMap(ch, true) : ch;
    prevPrev = prev;
    prev = ch;
  }
  return out;
}

function trunc(c: number, str: string): string {
  const r = runes(str);
  const l = r.length;
  if (c < 0 && l + c > 0) return r.slice(l + c).join('');
  if (c >= 0 && l > c) return r.slice(0, c).join('');
  return str;
}

function substring(start: number, end: number, str: string): string {
  const r = runes(str);
  const l = r.length;
  if (end > l) end = l;
  if (start > l) start = l;
  if (start < 0) {
    if (end < 0) return '';
    return r.slice(0, end).join('');
  }
  if (end < 0) return r.slice(start).join('');
  if (start > end) return '';
  return r.slice(start, end).join('');
}

function align(count: number, src: string, left: boolean): string {
  const r = runes(src);
  const l = r.length;
  if (count < 0 || count === l) return src;
  const pad = count - l;
  if (pad > 0) return left ? src + ' '.repeat(pad) : ' '.repeat(pad) + src;
  return left ? r.slice(0, count).join('') : r.slice(l - count).join('');
}

function indent(spaces: number, v: string): string {
  if (spaces < 0) throw new FuncError('strings: negative Repeat count');
  const pad = ' '.repeat(spaces);
  return pad + v.split('\n').join('\n' + pad);
}

// --- regexps: compiled once per distinct pattern ---------------------------------------------------------------

const regexCache = new Map<string, GoRegexp>();

function goRegexp(pattern: string): GoRegexp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = compileGoRegexp(pattern, { flags: 'g' });
    } catch (e) {
      throw new FuncError((e as Error).message);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

// --- times --------------------------------------------------------------------------------------------------------

const local = (c: FuncContext): GoLocation => localLocation(c.local);

function resolveZone(name: string, c: FuncContext): GoLocation {
  if (name === 'Local') return local(c);
  return loadLocation(name) ?? UTC;
}

const NS = 1_000_000_000n;

function unixToTime(epoch: string, c: FuncContext): GoValue {
  const i = /^[+-]?[0-9]+$/.test(epoch) ? BigInt(epoch) : undefined;
  if (i === undefined || i > 0x7fffffffffffffffn || i < -0x8000000000000000n) {
    const why = i === undefined ? 'invalid syntax' : 'value out of range';
    throw new FuncError(`unable to parse time '${epoch}': strconv.ParseInt: parsing ${goQuote(epoch)}: ${why}`);
  }
  const loc = local(c);
  switch (Buffer.byteLength(epoch, 'utf8')) {
    case 5:
      return new GoTime(i * 86400n * NS, loc);
    case 10:
      return new GoTime(i * NS, loc);
    case 13:
      return new GoTime(i * 1_000_000n, loc);
    case 16:
      return new GoTime(i * 1000n, loc);
    case 19:
      return new GoTime(i, loc);
  }
  throw new FuncError(`unable to parse time '${epoch}': %!w(<nil>)`);
}

function parseOrZero(layout: string, value: string, loc: GoLocation): GoTime {
  try {
    return parseTime(layout, value, loc);
  } catch {
    return ZERO_TIME;
  }
}

function empty(v: GoValue): boolean {
  return !isTrue(v) && !(v instanceof GoTime);
}

// --- the table ----------------------------------------------------------------------------------------------------

const str1 = (f: (x: string) => GoValue): GoFunc => fn(['string'], (a) => f(s(a[0])));
const str2 = (f: (x: string, y: string) => GoValue): GoFunc => fn(['string', 'string'], (a) => f(s(a[0]), s(a[1])));

export const BUILTINS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ['and', { params: ['value'], variadic: 'value', shortCircuit: 'and', call: () => undefined }],
  ['or', { params: ['value'], variadic: 'value', shortCircuit: 'or', call: () => undefined }],
  ['not', fn(['value'], (a) => !isTrue(a[0]))],
  ['len', fn(['value'], (a) => goLen(a[0]))],
  ['index', fn(['value'], (a) => goIndex(a[0], ...a.slice(1)), 'value')],
  ['slice', fn(['value'], (a) => goSlice(a[0], ...a.slice(1)), 'value')],
  ['print', fn([], (a) => sprint(a), 'any')],
  ['printf', fn(['string'], (a) => sprintf(s(a[0]), a.slice(1)), 'any')],
  ['println', fn([], (a) => sprintln(a), 'any')],
  ['html', fn([], (a) => htmlEscape(evalArgs(a)), 'any')],
  ['js', fn([], (a) => jsEscape(evalArgs(a)), 'any')],
  ['urlquery', fn([], (a) => queryEscape(evalArgs(a)), 'any')],
  [
    'call',
    fn(
      ['value'],
      (a) => {
        throw new FuncError(a[0] === undefined ? 'call of nil' : `non-function of type ${typeName(a[0])}`);
      },
      'value',
    ),
  ],
  ['eq', fn(['value'], (a) => eq(a[0], ...a.slice(1)), 'value')],
  ['ne', fn(['value', 'value'], (a) => !eq(a[0], a[1]))],
  ['lt', fn(['value', 'value'], (a) => lt(a[0], a[1]))],
  ['le', fn(['value', 'value'], (a) => le(a[0], a[1]))],
  ['gt', fn(['value', 'value'], (a) => !le(a[0], a[1]))],
  ['ge', fn(['value', 'value'], (a) => !lt(a[0], a[1]))],
]);

/** Loki's functionMap (pkg/logql/log/fmt.go), including the sprig functions it imports. */
export const LOKI_FUNCTIONS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  // Go strings functions kept for compatibility
  ['ToLower', str1((x) => caseMap(x, false))],
  ['ToUpper', str1((x) => caseMap(x, true))],
  ['Replace', fn(['string', 'string', 'string', 'int'], (a) => stringsReplace(s(a[0]), s(a[1]), s(a[2]), n(a[3])))],
  ['Trim', str2((x, c) => trimCutset(x, c, true, true))],
  ['TrimLeft', str2((x, c) => trimCutset(x, c, true, false))],
  ['TrimRight', str2((x, c) => trimCutset(x, c, false, true))],
  ['TrimPrefix', str2((x, p) => (x.startsWith(p) ? x.slice(p.length) : x))],
  ['TrimSuffix', str2((x, p) => (p !== '' && x.endsWith(p) ? x.slice(0, x.length - p.length) : x))],
  ['TrimSpace', str1(trimSpace)],
  // regexps (Go RE2 syntax)
  [
    'regexReplaceAll',
    fn(['string', 'string', 'string'], (a) => {
      const re = goRegexp(s(a[0]));
      const repl = s(a[2]);
      return goReplaceAll(re.re, s(a[1]), (m) => goExpand(repl, m, re.names));
    }),
  ],
  [
    'regexReplaceAllLiteral',
    fn(['string', 'string', 'string'], (a) => {
      const repl = s(a[2]);
      return goReplaceAll(goRegexp(s(a[0])).re, s(a[1]), () => repl);
    }),
  ],
  [
    'count',
    fn(['string', 'string'], (a) => {
      let c = 0;
      goFindAll(goRegexp(s(a[0])).re, s(a[1]), () => c++);
      return int(c);
    }),
  ],
  ['urldecode', str1(queryUnescape)],
  ['urlencode', str1(queryEscape)],
  ['bytes', str1(bytesFn)],
  ['duration', str1(durationFn)],
  ['duration_seconds', str1(durationFn)],
  ['unixEpochMillis', fn(['time'], (a) => floorDiv((a[0] as GoTime).ns, 1_000_000n).toString())],
  ['unixEpochNanos', fn(['time'], (a) => BigInt.asIntN(64, (a[0] as GoTime).ns).toString())],
  ['toDateInZone', fn(['string', 'string', 'string'], (a, c) => parseOrZero(s(a[0]), s(a[2]), resolveZone(s(a[1]), c)))],
  ['unixToTime', fn(['string'], (a, c) => unixToTime(s(a[0]), c))],
  ['alignLeft', fn(['int', 'string'], (a) => align(n(a[0]), s(a[1]), true))],
  ['alignRight', fn(['int', 'string'], (a) => align(n(a[0]), s(a[1]), false))],
  // sprig
  ['b64enc', str1((x) => Buffer.from(x, 'utf8').toString('base64'))],
  [
    'b64dec',
    str1((x) => {
      const r = base64Decode(x);
      return typeof r === 'string' ? r : r.toString('utf8');
    }),
  ],
  ['lower', str1((x) => caseMap(x, false))],
  ['upper', str1((x) => caseMap(x, true))],
  ['title', str1(title)],
  ['trunc', fn(['int', 'string'], (a) => trunc(n(a[0]), s(a[1])))],
  ['substr', fn(['int', 'int', 'string'], (a) => substring(n(a[0]), n(a[1]), s(a[2])))],
  ['contains', str2((sub, x) => x.includes(sub))],
  ['hasPrefix', str2((p, x) => x.startsWith(p))],
  ['hasSuffix', str2((p, x) => x.endsWith(p))],
  ['indent', fn(['int', 'string'], (a) => indent(n(a[0]), s(a[1])))],
  ['nindent', fn(['int', 'string'], (a) => '\n' + indent(n(a[0]), s(a[1])))],
  ['replace', fn(['string', 'string', 'string'], (a) => stringsReplace(s(a[2]), s(a[0]), s(a[1]), -1))],
  [
    'repeat',
    fn(['int', 'string'], (a) => {
      if (n(a[0]) < 0) throw new FuncError('strings: negative Repeat count');
      return s(a[1]).repeat(n(a[0]));
    }),
  ],
  ['trim', str1(trimSpace)],
  ['trimAll', str2((c, x) => trimCutset(x, c, true, true))],
  ['trimSuffix', str2((p, x) => (p !== '' && x.endsWith(p) ? x.slice(0, x.length - p.length) : x))],
  ['trimPrefix', str2((p, x) => (x.startsWith(p) ? x.slice(p.length) : x))],
  ['int', fn(['any'], (a) => int(toInt64(a[0])))],
  ['float64', fn(['any'], (a) => toFloat64(a[0]))],
  ['add', fn([], (a) => int(a.reduce<bigint>((acc, x) => acc + toInt64(x), 0n), 'int64'), 'any')],
  ['sub', fn(['any', 'any'], (a) => int(toInt64(a[0]) - toInt64(a[1]), 'int64'))],
  ['mul', fn(['any'], (a) => int(a.slice(1).reduce<bigint>((acc, x) => acc * toInt64(x), toInt64(a[0])), 'int64'), 'any')],
  [
    'div',
    fn(['any', 'any'], (a) => {
      const d = toInt64(a[1]);
      if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
      return int(toInt64(a[0]) / d, 'int64');
    }),
  ],
  [
    'mod',
    fn(['any', 'any'], (a) => {
      const d = toInt64(a[1]);
      if (d === 0n) throw new FuncError('runtime error: integer divide by zero');
      return int(toInt64(a[0]) % d, 'int64');
    }),
  ],
  ['addf', fn([], (a) => execDecimalOp(0, a, 'add'), 'any')],
  ['subf', fn(['any'], (a) => execDecimalOp(a[0], a.slice(1), 'sub'), 'any')],
  ['mulf', fn(['any'], (a) => execDecimalOp(a[0], a.slice(1), 'mul'), 'any')],
  ['divf', fn(['any'], (a) => execDecimalOp(a[0], a.slice(1), 'div'), 'any')],
  ['max', fn(['any'], (a) => int(a.slice(1).reduce((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a[0])), 'int64'), 'any')],
  ['min', fn(['any'], (a) => int(a.slice(1).reduce((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a[0])), 'int64'), 'any')],
  ['maxf', fn(['any'], (a) => a.slice(1).reduce<number>((m, x) => goMax(m, toFloat64(x)), toFloat64(a[0])), 'any')],
  ['minf', fn(['any'], (a) => a.slice(1).reduce<number>((m, x) => goMin(m, toFloat64(x)), toFloat64(a[0])), 'any')],
  ['ceil', fn(['any'], (a) => Math.ceil(toFloat64(a[0])))],
  ['floor', fn(['any'], (a) => Math.floor(toFloat64(a[0])))],
  [
    'round',
    fn(
      ['any', 'int'],
      (a) => {
        const roundOn = a.length > 2 ? (a[2] as number) : 0.5;
        const val = toFloat64(a[0]);
        const pow = 10 ** n(a[1]);
        const digit = pow * val;
        const frac = digit - Math.trunc(digit);
        return (frac >= roundOn ? Math.ceil(digit) : Math.floor(digit)) / pow;
      },
      'float64',
    ),
  ],
  [
    'fromJson',
    str1((x) => {
      try {
        return fromJsonValue(JSON.parse(x));
      } catch {
        return undefined;
      }
    }),
  ],
  [
    'date',
    fn(['string', 'any'], (a, c) => {
      const d = a[1];
      let t: GoTime;
      if (d instanceof GoTime) t = d;
      else if (d instanceof GoInt && (d.type === 'int' || d.type === 'int64' || d.type === 'int32')) t = new GoTime(d.v * NS, UTC);
      else t = new GoTime(c.now(), UTC);
      return formatTime(new GoTime(t.ns, local(c)), s(a[0]));
    }),
  ],
  ['toDate', fn(['string', 'string'], (a, c) => parseOrZero(s(a[0]), s(a[1]), local(c)))],
  ['now', fn([], (_a, c) => new GoTime(c.now(), local(c)))],
  ['unixEpoch', fn(['time'], (a) => unixSeconds(a[0] as GoTime).toString())],
  ['default', fn(['any'], (a) => (a.length < 2 || empty(a[1]) ? a[0] : a[1]), 'any')],
]);

function durationFn(x: string): number {
  const d = parseGoDuration(x);
  if (typeof d !== 'bigint') throw new FuncError(d.message);
  return durationSeconds(d);
}

function goMax(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  return Math.max(x, y);
}

function goMin(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  return Math.min(x, y);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** `__line__` and `__timestamp__`, added per formatter in Loki. */
export const LINE_FUNCTIONS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ['__line__', fn([], (_a, c) => c.line())],
  ['__timestamp__', fn([], (_a, c) => new GoTime(c.ts(), local(c)))],
]);
