/**
 * Byte sizes as go-humanize reads and prints them: LogQL's lexer reads `10KB` / `1.5MiB` with ParseBytes, the
 * `bytes` template function and the bytes label filter do too, and Loki prints size literals back with Bytes.
 * `k`/`kb` are powers of 1000 and `ki`/`kib` powers of 1024 (unlike Loki's YAML configuration, see config/bytes.ts).
 */
import { GoSyntaxError } from './errors.js';
import { formatFloat, parseGoFloat } from './strconv.js';
import { trimSpace } from './strings.js';

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

const NUMBER_PREFIX = /^[\p{Nd}.,]*/u;

/**
 * go-humanize's ParseBytes (`10KB`, `1.5MiB`, `1,000`, `42`): a number (digits, `.`, `,` separators) then an
 * optional unit, any case, spaces allowed between. Returns the byte count or go-humanize's error.
 */
export function parseHumanBytes(s: string): number | GoSyntaxError {
  const prefix = NUMBER_PREFIX.exec(s)![0];
  // A non-ASCII digit never parses as a float: Go fails there too (on a byte slice, so its message may differ).
  const f = parseGoFloat(prefix.replace(/,/g, ''));
  if (typeof f !== 'number') return f;
  const extra = trimSpace(s.slice(prefix.length)).toLowerCase();
  const mult = SIZE_TABLE[extra];
  if (mult === undefined) return new GoSyntaxError(`unhandled size name: ${extra}`);
  const v = f * mult;
  if (v >= 2 ** 64) return new GoSyntaxError(`too large: ${s}`);
  return Math.trunc(v);
}

const SI_SIZES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** go-humanize's Bytes (SI units, one decimal below 10), with the space removed as Loki prints it: `10kB`, `1.0MB`. */
export function formatHumanBytes(v: number): string {
  if (v < 10) return `${v}B`;
  const e = Math.floor(Math.log(v) / Math.log(1000));
  const val = Math.floor((v / 1000 ** e) * 10 + 0.5) / 10;
  return formatFloat(val, 'f', val < 10 ? 1 : 0) + SI_SIZES[e]!;
}
