import { EngineError } from '../errors.js';
import type { Direction } from '../model.js';
import {
  decodedHi,
  decodedLo,
  decodedUint,
  joinInt64,
  lessThan,
  readUvarint,
  readVarint64,
  splitInt64,
} from './varint.js';

/**
 * Reading the entries of one uncompressed block (a cut block or the head block). Both MemChunk and ChunkReader go
 * through `readBlocks`, so the entry layout is parsed in exactly one place. See docs/chunk-format.md for the entry
 * layout.
 */

/**
 * One entry read from a chunk. `line` is a view into the decompressed block: copy it (`Buffer.from(line)`) before
 * keeping it beyond the query, or the whole block stays in memory.
 */
export interface ChunkEntry {
  ts: bigint;
  line: Buffer;
  metadata?: [string, string][];
}

/** Runs on the raw line bytes, before any string or entry object is made. */
export type LineFilter = (line: Buffer) => boolean;

/** One block as the reader sees it: its time bounds (to skip it) and a way to get its uncompressed bytes. */
export interface BlockSource {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  /** True when entries are in timestamp order, so a forward scan may stop at the first ts ≥ through. */
  readonly sorted: boolean;
  /** Names the block in error messages, e.g. "chunk block 3". */
  readonly label: string;
  load(): Buffer | Promise<Buffer>;
}

export function corruptBlock(label: string, detail: string): EngineError {
  return new EngineError('internal', `${label}: corrupt block: ${detail}`);
}

/**
 * A query range [from, through) split into 32-bit halves, so per-entry comparisons never touch a BigInt. A
 * `through` past the int64 range has no upper bound (so an entry at the largest int64 can still be read).
 */
class HalfRange {
  readonly fromHi: number;
  readonly fromLo: number;
  readonly throughHi: number;
  readonly throughLo: number;
  readonly unbounded: boolean;

  constructor(from: bigint, through: bigint) {
    splitInt64(clampInt64(from));
    this.fromHi = decodedHi;
    this.fromLo = decodedLo;
    splitInt64(clampInt64(through));
    this.throughHi = decodedHi;
    this.throughLo = decodedLo;
    this.unbounded = through > MAX;
  }
}

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;
const clampInt64 = (v: bigint): bigint => (v < MIN ? MIN : v > MAX ? MAX : v);

/** Skip the structured-metadata section at `p`; returns the position after it or -1 when truncated. */
function skipMetadata(data: Buffer, p: number, end: number): number {
  p = readUvarint(data, p, end);
  if (p < 0) return -1;
  for (let pairs = decodedUint; pairs > 0; pairs--) {
    p = readUvarint(data, p, end);
    if (p < 0 || p + decodedUint > end) return -1;
    p += decodedUint;
    p = readUvarint(data, p, end);
    if (p < 0 || p + decodedUint > end) return -1;
    p += decodedUint;
  }
  return p;
}

/** Decode a metadata section already validated by skipMetadata. Undefined when there are no pairs. */
function decodeMetadata(data: Buffer, p: number): [string, string][] | undefined {
  p = readUvarint(data, p, data.length);
  const n = decodedUint;
  if (n === 0) return undefined;
  const pairs: [string, string][] = new Array(n);
  for (let i = 0; i < n; i++) {
    p = readUvarint(data, p, data.length);
    const name = data.toString('utf8', p, p + decodedUint);
    p += decodedUint;
    p = readUvarint(data, p, data.length);
    const value = data.toString('utf8', p, p + decodedUint);
    p += decodedUint;
    pairs[i] = [name, value];
  }
  return pairs;
}

/**
 * Parse the structure of the entry at `p`; returns the position after it, or throws naming the block. The entry's
 * timestamp halves are left in `entryHi`/`entryLo`, the line bounds in `lineStart`/`lineEnd`.
 */
let entryHi = 0;
let entryLo = 0;
let lineStart = 0;
let lineEnd = 0;

function scanEntry(data: Buffer, p: number, end: number, withMetadata: boolean, label: string): number {
  const start = p;
  p = readVarint64(data, p, end);
  if (p < 0) throw corruptBlock(label, `bad timestamp at offset ${start}`);
  entryHi = decodedHi;
  entryLo = decodedLo;
  p = readUvarint(data, p, end);
  if (p < 0 || p + decodedUint > end) throw corruptBlock(label, `bad line length at offset ${start}`);
  lineStart = p;
  lineEnd = p + decodedUint;
  if (!withMetadata) return lineEnd;
  p = skipMetadata(data, lineEnd, end);
  if (p < 0) throw corruptBlock(label, `bad structured metadata at offset ${start}`);
  return p;
}

/** Append the entries of one block that are in range and pass `filter` to `out`, in block order. */
function readBlockEntries(
  data: Buffer,
  withMetadata: boolean,
  r: HalfRange,
  filter: LineFilter | undefined,
  sorted: boolean,
  label: string,
  out: ChunkEntry[],
): void {
  const end = data.length;
  let p = 0;
  while (p < end) {
    p = scanEntry(data, p, end, withMetadata, label);
    const hi = entryHi;
    const lo = entryLo;
    if (lessThan(hi, lo, r.fromHi, r.fromLo)) continue;
    if (!r.unbounded && !lessThan(hi, lo, r.throughHi, r.throughLo)) {
      if (sorted) break;
      continue;
    }
    const line = data.subarray(lineStart, lineEnd);
    if (filter !== undefined && !filter(line)) continue;
    out.push({ ts: joinInt64(hi, lo), line, metadata: withMetadata ? decodeMetadata(data, lineEnd) : undefined });
  }
}

const byTs = (a: ChunkEntry, b: ChunkEntry): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

/** The blocks of `sources` whose bounds overlap [from, through); validates the direction. */
function overlapping(sources: readonly BlockSource[], from: bigint, through: bigint, direction: Direction): BlockSource[] {
  if (direction !== 'forward' && direction !== 'backward') {
    throw new EngineError('bad_request', `invalid direction "${String(direction)}"`);
  }
  if (from >= through) return [];
  return sources.filter((s) => s.minTs < through && s.maxTs >= from);
}

/** Read the loaded blocks and merge them into one ordered list. */
function collect(
  wanted: readonly BlockSource[],
  datas: readonly Buffer[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter: LineFilter | undefined,
): ChunkEntry[] {
  const range = new HalfRange(from, through);
  let out: ChunkEntry[] = [];
  let inOrder = true;
  for (let i = 0; i < wanted.length; i++) {
    const before = out.length;
    readBlockEntries(datas[i]!, withMetadata, range, filter, wanted[i]!.sorted, wanted[i]!.label, out);
    if (!wanted[i]!.sorted) inOrder = false;
    else if (before > 0 && out.length > before && out[before - 1]!.ts > out[before]!.ts) inOrder = false;
  }
  if (!inOrder) out = out.sort(byTs);
  if (direction === 'backward') out.reverse();
  return out;
}

/**
 * Read [from, through) from a list of blocks in append order (`through` above the int64 range means "no upper
 * bound"). Blocks whose bounds miss the range are never loaded. Blocks may overlap in time (out-of-order appends),
 * so the parts are merged with a stable sort unless they are already in order; equal timestamps keep append order
 * going forward and the reverse going backward.
 */
export async function readBlocks(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter?: LineFilter,
): Promise<ChunkEntry[]> {
  const wanted = overlapping(sources, from, through, direction);
  if (wanted.length === 0) return [];
  const datas = await Promise.all(wanted.map((s) => s.load()));
  return collect(wanted, datas, withMetadata, from, through, direction, filter);
}

/** `readBlocks` for sources whose `load` is synchronous (it throws if one returns a promise). */
export function readBlocksSync(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter?: LineFilter,
): ChunkEntry[] {
  const wanted = overlapping(sources, from, through, direction);
  const datas = wanted.map((s) => {
    const d = s.load();
    if (!Buffer.isBuffer(d)) throw new EngineError('internal', `${s.label}: synchronous read of an async block`);
    return d;
  });
  return collect(wanted, datas, withMetadata, from, through, direction, filter);
}

/**
 * Sort a block's entries by timestamp (stable) and drop entries identical (timestamp, line and metadata) to an
 * earlier entry with the same timestamp. Used when the head received out-of-order entries. Returns the re-encoded
 * entries and their count; `data` is not modified.
 */
export function sortBlock(data: Buffer, withMetadata: boolean, label: string): { data: Buffer; count: number } {
  const end = data.length;
  let cap = 64;
  let starts = new Uint32Array(cap + 1);
  let his = new Int32Array(cap);
  let los = new Uint32Array(cap);
  let n = 0;
  for (let p = 0; p < end; ) {
    if (n === cap) {
      cap *= 2;
      starts = grow(starts, cap + 1);
      his = grow(his, cap);
      los = grow(los, cap);
    }
    starts[n] = p;
    p = scanEntry(data, p, end, withMetadata, label);
    his[n] = entryHi;
    los[n] = entryLo;
    n++;
  }
  starts[n] = end;

  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => his[a]! - his[b]! || los[a]! - los[b]! || a - b);

  const out = Buffer.allocUnsafeSlow(end);
  let len = 0;
  let count = 0;
  // Entries of one timestamp group that were kept; a Set takes over for large groups so a flood of entries with
  // one timestamp stays O(n).
  const group: number[] = [];
  let groupSet: Set<string> | undefined;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (k === 0 || his[i] !== his[order[k - 1]!] || los[i] !== los[order[k - 1]!]) {
      group.length = 0;
      groupSet = undefined;
    }
    const s = starts[i]!;
    const e = starts[i + 1]!;
    let dup = false;
    if (groupSet !== undefined) {
      const key = data.toString('latin1', s, e);
      dup = groupSet.has(key);
      if (!dup) groupSet.add(key);
    } else {
      for (const j of group) {
        if (starts[j + 1]! - starts[j]! === e - s && data.compare(data, starts[j]!, starts[j + 1]!, s, e) === 0) {
          dup = true;
          break;
        }
      }
      if (!dup) {
        group.push(i);
        if (group.length > 16) groupSet = new Set(group.map((j) => data.toString('latin1', starts[j]!, starts[j + 1]!)));
      }
    }
    if (dup) continue;
    data.copy(out, len, s, e);
    len += e - s;
    count++;
  }
  return { data: len === end ? out : out.subarray(0, len), count };
}

function grow<T extends Uint32Array | Int32Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}
