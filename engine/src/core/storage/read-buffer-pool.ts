/**
 * Buffers for reading chunk objects, reused from one read to the next. A query over the store reads hundreds of MB
 * of chunk objects; as fresh Buffers they are external memory, and every 64 MB of it makes V8 run a full garbage
 * collection (ADR 0008). The querier gives a chunk's buffer back once the chunk is wholly consumed and nothing can
 * still point into it (ADR 0013).
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  /** The ArrayBuffers this pool allocated: only those may come back (a client may ignore the pool). */
  private readonly own = new WeakSet<ArrayBufferLike>();

  /**
   * `maxFree` buffers are kept at most, none above `maxSize` bytes (a larger object gets a buffer of its own that is
   * never kept).
   */
  constructor(
    private readonly maxFree = 32,
    private readonly maxSize = 16 * 1024 * 1024,
  ) {}

  /** A buffer of exactly `size` bytes (a view of a pooled one); its contents are undefined. */
  readonly take = (size: number): Buffer => {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.length < size) continue;
      free[i] = free[free.length - 1]!;
      free.pop();
      return b.subarray(0, size);
    }
    if (size > this.maxSize) return Buffer.allocUnsafeSlow(size);
    // Rounded up, so a buffer fits the next objects of about the same size.
    const b = Buffer.allocUnsafeSlow(Math.ceil(Math.max(size, 1) / ROUND) * ROUND);
    this.own.add(b.buffer);
    return b.subarray(0, size);
  };

  /** Gives back a buffer from `take` (or a view of it) that nothing uses any more; others are ignored. */
  release(b: Buffer): void {
    const ab = b.buffer;
    if (!this.own.has(ab) || this.free.length >= this.maxFree) return;
    const whole = Buffer.from(ab, 0, ab.byteLength);
    if (this.free.some((f) => f.buffer === ab)) return;
    this.free.push(whole);
  }

  /** Buffers waiting to be reused (tests). */
  get size(): number {
    return this.free.length;
  }
}

const ROUND = 256 * 1024;
