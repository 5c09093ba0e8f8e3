/**
 * Varint primitives for the chunk format (Go's `encoding/binary` varint layout: 7 bits per byte, low groups first,
 * high bit = "more bytes follow"; signed values are zigzag-encoded first).
 *
 * Timestamps are signed 64-bit nanoseconds. Doing the zigzag and the 7-bit split with BigInt arithmetic costs
 * ~80 ns per entry; instead the value is split into two 32-bit halves through a DataView (~6 ns) and the varint is
 * produced from the halves with plain int32 arithmetic. Decoders return the halves through module-level
 * registers (`decodedHi`, `decodedLo`) so that decoding an entry allocates nothing.
 */

export const MIN_INT64 = -(1n << 63n);
export const MAX_INT64 = (1n << 63n) - 1n;

/** Longest zigzag varint of an int64. */
export const MAX_VARINT64_LEN = 10;

const scratch = new DataView(new ArrayBuffer(8));

/** Split a signed 64-bit bigint into its high (signed int32) and low (uint32) halves, in `decodedHi/decodedLo`. */
export let decodedHi = 0;
export let decodedLo = 0;

export function splitInt64(v: bigint): void {
  scratch.setBigInt64(0, v);
  decodedHi = scratch.getInt32(0);
  decodedLo = scratch.getUint32(4);
}

/** Join a high (signed int32) and low (uint32) half into a bigint. */
export function joinInt64(hi: number, lo: number): bigint {
  scratch.setInt32(0, hi);
  scratch.setUint32(4, lo);
  return scratch.getBigInt64(0);
}

/** a < b for (signed hi, unsigned lo) pairs. */
export function lessThan(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo < bLo);
}

/**
 * Write `v` (signed 64-bit, given as halves) as a zigzag varint at `pos`; returns the position after it. The
 * caller guarantees MAX_VARINT64_LEN bytes of room.
 */
export function writeVarint64(buf: Uint8Array, pos: number, hi: number, lo: number): number {
  const sign = hi >> 31; // 0 or -1
  let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  let zlo = ((lo << 1) ^ sign) >>> 0;
  while (zhi !== 0) {
    buf[pos++] = (zlo & 0x7f) | 0x80;
    zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
    zhi >>>= 7;
  }
  while (zlo >= 0x80) {
    buf[pos++] = (zlo & 0x7f) | 0x80;
    zlo >>>= 7;
  }
  buf[pos++] = zlo;
  return pos;
}

/** Write a bigint timestamp as a zigzag varint; returns the position after it. */
export function writeVarintBig(buf: Uint8Array, pos: number, v: bigint): number {
  splitInt64(v);
  return writeVarint64(buf, pos, decodedHi, decodedLo);
}

/**
 * Read a zigzag varint int64 at `pos` (not beyond `end`). The value is left in `decodedHi`/`decodedLo`; returns
 * the position after it, or -1 when the varint is truncated or longer than 10 bytes.
 */
export function readVarint64(buf: Uint8Array, pos: number, end: number): number {
  let lo = 0;
  let hi = 0;
  let b: number;
  let shift = 0;
  // Bytes 0..3 carry bits 0..27 of the low half.
  for (; shift < 28; shift += 7) {
    if (pos >= end) return -1;
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return unzigzag(hi, lo, pos);
  }
  // Byte 4 straddles the halves: 4 bits to the low half, 3 to the high half.
  if (pos >= end) return -1;
  b = buf[pos++]!;
  lo |= (b & 0x0f) << 28;
  hi = (b & 0x7f) >>> 4;
  if (b < 0x80) return unzigzag(hi, lo, pos);
  // Bytes 5..9 carry bits 3..31 of the high half.
  for (shift = 3; shift < 32; shift += 7) {
    if (pos >= end) return -1;
    b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) return unzigzag(hi, lo, pos);
  }
  return -1;
}

function unzigzag(zhi: number, zlo: number, pos: number): number {
  const neg = -(zlo & 1); // 0 or -1
  decodedLo = (((zlo >>> 1) | (zhi << 31)) ^ neg) >>> 0;
  decodedHi = ((zhi >>> 1) ^ neg) | 0;
  return pos;
}

/** Read a zigzag varint int64 as a bigint; throws `RangeError` when truncated. */
export function readVarintBig(buf: Uint8Array, pos: number, end: number): [value: bigint, next: number] {
  const next = readVarint64(buf, pos, end);
  if (next < 0) throw new RangeError('truncated varint');
  return [joinInt64(decodedHi, decodedLo), next];
}

/** Bytes needed for an unsigned varint of `v` (0 ≤ v < 2^53). */
export function uvarintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = v > 0xffffffff ? Math.floor(v / 128) : v >>> 7;
    n++;
  }
  return n;
}

/** Write an unsigned varint (0 ≤ v < 2^53) at `pos`; returns the position after it. */
export function writeUvarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = v > 0xffffffff ? Math.floor(v / 128) : v >>> 7;
  }
  buf[pos++] = v;
  return pos;
}

/** The value read by the last `readUvarint`. */
export let decodedUint = 0;

/**
 * Read an unsigned varint of at most 7 bytes (< 2^49, plenty for lengths and offsets) into `decodedUint`; returns
 * the position after it, or -1 when truncated or too long.
 */
export function readUvarint(buf: Uint8Array, pos: number, end: number): number {
  let b: number;
  let v = 0;
  // The first four bytes fit in int32 arithmetic, which covers every line length below 256 MiB.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) return -1;
    b = buf[pos++]!;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) {
      decodedUint = v;
      return pos;
    }
  }
  let mul = 2 ** 28;
  for (let i = 0; i < 3; i++) {
    if (pos >= end) return -1;
    b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      decodedUint = v;
      return pos;
    }
    mul *= 128;
  }
  return -1;
}
