import { NS_PER_MS } from '../model.js';
import type { SchemaVersion } from './schema.js';

/** Where a chunk lives and which one it is: enough to build its object key and to check what was read. */
export interface ChunkRef {
  tenant: string;
  /** The stream's fingerprint: 16 lowercase hex characters (see index/fingerprint.ts). */
  fingerprint: string;
  /** First entry, nanoseconds (inclusive). */
  from: bigint;
  /** Last entry, nanoseconds (inclusive). */
  through: bigint;
  /** CRC32 of the encoded chunk (u32), so two cuts of one stream over the same time range get distinct keys. */
  checksum: number;
}

/** The fields of a chunk object key. Times are milliseconds: keys carry no finer precision. */
export interface ParsedChunkKey {
  tenant: string;
  fingerprint: string;
  fromMs: bigint;
  throughMs: bigint;
  checksum: number;
  /** `v11` for `<fp>:<from>:<through>:<checksum>`, `v12` for `<fp>/<from>:<through>:<checksum>` (v12 and v13). */
  layout: 'v11' | 'v12';
}

const FINGERPRINT = /^[0-9a-f]{16}$/;
const HEX = /^[0-9a-f]{1,16}$/;

export function validateKeyTenant(tenant: string): void {
  if (tenant === '' || tenant === '.' || tenant === '..' || tenant.includes('/') || tenant.includes('\0')) {
    throw new Error(`invalid tenant for an object key: ${JSON.stringify(tenant)}`);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/**
 * The object key of a chunk, in Loki's layouts:
 * - v11:      `<tenant>/<fingerprint>:<fromMs>:<throughMs>:<checksum>`
 * - v12, v13: `<tenant>/<fingerprint>/<fromMs>:<throughMs>:<checksum>` (one "directory" per stream, so a listing
 *   or a delete of a stream does not scan the whole tenant)
 * All numbers are lowercase hex without padding, except the fingerprint (always 16 characters). `fromMs` rounds
 * down and `throughMs` up, so the millisecond range in the key always covers the chunk.
 */
export function chunkKey(ref: ChunkRef, schema: SchemaVersion): string {
  validateKeyTenant(ref.tenant);
  if (!FINGERPRINT.test(ref.fingerprint)) {
    throw new Error(`invalid chunk fingerprint ${JSON.stringify(ref.fingerprint)}: want 16 lowercase hex characters`);
  }
  if (ref.from < 0n || ref.through < ref.from) {
    throw new Error(`invalid chunk time range ${ref.from}..${ref.through}`);
  }
  if (!Number.isInteger(ref.checksum) || ref.checksum < 0 || ref.checksum > 0xffffffff) {
    throw new Error(`invalid chunk checksum ${ref.checksum}: want a u32`);
  }
  const rest =
    `${floorDiv(ref.from, NS_PER_MS).toString(16)}:${ceilDiv(ref.through, NS_PER_MS).toString(16)}:` +
    ref.checksum.toString(16);
  switch (schema) {
    case 'v11':
      return `${ref.tenant}/${ref.fingerprint}:${rest}`;
    case 'v12':
    case 'v13':
      return `${ref.tenant}/${ref.fingerprint}/${rest}`;
    default:
      throw new Error(`unknown schema ${JSON.stringify(schema as string)}`);
  }
}

/** Parses either layout (a tenant never contains '/', so the layouts cannot be confused). */
export function parseChunkKey(key: string): ParsedChunkKey {
  const bad = (why: string): Error => new Error(`invalid chunk key ${JSON.stringify(key)}: ${why}`);
  const slash = key.indexOf('/');
  if (slash <= 0) throw bad('no tenant');
  const tenant = key.slice(0, slash);
  const rest = key.slice(slash + 1);
  const parts = rest.split('/');
  let layout: 'v11' | 'v12';
  let fields: string[];
  if (parts.length === 1) {
    layout = 'v11';
    fields = rest.split(':');
  } else if (parts.length === 2) {
    layout = 'v12';
    fields = [parts[0]!, ...parts[1]!.split(':')];
  } else {
    throw bad('too many "/"');
  }
  if (fields.length !== 4) throw bad('want fingerprint, from, through and checksum');
  for (const f of fields) if (!HEX.test(f)) throw bad(`${JSON.stringify(f)} is not lowercase hex`);
  const [fp, from, through, checksum] = fields as [string, string, string, string];
  if (checksum.length > 8) throw bad('checksum is not a u32');
  const parsed: ParsedChunkKey = {
    tenant,
    // Loki writes fingerprints without leading zeros; Strata always pads. Accept both.
    fingerprint: fp.padStart(16, '0'),
    fromMs: BigInt('0x' + from),
    throughMs: BigInt('0x' + through),
    checksum: parseInt(checksum, 16),
    layout,
  };
  if (parsed.throughMs < parsed.fromMs) throw bad('through before from');
  validateKeyTenant(tenant);
  return parsed;
}
