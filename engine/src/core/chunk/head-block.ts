import { EngineError } from '../errors.js';
import type { LabelPair } from '../model.js';
import { MAX_INT64, MIN_INT64, MAX_VARINT64_LEN, writeUvarint, writeVarintBig } from './varint.js';

/** Room above the capacity hint for the entry that crosses it. */
const HINT_SLACK = 4096;

/** Room for a uvarint length prefix of anything that fits in a Buffer. */
const MAX_UVARINT_LEN = 7;

/**
 * The head block: the entries appended since the last cut, encoded straight into one growing Buffer in the block
 * entry layout (docs/chunk-format.md). There is no per-entry object, so an idle stream costs one small Buffer
 * plus this object. Entries are kept in append order; `outOfOrder` tells the cut to sort them.
 */
export class HeadBlock {
  private buf: Buffer;
  private len = 0;
  private _count = 0;
  private _minTs = 0n;
  private _maxTs = 0n;
  private _outOfOrder = false;
  /** Start of the last appended entry in `buf` (valid when count > 0). */
  private lastStart = 0;
  private lastTs = 0n;
  /** The encoding of the entry appended last before this head was started (dedup across a cut). */
  private prev: Buffer | undefined;

  /**
   * @param capacityHint the size the head is normally cut at (the chunk's block size): growth stops doubling
   *   there, so a 256 KiB block does not end in a 512 KiB buffer. Past it, growth doubles again.
   */
  constructor(
    readonly withMetadata: boolean,
    private readonly capacityHint = Infinity,
    initialCapacity = 256,
  ) {
    this.buf = allocate(initialCapacity);
  }

  /** A fresh head that still deduplicates against the last entry of `previous` (the head that was just cut). */
  static after(previous: HeadBlock): HeadBlock {
    // A head is cut when it is full, so the stream is busy: start the next one at the size it grew to instead of
    // regrowing from 256 B by doubling (measured: that regrowth was 6% of push CPU and most of the GC pressure).
    const h = new HeadBlock(previous.withMetadata, previous.capacityHint, Math.max(256, previous.buf.length));
    if (previous._count > 0) {
      h.prev = Buffer.from(previous.buf.subarray(previous.lastStart, previous.len));
      h.lastTs = previous.lastTs;
    } else {
      h.prev = previous.prev;
      h.lastTs = previous.lastTs;
    }
    return h;
  }

  get count(): number {
    return this._count;
  }
  /** Encoded (uncompressed) size of the entries in bytes. */
  get size(): number {
    return this.len;
  }
  get isEmpty(): boolean {
    return this._count === 0;
  }
  /** Smallest timestamp (0n when empty). */
  get minTs(): bigint {
    return this._minTs;
  }
  /** Largest timestamp (0n when empty). */
  get maxTs(): bigint {
    return this._maxTs;
  }
  /** True when some entry arrived with a timestamp below an earlier one. */
  get outOfOrder(): boolean {
    return this._outOfOrder;
  }

  /** The encoded entries, in append order. A view: bytes already written never change. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /**
   * Append one entry. Returns false (and stores nothing) when it is identical — timestamp, line and metadata — to
   * the entry appended just before it.
   */
  append(ts: bigint, line: Buffer, metadata?: readonly LabelPair[]): boolean {
    if (ts < MIN_INT64 || ts > MAX_INT64) {
      throw new EngineError('bad_request', `timestamp ${ts} is outside the int64 nanosecond range`);
    }
    const pairs = metadata === undefined ? 0 : metadata.length;
    if (pairs > 0 && !this.withMetadata) {
      throw new EngineError('bad_request', 'structured metadata is not supported by chunk format v3');
    }
    let need = MAX_VARINT64_LEN + MAX_UVARINT_LEN + line.length;
    if (this.withMetadata) {
      need += MAX_UVARINT_LEN;
      for (let i = 0; i < pairs; i++) {
        need += 2 * MAX_UVARINT_LEN + Buffer.byteLength(metadata![i]![0]) + Buffer.byteLength(metadata![i]![1]);
      }
    }
    if (this.len + need > this.buf.length) this.grow(this.len + need);

    const buf = this.buf;
    const start = this.len;
    let p = writeVarintBig(buf, start, ts);
    p = writeUvarint(buf, p, line.length);
    p += line.copy(buf, p);
    if (this.withMetadata) {
      p = writeUvarint(buf, p, pairs);
      for (let i = 0; i < pairs; i++) {
        const [name, value] = metadata![i]!;
        p = writeUvarint(buf, p, Buffer.byteLength(name));
        p += buf.write(name, p);
        p = writeUvarint(buf, p, Buffer.byteLength(value));
        p += buf.write(value, p);
      }
    }

    // The encoding is deterministic, so "identical entry" is "identical bytes". The new entry was written past
    // `len`; dropping it is just not advancing `len`.
    if (ts === this.lastTs) {
      if (this._count > 0) {
        const ls = this.lastStart;
        if (start - ls === p - start && buf.compare(buf, ls, start, start, p) === 0) return false;
      } else if (this.prev !== undefined) {
        if (this.prev.length === p - start && this.prev.compare(buf, start, p) === 0) return false;
      }
    }

    if (this._count === 0) {
      this._minTs = ts;
      this._maxTs = ts;
    } else if (ts < this._maxTs) {
      this._outOfOrder = true;
      if (ts < this._minTs) this._minTs = ts;
    } else {
      this._maxTs = ts;
    }
    this.len = p;
    this.lastStart = start;
    this.lastTs = ts;
    this.prev = undefined;
    this._count++;
    return true;
  }

  private grow(min: number): void {
    const old = this.buf.length;
    let cap = old * 2;
    while (cap < min) cap *= 2;
    // Entries are small next to a block, so the cut comes soon after the hint: stop just past it.
    const limit = this.capacityHint + HINT_SLACK;
    if (old < limit && cap > limit) cap = Math.max(min, limit);
    const next = allocate(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/**
 * One ArrayBuffer per head. Measured alternatives were worse: slicing Node's shared pool lets long-lived heads pin
 * 8 KiB slabs of request garbage, and a private slab wastes the slot a head leaves when it grows.
 */
function allocate(size: number): Buffer {
  return Buffer.allocUnsafeSlow(size);
}
