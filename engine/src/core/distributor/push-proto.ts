import { badRequest, EngineError } from '../errors.js';
import type { LabelPair, PushEntry, PushRequest, PushStream } from '../model.js';

/**
 * Hand-written protobuf codec for `logproto.PushRequest` (engine/proto/push.proto). Hand-written because it is the
 * hottest path of the write side: lines come out as zero-copy `subarray`s of the request buffer and timestamps go
 * straight to exact bigint nanoseconds, with no intermediate message objects.
 *
 * Messages and field numbers:
 *   PushRequest      1: repeated StreamAdapter streams
 *   StreamAdapter    1: string labels   2: repeated EntryAdapter entries   3: uint64 hash (ignored)
 *   EntryAdapter     1: Timestamp timestamp   2: string line   3: repeated LabelPairAdapter structuredMetadata
 *   Timestamp        1: int64 seconds   2: int32 nanos
 *   LabelPairAdapter 1: string name   2: string value
 *
 * Unknown fields are skipped by wire type. Malformed input throws EngineError('bad_request') with the texts of the
 * gogo-protobuf decoder Loki uses; every loop advances or throws, so no input can make it spin.
 */

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_SGROUP = 3;
const WT_EGROUP = 4;
const WT_I32 = 5;

const NS_PER_SECOND = 1_000_000_000n;
const errUnexpectedEOF = (): EngineError => badRequest('unexpected EOF');
const errIntOverflow = (): EngineError => badRequest('proto: integer overflow');

/**
 * Decoder state lives in module variables rather than in an object passed around: nothing is allocated per call
 * and the small read functions stay monomorphic. Decoding is synchronous, so calls never interleave.
 */
let buf: Buffer = Buffer.alloc(0);
let pos = 0;

/** Varint that must fit in a JS number exactly (lengths, tags): at most 2^53 - 1, otherwise an error. */
function readSmallVarint(): number {
  let b = buf[pos++];
  if (b === undefined) throw errUnexpectedEOF();
  if (b < 0x80) return b;
  let result = b & 0x7f;
  let mul = 0x80;
  for (let i = 1; i < 10; i++) {
    b = buf[pos++];
    if (b === undefined) throw errUnexpectedEOF();
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) throw errIntOverflow();
      return result;
    }
    mul *= 0x80;
  }
  throw errIntOverflow();
}

/** Varint as a signed 64-bit integer (two's complement, as int64/int32 fields are encoded). */
function readInt64(): bigint {
  let big = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos++];
    if (b === undefined) throw errUnexpectedEOF();
    big |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, big);
    shift += 7n;
  }
  throw errIntOverflow();
}

/** Length of a LEN field, checked against the end of the enclosing message. */
function readLength(end: number): number {
  const n = readSmallVarint();
  if (n > end - pos) throw errUnexpectedEOF();
  return n;
}

function skipField(wireType: number, fieldNum: number, end: number): void {
  switch (wireType) {
    case WT_VARINT:
      for (let i = 0; ; i++) {
        if (i >= 10) throw errIntOverflow();
        if (pos >= end) throw errUnexpectedEOF();
        if (buf[pos++]! < 0x80) break;
      }
      return;
    case WT_I64:
      if (end - pos < 8) throw errUnexpectedEOF();
      pos += 8;
      return;
    case WT_LEN: {
      const n = readLength(end); // not `pos += readLength()`: that would add to the position before the length
      pos += n;
      return;
    }
    case WT_I32:
      if (end - pos < 4) throw errUnexpectedEOF();
      pos += 4;
      return;
    case WT_SGROUP: {
      // Deprecated groups: skip nested fields until the matching end-group tag. Iterative, so depth is unbounded
      // without growing the stack.
      const open: number[] = [fieldNum];
      while (open.length > 0) {
        if (pos >= end) throw errUnexpectedEOF();
        const tag = readSmallVarint();
        const wt = tag & 7;
        const fn = Math.floor(tag / 8);
        if (fn <= 0) throw badRequest(`proto: illegal tag ${fn} (wire type ${wt})`);
        if (wt === WT_EGROUP) {
          if (open.pop() !== fn) throw badRequest('proto: mismatched end group');
        } else if (wt === WT_SGROUP) {
          open.push(fn);
        } else {
          skipField(wt, fn, end);
        }
      }
      if (pos > end) throw errUnexpectedEOF();
      return;
    }
    case WT_EGROUP:
      throw badRequest('proto: unexpected end group');
    default:
      throw badRequest(`proto: illegal wireType ${wireType}`);
  }
}

/** Reads a tag and validates it; returns field number * 8 + wire type (the raw tag) for a cheap switch. */
function readTag(msg: string): number {
  const tag = readSmallVarint();
  // Tags are uint32 on the wire; field 0 does not exist.
  if (tag < 8 || tag > 0xffffffff) {
    throw badRequest(`proto: ${msg}: illegal tag ${tag < 8 ? 0 : Math.floor(tag / 8)} (wire type ${tag % 8})`);
  }
  return tag;
}

function wrongWireType(tag: number, field: string): EngineError {
  return badRequest(`proto: wrong wireType = ${tag & 7} for field ${field}`);
}

/** Tags as they appear on the wire: (field << 3) | wire type. */
const TAG_1_LEN = (1 << 3) | WT_LEN;
const TAG_2_LEN = (2 << 3) | WT_LEN;
const TAG_3_LEN = (3 << 3) | WT_LEN;
const TAG_1_VARINT = (1 << 3) | WT_VARINT;
const TAG_2_VARINT = (2 << 3) | WT_VARINT;

/**
 * Decodes an (already snappy-decompressed) protobuf PushRequest. Lines are `subarray`s of `input`: they keep the
 * whole input buffer alive, so callers that retain lines long-term should copy them (the head block does).
 */
export function decodePushProto(input: Buffer): PushRequest {
  buf = input;
  pos = 0;
  const streams: PushStream[] = [];
  try {
    const end = input.length;
    while (pos < end) {
      const tag = readTag('PushRequest');
      if (tag === TAG_1_LEN) {
        const len = readLength(end);
        streams.push(readStream(pos + len));
      } else if (tag >>> 3 === 1) {
        throw wrongWireType(tag, 'Streams');
      } else {
        skipField(tag & 7, Math.floor(tag / 8), end);
      }
    }
  } finally {
    // Do not pin the last request body in memory between calls.
    buf = EMPTY;
  }
  return { streams };
}

const EMPTY = Buffer.alloc(0);

function readStream(end: number): PushStream {
  let labels = '';
  const entries: PushEntry[] = [];
  while (pos < end) {
    const tag = readTag('StreamAdapter');
    switch (tag) {
      case TAG_1_LEN: {
        const len = readLength(end);
        labels = buf.toString('utf8', pos, pos + len);
        pos += len;
        break;
      }
      case TAG_2_LEN: {
        const len = readLength(end);
        entries.push(readEntry(pos + len));
        break;
      }
      default:
        if (tag >>> 3 === 1) throw wrongWireType(tag, 'Labels');
        if (tag >>> 3 === 2) throw wrongWireType(tag, 'Entries');
        skipField(tag & 7, Math.floor(tag / 8), end);
    }
  }
  if (pos !== end) throw errUnexpectedEOF();
  return { labels, entries };
}

function readEntry(end: number): PushEntry {
  let ts = 0n;
  let line: Buffer = EMPTY;
  let metadata: LabelPair[] | undefined;
  while (pos < end) {
    const tag = readTag('EntryAdapter');
    switch (tag) {
      case TAG_1_LEN: {
        const len = readLength(end);
        ts = readTimestamp(pos + len);
        break;
      }
      case TAG_2_LEN: {
        const len = readLength(end);
        line = buf.subarray(pos, pos + len);
        pos += len;
        break;
      }
      case TAG_3_LEN: {
        const len = readLength(end);
        (metadata ??= []).push(readLabelPair(pos + len));
        break;
      }
      default:
        if (tag >>> 3 === 1) throw wrongWireType(tag, 'Timestamp');
        if (tag >>> 3 === 2) throw wrongWireType(tag, 'Line');
        if (tag >>> 3 === 3) throw wrongWireType(tag, 'StructuredMetadata');
        skipField(tag & 7, Math.floor(tag / 8), end);
    }
  }
  if (pos !== end) throw errUnexpectedEOF();
  return metadata === undefined ? { ts, line } : { ts, line, metadata };
}

/** Entries of one push mostly share their second: remember the last `seconds * 1e9` to save BigInt work. */
let lastSeconds = -1;
let lastSecondsNs = 0n;

function readTimestamp(end: number): bigint {
  // Numbers while the values are small non-negative varints (the usual case), bigint otherwise.
  let seconds = 0;
  let nanos = 0;
  let bigSeconds: bigint | undefined;
  let bigNanos: bigint | undefined;
  while (pos < end) {
    const tag = readTag('Timestamp');
    switch (tag) {
      case TAG_1_VARINT:
        seconds = readSmallNonNegative();
        bigSeconds = seconds < 0 ? readInt64() : undefined;
        break;
      case TAG_2_VARINT:
        nanos = readSmallNonNegative();
        // int32 on the wire: negative values are sign-extended to 64 bits; keep the low 32 bits as Go does.
        bigNanos = nanos < 0 ? BigInt.asIntN(32, readInt64()) : undefined;
        break;
      default:
        if (tag >>> 3 === 1) throw wrongWireType(tag, 'Seconds');
        if (tag >>> 3 === 2) throw wrongWireType(tag, 'Nanos');
        skipField(tag & 7, Math.floor(tag / 8), end);
    }
  }
  if (pos !== end) throw errUnexpectedEOF();
  let base: bigint;
  if (bigSeconds !== undefined) {
    base = bigSeconds * NS_PER_SECOND;
  } else if (seconds === lastSeconds) {
    base = lastSecondsNs;
  } else {
    base = BigInt(seconds) * NS_PER_SECOND;
    lastSeconds = seconds;
    lastSecondsNs = base;
  }
  if (bigNanos !== undefined) return base + bigNanos;
  return nanos === 0 ? base : base + BigInt(nanos);
}

/**
 * A varint of at most 7 bytes (< 2^49, exact in a double). Returns -1 and leaves `pos` unchanged when the varint
 * is longer, so the caller re-reads it as a 64-bit value.
 */
function readSmallNonNegative(): number {
  const start = pos;
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    const b = buf[pos++];
    if (b === undefined) throw errUnexpectedEOF();
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 0x80;
  }
  pos = start;
  return -1;
}

function readLabelPair(end: number): LabelPair {
  let name = '';
  let value = '';
  while (pos < end) {
    const tag = readTag('LabelPairAdapter');
    switch (tag) {
      case TAG_1_LEN: {
        const len = readLength(end);
        name = buf.toString('utf8', pos, pos + len);
        pos += len;
        break;
      }
      case TAG_2_LEN: {
        const len = readLength(end);
        value = buf.toString('utf8', pos, pos + len);
        pos += len;
        break;
      }
      default:
        if (tag >>> 3 === 1) throw wrongWireType(tag, 'Name');
        if (tag >>> 3 === 2) throw wrongWireType(tag, 'Value');
        skipField(tag & 7, Math.floor(tag / 8), end);
    }
  }
  if (pos !== end) throw errUnexpectedEOF();
  return [name, value];
}

// --- encoding -------------------------------------------------------------------------------------------------

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Size of an int64 field's varint: negative values always take 10 bytes. */
function int64Size(v: bigint): number {
  if (v < 0n) return 10;
  if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return varintSize(Number(v));
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
}

/** Splits exact nanoseconds into a protobuf Timestamp (nanos always in [0, 1e9), seconds floored). */
function splitTimestamp(ts: bigint): { seconds: bigint; nanos: number } {
  let seconds = ts / NS_PER_SECOND;
  let nanos = ts % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  if (seconds < INT64_MIN || seconds > INT64_MAX) throw badRequest(`timestamp ${ts} is out of range`);
  return { seconds, nanos: Number(nanos) };
}

class Writer {
  pos = 0;
  constructor(readonly out: Buffer) {}

  varint(n: number): void {
    const out = this.out;
    while (n >= 0x80) {
      out[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 0x80);
    }
    out[this.pos++] = n;
  }

  int64(v: bigint): void {
    if (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.varint(Number(v));
      return;
    }
    let u = BigInt.asUintN(64, v);
    const out = this.out;
    while (u >= 0x80n) {
      out[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    out[this.pos++] = Number(u);
  }

  bytes(tag: number, b: Buffer): void {
    this.out[this.pos++] = tag;
    this.varint(b.length);
    b.copy(this.out, this.pos);
    this.pos += b.length;
  }

  string(tag: number, s: string, byteLength: number): void {
    this.out[this.pos++] = tag;
    this.varint(byteLength);
    this.pos += this.out.write(s, this.pos, byteLength, 'utf8');
  }
}

const lenField = (n: number): number => 1 + varintSize(n) + n;

/**
 * Encodes a PushRequest as protobuf (not snappy-compressed). Empty strings, zero timestamps parts and absent
 * metadata are omitted, as proto3 does. Used by tests, benchmarks and the engine's own clients.
 */
export function encodePushProto(req: PushRequest): Buffer {
  // Pass 1: sizes (kept so pass 2 does not recompute them).
  const sizes: number[] = [];
  let total = 0;
  for (const stream of req.streams) {
    const labelsLen = Buffer.byteLength(stream.labels);
    let streamSize = labelsLen > 0 ? lenField(labelsLen) : 0;
    sizes.push(0, labelsLen);
    const streamIdx = sizes.length - 2;
    for (const e of stream.entries) {
      const { seconds, nanos } = splitTimestamp(e.ts);
      const tsSize = (seconds !== 0n ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
      let entrySize = lenField(tsSize) + (e.line.length > 0 ? lenField(e.line.length) : 0);
      sizes.push(0, tsSize);
      const entryIdx = sizes.length - 2;
      for (const [name, value] of e.metadata ?? []) {
        const n = Buffer.byteLength(name);
        const v = Buffer.byteLength(value);
        const pairSize = (n > 0 ? lenField(n) : 0) + (v > 0 ? lenField(v) : 0);
        sizes.push(n, v, pairSize);
        entrySize += lenField(pairSize);
      }
      sizes[entryIdx] = entrySize;
      streamSize += lenField(entrySize);
    }
    sizes[streamIdx] = streamSize;
    total += lenField(streamSize);
  }

  // Pass 2: write.
  const w = new Writer(Buffer.allocUnsafe(total));
  let k = 0;
  for (const stream of req.streams) {
    const streamSize = sizes[k++]!;
    const labelsLen = sizes[k++]!;
    w.out[w.pos++] = TAG_1_LEN;
    w.varint(streamSize);
    if (labelsLen > 0) w.string(TAG_1_LEN, stream.labels, labelsLen);
    for (const e of stream.entries) {
      const entrySize = sizes[k++]!;
      const tsSize = sizes[k++]!;
      w.out[w.pos++] = TAG_2_LEN;
      w.varint(entrySize);
      const { seconds, nanos } = splitTimestamp(e.ts);
      w.out[w.pos++] = TAG_1_LEN;
      w.varint(tsSize);
      if (seconds !== 0n) {
        w.out[w.pos++] = TAG_1_VARINT;
        w.int64(seconds);
      }
      if (nanos !== 0) {
        w.out[w.pos++] = TAG_2_VARINT;
        w.varint(nanos);
      }
      if (e.line.length > 0) w.bytes(TAG_2_LEN, e.line);
      for (const [name, value] of e.metadata ?? []) {
        const n = sizes[k++]!;
        const v = sizes[k++]!;
        const pairSize = sizes[k++]!;
        w.out[w.pos++] = TAG_3_LEN;
        w.varint(pairSize);
        if (n > 0) w.string(TAG_1_LEN, name, n);
        if (v > 0) w.string(TAG_2_LEN, value, v);
      }
    }
  }
  if (w.pos !== total) throw new EngineError('internal', `encodePushProto: wrote ${w.pos} bytes, expected ${total}`);
  return w.out;
}
