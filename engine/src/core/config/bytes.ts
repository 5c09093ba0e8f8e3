/**
 * Byte sizes the way Loki's configuration writes them. Loki's `flagext.ByteSize` upper-cases the text and hands it
 * to c2h5oh/datasize, whose units are all powers of 1024 (`KB` = `KiB` = `K` = 1024, `MB` = 2^20, ...), so `256KB`
 * is 262144 bytes and `64kB` equals `64KiB`. We match that exactly. Output uses datasize's form: the largest unit
 * that divides exactly (`256KB`, `3MB`, `0B`).
 */
import { UnitParseError } from './duration.js';

const bytesError = (input: string, reason: string): UnitParseError => new UnitParseError(input, reason, 'byte size');

const KIB = 1024;
const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  BYTE: 1,
  K: KIB,
  KB: KIB,
  KIB: KIB,
  KILO: KIB,
  KILOBYTE: KIB,
  KILOBYTES: KIB,
  M: KIB ** 2,
  MB: KIB ** 2,
  MIB: KIB ** 2,
  MEGA: KIB ** 2,
  MEGABYTE: KIB ** 2,
  MEGABYTES: KIB ** 2,
  G: KIB ** 3,
  GB: KIB ** 3,
  GIB: KIB ** 3,
  GIGA: KIB ** 3,
  GIGABYTE: KIB ** 3,
  GIGABYTES: KIB ** 3,
  T: KIB ** 4,
  TB: KIB ** 4,
  TIB: KIB ** 4,
  TERA: KIB ** 4,
  TERABYTE: KIB ** 4,
  TERABYTES: KIB ** 4,
  P: KIB ** 5,
  PB: KIB ** 5,
  PIB: KIB ** 5,
  PETA: KIB ** 5,
  PETABYTE: KIB ** 5,
  PETABYTES: KIB ** 5,
  E: KIB ** 6,
  EB: KIB ** 6,
  EIB: KIB ** 6,
  EXA: KIB ** 6,
  EXABYTE: KIB ** 6,
  EXABYTES: KIB ** 6,
};

/**
 * Parses a Loki byte size (`256KB`, `1MB`, `64kB`, `1MiB`, `4GB`, `1024`) into bytes. Like datasize: the value must
 * start with digits, has no fraction and no sign, and the unit may be separated by spaces. Throws `UnitParseError`.
 */
export function parseBytes(text: string): number {
  const m = /^(\d+)(.*)$/.exec(text);
  if (m === null) throw bytesError(text, 'not a valid byte size (e.g. 1024, 256KB, 1MB)');
  const unit = m[2]!.trim().toUpperCase();
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) {
    throw bytesError(text, `unknown unit "${m[2]!.trim()}" (use B, KB, MB, GB, TB; 1KB = 1024 bytes)`);
  }
  const n = Number(m[1]) * mult;
  if (!Number.isSafeInteger(n)) throw bytesError(text, 'out of range');
  return n;
}

/** Formats bytes as datasize does: `0B`, `256KB`, `3MB`, `1536KB`, `1000B`. */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0B';
  const units: Array<[string, number]> = [
    ['EB', KIB ** 6],
    ['PB', KIB ** 5],
    ['TB', KIB ** 4],
    ['GB', KIB ** 3],
    ['MB', KIB ** 2],
    ['KB', KIB],
  ];
  for (const [unit, mult] of units) {
    if (bytes % mult === 0) return `${bytes / mult}${unit}`;
  }
  return `${bytes}B`;
}
