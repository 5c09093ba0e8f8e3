/**
 * The parts of Go's `time` package that Loki's template functions expose: layouts (`2006-01-02T15:04:05Z07:00`)
 * for formatting and parsing, locations and Time.String() (durations are in util/go/duration.ts). Times are
 * nanoseconds since the epoch (bigint) plus a location. Named zones use the runtime's IANA data through Intl; their
 * abbreviations come from Intl too, so a zone Go names by number (`+04`) may print with a letter abbreviation.
 */
import { timeQuote } from '../../util/go/quote.js';
import { GoTime } from './values.js';

export interface ZoneInfo {
  offset: number;
  abbr: string;
}

export interface GoLocation {
  /** Go's Location.String(): "UTC", "Local", an IANA name, or a fixed zone's name. */
  readonly name: string;
  lookup(unixSec: number): ZoneInfo;
}

export const UTC: GoLocation = { name: 'UTC', lookup: () => ({ offset: 0, abbr: 'UTC' }) };

export function fixedZone(name: string, offset: number): GoLocation {
  const info = { offset, abbr: name };
  return { name, lookup: () => info };
}

const zoneCache = new Map<string, GoLocation | null>();

/** Converts Intl's "GMT+5:30" to Go's numeric abbreviation "+0530" ("GMT+9" → "+09"). */
function gmtToGo(s: string): string {
  const m = /^GMT([+-])(\d{1,2})(?::(\d{2}))?$/.exec(s);
  if (m === null) return s;
  return m[1]! + m[2]!.padStart(2, '0') + (m[3] !== undefined ? m[3] : '');
}

/** time.LoadLocation for "UTC", "" and IANA names; undefined when unknown. "Local" is resolved by the caller. */
export function loadLocation(name: string): GoLocation | undefined {
  if (name === '' || name === 'UTC') return UTC;
  const cached = zoneCache.get(name);
  if (cached !== undefined) return cached ?? undefined;
  let loc: GoLocation | null;
  try {
    const civil = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const abbrFormats = ['en-US', 'en-GB', 'en-IN', 'en-AU'].map(
      (l) => new Intl.DateTimeFormat(l, { timeZone: name, timeZoneName: 'short' }),
    );
    const memo = new Map<number, ZoneInfo>();
    loc = {
      name,
      lookup(unixSec: number): ZoneInfo {
        const key = Math.floor(unixSec / 900);
        const hit = memo.get(key);
        if (hit !== undefined && unixSec % 900 === 0) return hit;
        const ms = Math.max(-8.64e15, Math.min(8.64e15, unixSec * 1000));
        const p: Record<string, string> = {};
        for (const part of civil.formatToParts(ms)) p[part.type] = part.value;
        let year = Number(p.year);
        if (p.era === 'BC' || p.era === 'B') year = 1 - year;
        const local =
          daysFromCivil(year, Number(p.month), Number(p.day)) * 86400 +
          Number(p.hour) * 3600 +
          Number(p.minute) * 60 +
          Number(p.second);
        const offset = local - Math.floor(ms / 1000);
        let abbr = '';
        for (const f of abbrFormats) {
          abbr = f.formatToParts(ms).find((x) => x.type === 'timeZoneName')?.value ?? '';
          if (!abbr.startsWith('GMT') || abbr === 'GMT') break;
        }
        const info = { offset, abbr: gmtToGo(abbr) };
        if (memo.size > 4096) memo.clear();
        memo.set(key, info);
        return info;
      },
    };
  } catch {
    loc = null;
  }
  zoneCache.set(name, loc);
  return loc ?? undefined;
}

/** A location named "Local" that behaves like `base` (Go prints Local's zone name, e.g. "UTC"). */
export function localLocation(base: GoLocation): GoLocation {
  return { name: 'Local', lookup: (s) => base.lookup(s) };
}

// --- civil calendar -------------------------------------------------------------------------------------------

export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [y + (m <= 2 ? 1 : 0), m, d];
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysIn(m: number, y: number): number {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

const NS = 1_000_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  weekday: number; // 0 = Sunday
  yday: number; // 1-based
  offset: number;
  abbr: string;
}

/** Unix seconds (floored) of a time. */
export function unixSeconds(t: GoTime): bigint {
  return floorDiv(t.ns, NS);
}

export function civil(t: GoTime): Civil {
  const sec = floorDiv(t.ns, NS);
  const nsec = Number(t.ns - sec * NS);
  const { offset, abbr } = t.loc.lookup(Number(sec));
  const local = Number(sec) + offset;
  const days = Math.floor(local / 86400);
  let sod = local - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const hour = Math.floor(sod / 3600);
  sod -= hour * 3600;
  const min = Math.floor(sod / 60);
  const s = sod - min * 60;
  const weekday = (((days + 4) % 7) + 7) % 7;
  const yday = days - daysFromCivil(year, 1, 1) + 1;
  return { year, month, day, hour, min, sec: s, nsec, weekday, yday, offset, abbr };
}

/** time.Date: builds a time from civil fields in `loc`, normalising out-of-range fields as Go does. */
export function goDate(year: number, month: number, day: number, hour: number, min: number, sec: number, nsec: number, loc: GoLocation): GoTime {
  // Normalise month into [1, 12], then add the day/time parts as plain arithmetic.
  const m0 = month - 1;
  year += Math.floor(m0 / 12);
  month = (((m0 % 12) + 12) % 12) + 1;
  const days = daysFromCivil(year, month, 1) + day - 1;
  const local = BigInt(days) * 86400n + BigInt(hour * 3600 + min * 60 + sec);
  let unix = local;
  const off1 = loc.lookup(Number(local)).offset;
  if (off1 !== 0) {
    const utc = local - BigInt(off1);
    const off2 = loc.lookup(Number(utc)).offset;
    unix = local - BigInt(off2);
  }
  return new GoTime(unix * NS + BigInt(nsec), loc);
}

// --- layouts ---------------------------------------------------------------------------------------------------

const enum Std {
  None = 0,
  LongMonth,
  Month,
  NumMonth,
  ZeroMonth,
  LongWeekDay,
  WeekDay,
  Day,
  UnderDay,
  ZeroDay,
  UnderYearDay,
  ZeroYearDay,
  Hour,
  Hour12,
  ZeroHour12,
  Minute,
  ZeroMinute,
  Second,
  ZeroSecond,
  LongYear,
  Year,
  PM,
  pm,
  TZ,
  ISO8601TZ,
  ISO8601SecondsTZ,
  ISO8601ShortTZ,
  ISO8601ColonTZ,
  ISO8601ColonSecondsTZ,
  NumTZ,
  NumSecondsTz,
  NumShortTZ,
  NumColonTZ,
  NumColonSecondsTZ,
  FracSecond0,
  FracSecond9,
}

interface Chunk {
  prefix: string;
  std: Std;
  /** For fractional seconds: digit count and separator. */
  digits: number;
  sep: string;
  suffix: string;
}

const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const SHORT_MONTHS = LONG_MONTHS.map((m) => m.slice(0, 3));
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_DAYS = LONG_DAYS.map((d) => d.slice(0, 3));

function startsWithLowerCase(s: string): boolean {
  return s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z';
}

function isDigitAt(s: string, i: number): boolean {
  return i < s.length && s[i]! >= '0' && s[i]! <= '9';
}

/** Go's nextStdChunk: the text before the next layout element, the element, and the rest. */
function nextStdChunk(layout: string): Chunk {
  const mk = (i: number, std: Std, len: number, digits = 0, sep = ''): Chunk => ({
    prefix: layout.slice(0, i),
    std,
    digits,
    sep,
    suffix: layout.slice(i + len),
  });
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const at = (s: string): boolean => layout.startsWith(s, i);
    switch (c) {
      case 'J':
        if (at('Jan')) {
          if (at('January')) return mk(i, Std.LongMonth, 7);
          if (!startsWithLowerCase(layout.slice(i + 3))) return mk(i, Std.Month, 3);
        }
        break;
      case 'M':
        if (at('Mon')) {
          if (at('Monday')) return mk(i, Std.LongWeekDay, 6);
          if (!startsWithLowerCase(layout.slice(i + 3))) return mk(i, Std.WeekDay, 3);
        }
        if (at('MST')) return mk(i, Std.TZ, 3);
        break;
      case '0': {
        const n = layout[i + 1];
        if (n !== undefined && n >= '1' && n <= '6') {
          return mk(i, [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year][Number(n) - 1]!, 2);
        }
        if (at('002')) return mk(i, Std.ZeroYearDay, 3);
        break;
      }
      case '1':
        if (layout[i + 1] === '5') return mk(i, Std.Hour, 2);
        return mk(i, Std.NumMonth, 1);
      case '2':
        if (at('2006')) return mk(i, Std.LongYear, 4);
        return mk(i, Std.Day, 1);
      case '_':
        if (layout[i + 1] === '2') {
          if (layout.startsWith('2006', i + 1)) return { prefix: layout.slice(0, i + 1), std: Std.LongYear, digits: 0, sep: '', suffix: layout.slice(i + 5) };
          return mk(i, Std.UnderDay, 2);
        }
        if (at('__2')) return mk(i, Std.UnderYearDay, 3);
        break;
      case '3':
        return mk(i, Std.Hour12, 1);
      case '4':
        return mk(i, Std.Minute, 1);
      case '5':
        return mk(i, Std.Second, 1);
      case 'P':
        if (layout[i + 1] === 'M') return mk(i, Std.PM, 2);
        break;
      case 'p':
        if (layout[i + 1] === 'm') return mk(i, Std.pm, 2);
        break;
      case '-':
        if (at('-070000')) return mk(i, Std.NumSecondsTz, 7);
        if (at('-07:00:00')) return mk(i, Std.NumColonSecondsTZ, 9);
        if (at('-0700')) return mk(i, Std.NumTZ, 5);
        if (at('-07:00')) return mk(i, Std.NumColonTZ, 6);
        if (at('-07')) return mk(i, Std.NumShortTZ, 3);
        break;
      case 'Z':
        if (at('Z070000')) return mk(i, Std.ISO8601SecondsTZ, 7);
        if (at('Z07:00:00')) return mk(i, Std.ISO8601ColonSecondsTZ, 9);
        if (at('Z0700')) return mk(i, Std.ISO8601TZ, 5);
        if (at('Z07:00')) return mk(i, Std.ISO8601ColonTZ, 6);
        if (at('Z07')) return mk(i, Std.ISO8601ShortTZ, 3);
        break;
      case '.':
      case ',': {
        const ch = layout[i + 1];
        if (ch === '0' || ch === '9') {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) return mk(i, ch === '0' ? Std.FracSecond0 : Std.FracSecond9, j - i, j - (i + 1), c);
        }
        break;
      }
    }
  }
  return { prefix: layout, std: Std.None, digits: 0, sep: '', suffix: '' };
}

const pad = (n: number, w: number, ch = '0'): string => {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= w ? s : ch.repeat(w - s.length) + s);
};

function fmtTz(std: Std, offset: number): string {
  const iso = std >= Std.ISO8601TZ && std <= Std.ISO8601ColonSecondsTZ;
  if (iso && offset === 0) return 'Z';
  let zone = Math.trunc(offset / 60);
  let absoff = offset;
  let s: string;
  if (zone < 0) {
    s = '-';
    zone = -zone;
    absoff = -absoff;
  } else {
    s = '+';
  }
  s += pad(Math.floor(zone / 60), 2);
  const colon = std === Std.ISO8601ColonTZ || std === Std.NumColonTZ || std === Std.ISO8601ColonSecondsTZ || std === Std.NumColonSecondsTZ;
  if (colon) s += ':';
  if (std !== Std.NumShortTZ && std !== Std.ISO8601ShortTZ) s += pad(zone % 60, 2);
  if (std === Std.ISO8601SecondsTZ || std === Std.NumSecondsTz || std === Std.NumColonSecondsTZ || std === Std.ISO8601ColonSecondsTZ) {
    if (colon) s += ':';
    s += pad(absoff % 60, 2);
  }
  return s;
}

/** Time.Format. */
export function formatTime(t: GoTime, layout: string): string {
  const c = civil(t);
  let out = '';
  for (;;) {
    const ch = nextStdChunk(layout);
    out += ch.prefix;
    if (ch.std === Std.None) break;
    layout = ch.suffix;
    switch (ch.std) {
      case Std.Year: {
        let y = c.year;
        if (y < 0) y = -y;
        out += pad(y % 100, 2);
        break;
      }
      case Std.LongYear:
        out += pad(c.year, 4);
        break;
      case Std.Month:
        out += SHORT_MONTHS[c.month - 1];
        break;
      case Std.LongMonth:
        out += LONG_MONTHS[c.month - 1];
        break;
      case Std.NumMonth:
        out += c.month;
        break;
      case Std.ZeroMonth:
        out += pad(c.month, 2);
        break;
      case Std.WeekDay:
        out += SHORT_DAYS[c.weekday];
        break;
      case Std.LongWeekDay:
        out += LONG_DAYS[c.weekday];
        break;
      case Std.Day:
        out += c.day;
        break;
      case Std.UnderDay:
        out += pad(c.day, 2, ' ');
        break;
      case Std.ZeroDay:
        out += pad(c.day, 2);
        break;
      case Std.UnderYearDay:
        out += pad(c.yday, 3, ' ');
        break;
      case Std.ZeroYearDay:
        out += pad(c.yday, 3);
        break;
      case Std.Hour:
        out += pad(c.hour, 2);
        break;
      case Std.Hour12:
        out += c.hour % 12 === 0 ? 12 : c.hour % 12;
        break;
      case Std.ZeroHour12:
        out += pad(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
        break;
      case Std.Minute:
        out += c.min;
        break;
      case Std.ZeroMinute:
        out += pad(c.min, 2);
        break;
      case Std.Second:
        out += c.sec;
        break;
      case Std.ZeroSecond:
        out += pad(c.sec, 2);
        break;
      case Std.PM:
        out += c.hour >= 12 ? 'PM' : 'AM';
        break;
      case Std.pm:
        out += c.hour >= 12 ? 'pm' : 'am';
        break;
      case Std.TZ:
        if (c.abbr !== '') out += c.abbr;
        else out += fmtTz(Std.NumTZ, c.offset);
        break;
      case Std.FracSecond0:
        out += ch.sep + String(c.nsec).padStart(9, '0').slice(0, ch.digits);
        break;
      case Std.FracSecond9: {
        const frac = String(c.nsec).padStart(9, '0').slice(0, ch.digits).replace(/0+$/, '');
        if (frac.length > 0) out += ch.sep + frac;
        break;
      }
      default:
        out += fmtTz(ch.std, c.offset);
    }
  }
  return out;
}

/** Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
export function timeString(t: GoTime): string {
  return formatTime(t, '2006-01-02 15:04:05.999999999 -0700 MST');
}

export class TimeParseError extends Error {}

function lookupName(tab: string[], val: string): [number, string] | undefined {
  for (let i = 0; i < tab.length; i++) {
    const n = tab[i]!;
    if (val.length >= n.length && val.slice(0, n.length).toLowerCase() === n.toLowerCase()) return [i, val.slice(n.length)];
  }
  return undefined;
}

function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return [Number(s[0]), s.slice(1)];
  }
  return [Number(s.slice(0, 2)), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + Number(s[i]);
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

function cutspace(s: string): string {
  let i = 0;
  while (i < s.length && s[i] === ' ') i++;
  return s.slice(i);
}

function skip(value: string, prefix: string): string | undefined {
  while (prefix.length > 0) {
    if (prefix[0] === ' ') {
      if (value.length > 0 && value[0] !== ' ') return undefined;
      prefix = cutspace(prefix);
      value = cutspace(value);
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return undefined;
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

function parseNanoseconds(value: string, nbytes: number): number | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  if (nbytes > 10) nbytes = 10;
  const digits = value.slice(1, nbytes);
  if (!/^[0-9]*$/.test(digits)) return undefined;
  return Number(digits.padEnd(9, '0'));
}

function parseTimeZone(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4;
  if (value.startsWith('GMT')) {
    const m = /^GMT([+-]\d{1,2})?/.exec(value)!;
    return m[0].length;
  }
  if (value[0] === '+' || value[0] === '-') {
    const m = /^[+-]\d{2}(\d{2})?/.exec(value);
    return m === null ? 0 : m[0].length;
  }
  let n = 0;
  while (n < value.length && value[n]! >= 'A' && value[n]! <= 'Z') n++;
  if (n === 3) return 3;
  if (n === 4 && (value[3] === 'T' || value.startsWith('WITA'))) return 4;
  if (n === 5 && value[4] === 'T') return 5;
  return 0;
}

/** time.ParseInLocation. Throws TimeParseError (its text is Go's general form, not every detail of it). */
export function parseTime(layout: string, value: string, loc: GoLocation): GoTime {
  const alayout = layout;
  const avalue = value;
  const fail = (elem: string, rest: string, msg = ''): never => {
    throw new TimeParseError(
      msg !== ''
        ? `parsing time ${timeQuote(avalue)}${msg}`
        : `parsing time ${timeQuote(avalue)} as ${timeQuote(alayout)}: cannot parse ${timeQuote(rest)} as ${timeQuote(elem)}`,
    );
  };
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let z: GoLocation | undefined;
  let zoneOffset = -1;
  let zoneName = '';
  let amSet = false;
  let pmSet = false;
  for (;;) {
    const ch = nextStdChunk(layout);
    const stdstr = layout.slice(ch.prefix.length, layout.length - ch.suffix.length);
    const v2 = skip(value, ch.prefix);
    if (v2 === undefined) fail(ch.prefix, value);
    value = v2!;
    if (ch.std === Std.None) {
      if (value.length !== 0) fail('', value, `: extra text: ${timeQuote(value)}`);
      break;
    }
    layout = ch.suffix;
    const hold = value;
    let ok = true;
    let range = '';
    const num = (r: [number, string] | undefined): number => {
      if (r === undefined) {
        ok = false;
        return 0;
      }
      value = r[1];
      return r[0];
    };
    switch (ch.std) {
      case Std.Year: {
        if (value.length < 2 || !/^\d\d/.test(value)) {
          ok = false;
          break;
        }
        year = Number(value.slice(0, 2));
        value = value.slice(2);
        year += year >= 69 ? 1900 : 2000;
        break;
      }
      case Std.LongYear:
        if (value.length < 4 || !/^\d{4}/.test(value)) {
          ok = false;
          break;
        }
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case Std.Month:
      case Std.LongMonth: {
        const r = lookupName(ch.std === Std.Month ? SHORT_MONTHS : LONG_MONTHS, value);
        if (r === undefined) ok = false;
        else [month, value] = [r[0] + 1, r[1]];
        break;
      }
      case Std.NumMonth:
      case Std.ZeroMonth:
        month = num(getnum(value, ch.std === Std.ZeroMonth));
        if (ok && (month <= 0 || month > 12)) range = 'month';
        break;
      case Std.WeekDay:
      case Std.LongWeekDay: {
        const r = lookupName(ch.std === Std.WeekDay ? SHORT_DAYS : LONG_DAYS, value);
        if (r === undefined) ok = false;
        else value = r[1];
        break;
      }
      case Std.Day:
      case Std.UnderDay:
      case Std.ZeroDay:
        if (ch.std === Std.UnderDay && value[0] === ' ') value = value.slice(1);
        day = num(getnum(value, ch.std === Std.ZeroDay));
        break;
      case Std.UnderYearDay:
      case Std.ZeroYearDay:
        for (let i = 0; i < 2; i++) if (ch.std === Std.UnderYearDay && value[0] === ' ') value = value.slice(1);
        yday = num(getnum3(value, ch.std === Std.ZeroYearDay));
        break;
      case Std.Hour:
        hour = num(getnum(value, false));
        if (hour < 0 || hour >= 24) range = 'hour';
        break;
      case Std.Hour12:
      case Std.ZeroHour12:
        hour = num(getnum(value, ch.std === Std.ZeroHour12));
        if (hour < 0 || hour > 12) range = 'hour';
        break;
      case Std.Minute:
      case Std.ZeroMinute:
        min = num(getnum(value, ch.std === Std.ZeroMinute));
        if (min < 0 || min >= 60) range = 'minute';
        break;
      case Std.Second:
      case Std.ZeroSecond: {
        sec = num(getnum(value, ch.std === Std.ZeroSecond));
        if (!ok) break;
        if (sec < 0 || sec >= 60) {
          range = 'second';
          break;
        }
        if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
          const next = nextStdChunk(layout).std;
          if (next === Std.FracSecond0 || next === Std.FracSecond9) break;
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          const ns = parseNanoseconds(value, n);
          if (ns === undefined) ok = false;
          else nsec = ns;
          value = value.slice(n);
        }
        break;
      }
      case Std.PM:
      case Std.pm: {
        const p = value.slice(0, 2);
        value = value.slice(2);
        const [PM, AM] = ch.std === Std.PM ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === PM) pmSet = true;
        else if (p === AM) amSet = true;
        else ok = false;
        break;
      }
      case Std.TZ: {
        if (value.startsWith('UTC')) {
          z = UTC;
          value = value.slice(3);
          break;
        }
        const n = parseTimeZone(value);
        if (n === 0) {
          ok = false;
          break;
        }
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case Std.FracSecond0: {
        const nd = 1 + ch.digits;
        if (value.length < nd) {
          ok = false;
          break;
        }
        const ns = parseNanoseconds(value, nd);
        if (ns === undefined) ok = false;
        else nsec = ns;
        value = value.slice(nd);
        break;
      }
      case Std.FracSecond9: {
        if (value.length < 2 || (value[0] !== '.' && value[0] !== ',') || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        const ns = parseNanoseconds(value, 1 + i);
        if (ns === undefined) ok = false;
        else nsec = ns;
        value = value.slice(1 + i);
        break;
      }
      default: {
        // numeric / ISO 8601 zone offsets
        const iso = ch.std >= Std.ISO8601TZ && ch.std <= Std.ISO8601ColonSecondsTZ;
        if (iso && value[0] === 'Z') {
          value = value.slice(1);
          z = UTC;
          break;
        }
        let sign: string;
        let hh: string;
        let mm = '00';
        let ss = '00';
        const s = ch.std;
        if (s === Std.ISO8601ColonTZ || s === Std.NumColonTZ) {
          if (value.length < 6 || value[3] !== ':') {
            ok = false;
            break;
          }
          [sign, hh, mm, value] = [value[0]!, value.slice(1, 3), value.slice(4, 6), value.slice(6)];
        } else if (s === Std.NumShortTZ || s === Std.ISO8601ShortTZ) {
          if (value.length < 3) {
            ok = false;
            break;
          }
          [sign, hh, value] = [value[0]!, value.slice(1, 3), value.slice(3)];
        } else if (s === Std.ISO8601ColonSecondsTZ || s === Std.NumColonSecondsTZ) {
          if (value.length < 9 || value[3] !== ':' || value[6] !== ':') {
            ok = false;
            break;
          }
          [sign, hh, mm, ss, value] = [value[0]!, value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), value.slice(9)];
        } else if (s === Std.ISO8601SecondsTZ || s === Std.NumSecondsTz) {
          if (value.length < 7) {
            ok = false;
            break;
          }
          [sign, hh, mm, ss, value] = [value[0]!, value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7)];
        } else {
          if (value.length < 5) {
            ok = false;
            break;
          }
          [sign, hh, mm, value] = [value[0]!, value.slice(1, 3), value.slice(3, 5), value.slice(5)];
        }
        if (!/^\d\d$/.test(hh) || !/^\d\d$/.test(mm) || !/^\d\d$/.test(ss)) {
          ok = false;
          break;
        }
        const hr = Number(hh);
        const mi = Number(mm);
        const se = Number(ss);
        if (hr > 24) range = 'time zone offset hour';
        if (mi > 60) range = 'time zone offset minute';
        if (se > 60) range = 'time zone offset second';
        zoneOffset = (hr * 60 + mi) * 60 + se;
        if (sign === '-') zoneOffset = -zoneOffset;
        else if (sign !== '+') ok = false;
      }
    }
    if (range !== '') fail(stdstr, value, `: ${range} out of range`);
    if (!ok) fail(stdstr, hold);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) {
        yday--;
      }
    }
    if (yday < 1 || yday > 365) fail('', value, ': day-of-year out of range');
    if (m === 0) {
      // yday to month/day with the non-leap table (the leap day was handled above)
      const cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
      m = 1;
      while (yday > cum[m]!) m++;
      d = yday - cum[m - 1]!;
    }
    if (month >= 0 && month !== m) fail('', value, ': day-of-year does not match month');
    month = m;
    if (day >= 0 && day !== d) fail('', value, ': day-of-year does not match day');
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) fail('', value, ': day out of range');
  if (z !== undefined) return goDate(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffset !== -1) {
    const t = goDate(year, month, day, hour, min, sec, nsec, UTC);
    const ns = t.ns - BigInt(zoneOffset) * NS;
    const li = loc.lookup(Number(floorDiv(ns, NS)));
    if (li.offset === zoneOffset && (zoneName === '' || li.abbr === zoneName)) return new GoTime(ns, loc);
    return new GoTime(ns, fixedZone(zoneName, zoneOffset));
  }
  if (zoneName !== '') {
    const t = goDate(year, month, day, hour, min, sec, nsec, UTC);
    const li = loc.lookup(Number(floorDiv(t.ns, NS)));
    if (li.abbr === zoneName) return new GoTime(t.ns - BigInt(li.offset) * NS, loc);
    let offset = 0;
    if (zoneName.length > 3 && zoneName.startsWith('GMT')) offset = Number(zoneName.slice(3)) * 3600;
    return new GoTime(t.ns, fixedZone(zoneName, offset));
  }
  return goDate(year, month, day, hour, min, sec, nsec, loc);
}

/** Go's zero time.Time (January 1, year 1, 00:00:00 UTC), what toDate returns on a parse error. */
export const ZERO_TIME = new GoTime(-62135596800n * NS, UTC);
