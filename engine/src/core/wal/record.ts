/**
 * WAL records: the binary payload of one frame (see docs/wal-format.md for the byte layout).
 *
 * Encoding is on the push path, so it writes straight into a growable scratch buffer (`ByteWriter`) with no
 * intermediate objects. Decoding returns entries whose `line` is a view into the buffer it was given (no copy).
 */
import { EngineError } from '../errors.js';
import type { LabelPair, PushEntry } from '../model.js';

export type WalRecord =
  /** A stream's ref (u32, assigned by the ingester) and its canonical label string. */
  | { type: 'series'; tenant: string; ref: number; labels: string }
  /** Entries appended to the stream `ref` of `tenant`. */
  | { type: 'entries'; tenant: string; ref: number; entries: PushEntry[] };

export const RECORD_SERIES = 1;
export const RECORD_ENTRIES = 2;

/** A record payload that cannot be decoded (its frame checksum was valid, so the bytes are what was written). */
export class WalFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalFormatError';
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
// Timestamp deltas inside this range zigzag to < 2^53, so they are varint-encoded with plain number arithmetic.
const FAST_DELTA = 1n << 52n;
const NEG_FAST_DELTA = -FAST_DELTA;
// A string of fewer UTF-16 units than this has at most 126 UTF-8 bytes, so its length is one varint byte.
const SHORT_STRING = 43;

/** An append-only byte buffer that doubles when full. `buf` is replaced on growth: read it after writing. */
export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(capacity, 64));
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafeSlow(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.pos);
    this.pos += 8;
  }

  /** Unsigned LEB128 of a non-negative integer ≤ 2^53. */
  uvarint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80000000) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Unsigned LEB128 of a u64. */
  uvarintBig(v: bigint): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80n) {
      b[p++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    b[p++] = Number(v);
    this.pos = p;
  }

  /** uvarint byte length, then the bytes. */
  blob(v: Buffer): void {
    const n = v.length;
    this.uvarint(n);
    this.ensure(n);
    v.copy(this.buf, this.pos);
    this.pos += n;
  }

  /** uvarint UTF-8 byte length, then the UTF-8 bytes. */
  str(s: string): void {
    if (s.length < SHORT_STRING) {
      // Write first, then fill in the one-byte length: saves a Buffer.byteLength scan on short strings.
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }
}

function checkRef(ref: number): void {
  if (!Number.isInteger(ref) || ref < 0 || ref > 0xffffffff) throw new RangeError(`wal: ref ${ref} is not a u32`);
}

function checkTs(ts: bigint): void {
  if (typeof ts !== 'bigint' || ts < I64_MIN || ts > I64_MAX) {
    // The only encode failure a client can cause: its timestamp does not fit Loki's int64 nanoseconds.
    throw new EngineError('bad_request', `entry timestamp ${String(ts)} is outside the int64 nanosecond range`);
  }
}

/**
 * Writes one record's payload (no frame header). Throws EngineError('bad_request') on a timestamp outside int64 and
 * RangeError/TypeError on a malformed record (a caller bug).
 */
export function writeRecord(w: ByteWriter, r: WalRecord): void {
  checkRef(r.ref);
  if (r.type === 'series') {
    w.u8(RECORD_SERIES);
    w.str(r.tenant);
    w.uvarint(r.ref);
    w.str(r.labels);
    return;
  }
  if (r.type !== 'entries') throw new TypeError(`wal: unknown record type ${String((r as { type: unknown }).type)}`);
  w.u8(RECORD_ENTRIES);
  w.str(r.tenant);
  w.uvarint(r.ref);
  const entries = r.entries;
  const n = entries.length;
  w.uvarint(n);
  if (n === 0) return;
  let prev = entries[0]!.ts;
  checkTs(prev);
  w.i64(prev);
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    const ts = e.ts;
    checkTs(ts);
    // Entries of one push are close in time: a zigzag varint delta is 1-5 bytes instead of 8.
    const d = ts - prev;
    if (d < FAST_DELTA && d > NEG_FAST_DELTA) {
      const x = Number(d);
      w.uvarint(x >= 0 ? x * 2 : -x * 2 - 1);
    } else {
      const d64 = BigInt.asIntN(64, d); // wraps: the decoder adds modulo 2^64, so any int64 pair round-trips
      w.uvarintBig(BigInt.asUintN(64, (d64 << 1n) ^ (d64 >> 63n)));
    }
    prev = ts;
    w.blob(e.line);
    const md = e.metadata;
    if (md === undefined || md.length === 0) {
      w.u8(0);
    } else {
      w.uvarint(md.length);
      for (let j = 0; j < md.length; j++) {
        const pair = md[j]!;
        w.str(pair[0]);
        w.str(pair[1]);
      }
    }
  }
}

/** One record's payload as a fresh Buffer (tests and tools; the WAL writes frames through `appendFrame`). */
export function encodeRecord(r: WalRecord): Buffer {
  const w = new ByteWriter(256);
  writeRecord(w, r);
  return Buffer.from(w.bytes());
}

/** Cursor over one payload; every read is bounds-checked so bad bytes throw WalFormatError, never read past. */
class Reader {
  pos = 0;
  readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WalFormatError(`truncated record at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A uvarint ≤ 2^49 (lengths, counts, refs). */
  uvarint(): number {
    const b = this.buf;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= b.length) throw new WalFormatError(`truncated varint at byte ${this.pos}`);
      const x = b[this.pos++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 0x80;
    }
    throw new WalFormatError(`varint too long at byte ${this.pos}`);
  }

  /** Zigzag varint timestamp delta applied to `prev`, modulo 2^64 (mirror of writeRecord). */
  tsAfter(prev: bigint): bigint {
    const b = this.buf;
    const start = this.pos;
    let end = start;
    while (end < b.length && b[end]! >= 0x80) end++;
    if (end >= b.length) throw new WalFormatError(`truncated varint at byte ${start}`);
    const len = end - start + 1;
    if (len > 10) throw new WalFormatError(`varint too long at byte ${start}`);
    this.pos = end + 1;
    if (len <= 7) {
      let z = 0;
      let mul = 1;
      for (let i = start; i <= end; i++) {
        z += (b[i]! & 0x7f) * mul;
        mul *= 0x80;
      }
      const ts = prev + BigInt(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      // A small delta can still be a wrapped one (e.g. from I64_MIN to I64_MAX is -1 modulo 2^64).
      return ts > I64_MAX || ts < I64_MIN ? BigInt.asIntN(64, ts) : ts;
    }
    let z = 0n;
    for (let i = end; i >= start; i--) z = (z << 7n) | BigInt(b[i]! & 0x7f);
    z = BigInt.asUintN(64, z);
    const d = (z >> 1n) ^ -(z & 1n);
    return BigInt.asIntN(64, prev + d);
  }

  blob(): Buffer {
    const n = this.uvarint();
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  str(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  ref(): number {
    const v = this.uvarint();
    if (v > 0xffffffff) throw new WalFormatError(`ref ${v} is not a u32`);
    return v;
  }
}

/**
 * Decodes one payload. Entry lines are views into `payload` (keep `payload` alive or copy them). Throws
 * WalFormatError on an unknown type, a truncated field or trailing bytes.
 */
export function decodeRecord(payload: Buffer): WalRecord {
  const r = new Reader(payload);
  const type = r.u8();
  let rec: WalRecord;
  if (type === RECORD_SERIES) {
    const tenant = r.str();
    const ref = r.ref();
    const labels = r.str();
    rec = { type: 'series', tenant, ref, labels };
  } else if (type === RECORD_ENTRIES) {
    const tenant = r.str();
    const ref = r.ref();
    const n = r.uvarint();
    const entries: PushEntry[] = [];
    if (n > 0) {
      let prev = r.i64();
      for (let i = 0; i < n; i++) {
        const ts = r.tsAfter(prev);
        prev = ts;
        const line = r.blob();
        const mdCount = r.uvarint();
        if (mdCount === 0) {
          entries.push({ ts, line });
          continue;
        }
        const metadata: LabelPair[] = [];
        for (let j = 0; j < mdCount; j++) {
          const name = r.str();
          metadata.push([name, r.str()]);
        }
        entries.push({ ts, line, metadata });
      }
    }
    rec = { type: 'entries', tenant, ref, entries };
  } else {
    throw new WalFormatError(`unknown record type ${type}`);
  }
  if (r.pos !== payload.length) throw new WalFormatError(`${payload.length - r.pos} trailing bytes after record`);
  return rec;
}
