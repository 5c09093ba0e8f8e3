import { EngineError } from '../errors.js';
import type { Direction } from '../model.js';
import { predicateFilter, type BlockFilter } from './block-filter.js';
import type { ScratchBuffer } from './codec.js';
import {
  decodedHi,
  decodedLo,
  decodedUint,
  joinInt64,
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
  /**
   * `load` for a synchronous read, decompressing into `scratch` when the codec can (util/native.ts): the result may
   * then be a view of the scratch buffer, valid only until its next use (`scratch.holds` tells). Sources without it
   * are loaded with `load`.
   */
  loadInto?(scratch: ScratchBuffer): Buffer;
}

export function corruptBlock(label: string, detail: string): EngineError {
  return new EngineError('internal', `${label}: corrupt block: ${detail}`);
}

/**
 * A query range [from, through) split into 32-bit halves, so per-entry comparisons never touch a BigInt. A
 * `through` past the int64 range has no upper bound (so an entry at the largest int64 can still be read).
 */
export class ScanRange {
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
 * timestamp halves are left in `entryHi`/`entryLo`.
 */
let entryHi = 0;
let entryLo = 0;

function scanEntry(data: Buffer, p: number, end: number, withMetadata: boolean, label: string): number {
  const start = p;
  p = readVarint64(data, p, end);
  if (p < 0) throw corruptBlock(label, `bad timestamp at offset ${start}`);
  entryHi = decodedHi;
  entryLo = decodedLo;
  p = readUvarint(data, p, end);
  if (p < 0 || p + decodedUint > end) throw corruptBlock(label, `bad line length at offset ${start}`);
  const lineEnd = p + decodedUint;
  if (!withMetadata) return lineEnd;
  p = skipMetadata(data, lineEnd, end);
  if (p < 0) throw corruptBlock(label, `bad structured metadata at offset ${start}`);
  return p;
}

/**
 * Receives the entries of a block scan that are in range and pass the filter: the timestamp as 32-bit halves, the
 * line at [lineStart, lineEnd) of `data`, and the structured-metadata section at `metaStart` (-1 when the entry
 * has none, always in a v3 block; see `readMetadata`). `data` is the decompressed block: a sink that keeps a line beyond the call copies it, or
 * keeps a view and with it the whole block. Returning false stops the scan.
 */
export type EntrySink = (data: Buffer, hi: number, lo: number, lineStart: number, lineEnd: number, metaStart: number) => boolean | void;

/**
 * Scan one block's entries in block order. Each entry's framing is parsed with integer arithmetic only; nothing
 * is allocated for an entry out of range or rejected by the filter. Returns false when the sink stopped the scan.
 */
export function scanBlock(
  data: Buffer,
  withMetadata: boolean,
  r: ScanRange,
  filter: BlockFilter | undefined,
  sorted: boolean,
  label: string,
  sink: EntrySink,
): boolean {
  return scanBlockCounted(data, withMetadata, r, filter, sorted, label, sink) >= 0;
}

/**
 * `scanBlock` returning how many entries reached the sink, or -1 when the sink stopped the scan. The framing is
 * decoded inline (no calls, locals only) while at least FAST_TAIL bytes remain — by far the common case — and by
 * the checked varint readers near the end of the block.
 */
export function scanBlockCounted(
  data: Buffer,
  withMetadata: boolean,
  r: ScanRange,
  filter: BlockFilter | undefined,
  sorted: boolean,
  label: string,
  sink: EntrySink,
): number {
  const end = data.length;
  const fromHi = r.fromHi;
  const fromLo = r.fromLo;
  const throughHi = r.throughHi;
  const throughLo = r.throughLo;
  const unbounded = r.unbounded;
  // A plain Uint8Array view: Buffers from the codecs and from JavaScript can have different maps, and byte reads
  // through one map stay monomorphic.
  const u8 = new Uint8Array(data.buffer, data.byteOffset, end);
  const fastEnd = end - FAST_TAIL;
  filter?.reset(data);
  let n = 0;
  let lines = 0;
  let bytes = 0;
  let framed = 0;
  let p = 0;
  while (p < end) {
    const start = p;
    let hi: number;
    let lo: number;
    let lineStart: number;
    let lineEnd: number;
    if (p < fastEnd) {
      // Zigzag varint int64 (see varint.ts readVarint64), unrolled: bytes 0–3 → low bits 0–27, byte 4 → low
      // 28–31 and high 0–2, bytes 5–9 → high 3–31.
      let b = u8[p++]!;
      let zlo = b & 0x7f;
      let zhi = 0;
      if (b >= 0x80) {
        b = u8[p++]!;
        zlo |= (b & 0x7f) << 7;
        if (b >= 0x80) {
          b = u8[p++]!;
          zlo |= (b & 0x7f) << 14;
          if (b >= 0x80) {
            b = u8[p++]!;
            zlo |= (b & 0x7f) << 21;
            if (b >= 0x80) {
              b = u8[p++]!;
              zlo |= (b & 0x0f) << 28;
              zhi = (b & 0x7f) >>> 4;
              for (let shift = 3; b >= 0x80; shift += 7) {
                if (shift > 31) throw corruptBlock(label, `bad timestamp at offset ${start}`);
                b = u8[p++]!;
                zhi |= (b & 0x7f) << shift;
              }
            }
          }
        }
      }
      const neg = -(zlo & 1);
      lo = (((zlo >>> 1) | (zhi << 31)) ^ neg) >>> 0;
      hi = ((zhi >>> 1) ^ neg) | 0;
      // Line length: one or two bytes for any line below 16 KiB.
      b = u8[p++]!;
      let len = b & 0x7f;
      if (b >= 0x80) {
        b = u8[p++]!;
        len |= (b & 0x7f) << 7;
        if (b >= 0x80) {
          p = readUvarint(data, p - 2, end);
          if (p < 0) throw corruptBlock(label, `bad line length at offset ${start}`);
          len = decodedUint;
        }
      }
      if (p + len > end) throw corruptBlock(label, `bad line length at offset ${start}`);
      lineStart = p;
      lineEnd = p + len;
    } else {
      p = readVarint64(data, p, end);
      if (p < 0) throw corruptBlock(label, `bad timestamp at offset ${start}`);
      hi = decodedHi;
      lo = decodedLo;
      p = readUvarint(data, p, end);
      if (p < 0 || p + decodedUint > end) throw corruptBlock(label, `bad line length at offset ${start}`);
      lineStart = p;
      lineEnd = p + decodedUint;
    }
    let metaStart = -1;
    if (withMetadata) {
      // Most entries carry no metadata: a single zero byte.
      if (lineEnd < end && u8[lineEnd] === 0) {
        p = lineEnd + 1;
      } else {
        metaStart = lineEnd;
        p = skipMetadata(data, lineEnd, end);
        if (p < 0) throw corruptBlock(label, `bad structured metadata at offset ${start}`);
      }
    } else {
      p = lineEnd;
    }
    if (hi < fromHi || (hi === fromHi && lo < fromLo)) continue;
    if (!unbounded && !(hi < throughHi || (hi === throughHi && lo < throughLo))) {
      if (sorted) break;
      continue;
    }
    lines++;
    bytes += lineEnd - lineStart;
    framed += p - start;
    if (filter !== undefined && !filter.test(lineStart, lineEnd)) {
      if (filter.exhausted) {
        // The rest of the block was searched, not parsed: its lines and line bytes are estimated, for the stats
        // only, from every entry parsed so far (one block's first lines alone would be a biased sample).
        parsed.lines += lines;
        parsed.bytes += bytes;
        parsed.framed += framed;
        const rest = end - p;
        scanTotals.lines += lines + Math.round((rest * parsed.lines) / parsed.framed);
        scanTotals.bytes += bytes + Math.round((rest * parsed.bytes) / parsed.framed);
        return n;
      }
      continue;
    }
    n++;
    if (sink(data, hi, lo, lineStart, lineEnd, metaStart) === false) {
      n = -1;
      break;
    }
  }
  parsed.lines += lines;
  parsed.bytes += bytes;
  parsed.framed += framed;
  scanTotals.lines += lines;
  scanTotals.bytes += bytes;
  return n;
}

/**
 * Entries in range (before line filters) and their line bytes, summed over every block scan: what a query
 * processed, for its stats (estimated for the part of a block a filter skips, see scanBlockCounted). Read the
 * difference around a synchronous read (see Querier).
 */
export const scanTotals = { lines: 0, bytes: 0 };

/** Entries parsed by every scan, their line bytes and their bytes with framing: the ratios the estimates use. */
const parsed = { lines: 0, bytes: 0, framed: 0 };

/** Bytes of an entry's framing the inline decoder may read: a 10-byte timestamp and a 2-byte length. */
const FAST_TAIL = 12;

/** The structured metadata of an entry found by a scan (`metaStart` as given to the sink); undefined when none. */
export function readMetadata(data: Buffer, metaStart: number): [string, string][] | undefined {
  if (metaStart < 0 || data[metaStart] === 0) return undefined;
  return decodeMetadata(data, metaStart);
}

/** Append the entries of one block that are in range and pass `filter` to `out`, in block order. */
function readBlockEntries(
  data: Buffer,
  withMetadata: boolean,
  r: ScanRange,
  filter: BlockFilter | undefined,
  sorted: boolean,
  label: string,
  out: ChunkEntry[],
): void {
  scanBlock(data, withMetadata, r, filter, sorted, label, (d, hi, lo, ls, le, ms) => {
    out.push({ ts: joinInt64(hi, lo), line: d.subarray(ls, le), metadata: ms >= 0 ? readMetadata(d, ms) : undefined });
  });
}

const byTs = (a: ChunkEntry, b: ChunkEntry): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

function checkDirection(direction: Direction): void {
  if (direction !== 'forward' && direction !== 'backward') {
    throw new EngineError('bad_request', `invalid direction "${String(direction)}"`);
  }
}

/** The blocks of `sources` whose bounds overlap [from, through); validates the direction. */
function overlapping(sources: readonly BlockSource[], from: bigint, through: bigint, direction: Direction): BlockSource[] {
  checkDirection(direction);
  if (from >= through) return [];
  return sources.filter((s) => s.minTs < through && s.maxTs >= from);
}

/** A block loaded for a read: its uncompressed entries, whether they are in timestamp order, its name in errors. */
export interface LoadedBlock {
  readonly data: Buffer;
  readonly sorted: boolean;
  readonly label: string;
}

/**
 * Load the blocks of `sources` whose bounds overlap [from, through), in block order; the others are never
 * loaded. Loads run together (decompression goes to the libuv pool).
 */
export async function loadBlocks(sources: readonly BlockSource[], from: bigint, through: bigint): Promise<LoadedBlock[]> {
  const wanted = overlapping(sources, from, through, 'forward');
  if (wanted.length === 0) return [];
  const datas = await Promise.all(wanted.map((s) => s.load()));
  return wanted.map((s, i) => ({ data: datas[i]!, sorted: s.sorted, label: s.label }));
}

/**
 * The entries of loaded blocks in [from, through) that pass `filter`, merged into one list in timestamp order for
 * `direction`. Blocks may overlap in time (out-of-order appends), so the parts are merged with a stable sort unless
 * they are already in order; equal timestamps keep append order going forward and the reverse going backward.
 */
export function entriesOf(
  blocks: readonly LoadedBlock[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  lineFilter: LineFilter | BlockFilter | undefined,
): ChunkEntry[] {
  return collectEntries(blocks, withMetadata, from, through, direction, lineFilter, undefined);
}

/**
 * `entriesOf` over blocks as they come (loaded lazily, one at a time). A block held by `scratch` that yields
 * entries is copied out of it first: entries' lines are views of their block.
 */
function collectEntries(
  blocks: Iterable<LoadedBlock>,
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  lineFilter: LineFilter | BlockFilter | undefined,
  scratch: ScratchBuffer | undefined,
): ChunkEntry[] {
  checkDirection(direction);
  const range = new ScanRange(from, through);
  const filter = typeof lineFilter === 'function' ? predicateFilter(lineFilter) : lineFilter;
  let out: ChunkEntry[] = [];
  let inOrder = true;
  for (const b of blocks) {
    const before = out.length;
    readBlockEntries(b.data, withMetadata, range, filter, b.sorted, b.label, out);
    if (out.length > before && scratch !== undefined && scratch.holds(b.data)) {
      const owned = Buffer.from(b.data);
      const base = b.data.byteOffset;
      for (let i = before; i < out.length; i++) {
        const e = out[i]!;
        const at = e.line.byteOffset - base;
        e.line = owned.subarray(at, at + e.line.length);
      }
    }
    if (!b.sorted) inOrder = false;
    else if (before > 0 && out.length > before && out[before - 1]!.ts > out[before]!.ts) inOrder = false;
  }
  if (!inOrder) out = out.sort(byTs);
  if (direction === 'backward') out.reverse();
  return out;
}

/**
 * Scan loaded blocks: `sink` sees every entry in [from, through) that passes `filter`, block after block, each
 * block in its own order (blocks may overlap in time when appends came out of order; `entriesOf` gives one ordered
 * list). Returns false when the sink stopped the scan.
 */
export function scanLoaded(
  blocks: readonly LoadedBlock[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  filter: BlockFilter | undefined,
  sink: EntrySink,
): boolean {
  return scanLoadedCounted(blocks, withMetadata, from, through, filter, sink) >= 0;
}

/** `scanLoaded` returning how many entries reached the sink, or -1 when the sink stopped the scan. */
export function scanLoadedCounted(
  blocks: readonly LoadedBlock[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  filter: BlockFilter | undefined,
  sink: EntrySink,
): number {
  if (from >= through) return 0;
  const range = new ScanRange(from, through);
  let total = 0;
  for (const b of blocks) {
    const n = scanBlockCounted(b.data, withMetadata, range, filter, b.sorted, b.label, sink);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

/**
 * Read [from, through) from a list of blocks in append order (`through` above the int64 range means "no upper
 * bound"), as one list ordered for `direction` (see `entriesOf`).
 */
export async function readBlocks(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter?: LineFilter | BlockFilter,
): Promise<ChunkEntry[]> {
  checkDirection(direction);
  const blocks = await loadBlocks(sources, from, through);
  return entriesOf(blocks, withMetadata, from, through, direction, filter);
}

/** `readBlocks` for sources whose `load` is synchronous (it throws if one returns a promise). */
export function readBlocksSync(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter?: LineFilter | BlockFilter,
): ChunkEntry[] {
  checkDirection(direction);
  return entriesOf(loadBlocksSync(sources, from, through), withMetadata, from, through, direction, filter);
}

/** The sources overlapping [from, through), in block order (for `loadSync`). */
export function overlappingBlocks(sources: readonly BlockSource[], from: bigint, through: bigint): BlockSource[] {
  return overlapping(sources, from, through, 'forward');
}

/** Load one block whose `load` is synchronous (it throws if it returns a promise). */
export function loadSync(s: BlockSource): LoadedBlock {
  const d = s.load();
  if (!Buffer.isBuffer(d)) throw new EngineError('internal', `${s.label}: synchronous read of an async block`);
  return { data: d, sorted: s.sorted, label: s.label };
}

/**
 * Load one block for a scan that is done with it before the next load: into `scratch` when the source can (see
 * BlockSource.loadInto), else as `loadSync`.
 */
export function loadTransient(s: BlockSource, scratch: ScratchBuffer): LoadedBlock {
  if (s.loadInto === undefined) return loadSync(s);
  return { data: s.loadInto(scratch), sorted: s.sorted, label: s.label };
}

/**
 * `entriesOf` for synchronous sources, loading one block at a time through `scratch` (`loadTransient`): a block
 * that yields entries is copied out of the scratch buffer first (entries' lines are views of their block), so a block
 * the filter rejects wholly costs no allocation at all.
 */
export function entriesOfSources(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  lineFilter: LineFilter | BlockFilter | undefined,
  scratch: ScratchBuffer,
): ChunkEntry[] {
  checkDirection(direction);
  function* loaded(): Generator<LoadedBlock> {
    for (const s of overlapping(sources, from, through, 'forward')) yield loadTransient(s, scratch);
  }
  return collectEntries(loaded(), withMetadata, from, through, direction, lineFilter, scratch);
}

/** `loadBlocks` for sources whose `load` is synchronous. */
export function loadBlocksSync(sources: readonly BlockSource[], from: bigint, through: bigint): LoadedBlock[] {
  return overlapping(sources, from, through, 'forward').map(loadSync);
}

/** `loadBlocks` then `scanLoaded`: see there. Resolves false when the sink stopped the scan. */
export async function scanBlocks(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  filter: BlockFilter | undefined,
  sink: EntrySink,
): Promise<boolean> {
  return scanLoaded(await loadBlocks(sources, from, through), withMetadata, from, through, filter, sink);
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
