import { EngineError } from '../errors.js';
import type { LabelPair } from '../model.js';
import { CHUNK_ENCODINGS, codecFor, type ChunkEncoding } from './codec.js';
import { ChunkReader, decodeChunk } from './chunk-format.js';
import { BLOCKS_PER_CHUNK, MemChunk, type ChunkEntry } from './mem-chunk.js';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
/** A `through` past int64: no upper bound. */
const ALL = 2n ** 63n;
const NOW = 1_700_000_000_123_456_789n; // > 2^53: a JS number would lose the last digits

interface In {
  ts: bigint;
  line: Buffer;
  metadata?: LabelPair[];
}

const simple = (e: ChunkEntry) => [e.ts, e.line.toString('latin1'), e.metadata];
const simpleIn = (e: In) => [e.ts, e.line.toString('latin1'), e.metadata?.length ? e.metadata : undefined];

function sample(withMetadata: boolean): In[] {
  const es: In[] = [
    { ts: 0n, line: Buffer.from('zero') },
    { ts: 1n, line: Buffer.alloc(0) },
    { ts: 2n ** 53n + 1n, line: Buffer.from('héllo wörld ✓ 🚀') },
    { ts: NOW, line: Buffer.from([0, 1, 2, 255, 254, 0x0a, 0xc3, 0x28]) },
  ];
  for (let i = 0; i < 400; i++) {
    es.push({
      ts: NOW + BigInt(i) * 1_000_003n,
      line: Buffer.from(`level=info i=${i} msg="${'x'.repeat(i % 97)}"`),
      metadata: withMetadata && i % 3 === 0 ? [['trace_id', `t${i}`], ['ünï', '🚀']] : undefined,
    });
  }
  es.push({ ts: MAX, line: Buffer.from('last') });
  return es;
}

function fill(c: MemChunk, es: In[]): void {
  for (const e of es) expect(c.append(e.ts, e.line, e.metadata)).toBe(true);
}

async function fillAndCut(c: MemChunk, es: In[]): Promise<void> {
  for (const e of es) {
    expect(c.append(e.ts, e.line, e.metadata)).toBe(true);
    if (c.needsCut()) await c.cutBlock();
  }
}

describe('MemChunk round trip', () => {
  for (const encoding of CHUNK_ENCODINGS) {
    for (const structuredMetadata of [false, true]) {
      it(`${encoding}, format v${structuredMetadata ? 4 : 3}`, async () => {
        const es = sample(structuredMetadata);
        const c = new MemChunk({ encoding, blockSize: 2048, targetSize: 0, structuredMetadata });
        await fillAndCut(c, es);
        expect(c.blockCount).toBeGreaterThan(3);
        expect(c.headBytes).toBeGreaterThan(0);
        const want = es.map(simpleIn);
        expect((await c.readEntries(MIN, ALL, 'forward')).map(simple)).toEqual(want);
        expect(c.snapshotEntries().map(simple)).toEqual(want);

        const buf = await c.encode();
        expect(c.headBytes).toBe(0);
        const r = await decodeChunk(buf);
        expect(r.encoding).toBe(encoding);
        expect(r.formatVersion).toBe(structuredMetadata ? 4 : 3);
        expect(r.entryCount).toBe(es.length);
        expect(r.blockCount).toBe(c.blockCount);
        expect(r.minTs).toBe(0n);
        expect(r.maxTs).toBe(MAX);
        expect(c.minTs).toBe(0n);
        expect(c.maxTs).toBe(MAX);
        expect(r.uncompressedBytes).toBe(c.uncompressedBytes);
        expect(r.compressedBytes).toBe(c.compressedBytes);
        expect((await r.readEntries(MIN, ALL, 'forward')).map(simple)).toEqual(want);
        expect((await r.readEntries(MIN, ALL, 'backward')).map(simple)).toEqual([...want].reverse());
        expect((await c.readEntries(MIN, ALL, 'backward')).map(simple)).toEqual([...want].reverse());
        // through is exclusive: the entry at MAX is only reachable with an unbounded through.
        expect((await r.readEntries(MIN, MAX, 'forward')).map(simple)).toEqual(want.slice(0, -1));
      });
    }
  }

  it('keeps negative timestamps', async () => {
    const c = new MemChunk({ encoding: 'lz4', structuredMetadata: false });
    fill(c, [
      { ts: MIN, line: Buffer.from('min') },
      { ts: -5n, line: Buffer.from('neg') },
      { ts: -1n, line: Buffer.from('minus one') },
    ]);
    const r = ChunkReader.from(await c.encode());
    expect((await r.readEntries(MIN, 0n, 'forward')).map(simple)).toEqual([
      [MIN, 'min', undefined],
      [-5n, 'neg', undefined],
      [-1n, 'minus one', undefined],
    ]);
    expect(r.minTs).toBe(MIN);
  });

  it('encodes an empty chunk', async () => {
    const c = new MemChunk();
    const r = ChunkReader.from(await c.encode());
    expect(r.blockCount).toBe(0);
    expect(r.entryCount).toBe(0);
    expect(r.minTs).toBe(0n);
    expect(await r.readEntries(MIN, MAX, 'forward')).toEqual([]);
    expect(c.minTs).toBe(0n);
    expect(c.maxTs).toBe(0n);
  });

  it('rejects structured metadata in a v3 chunk', () => {
    const c = new MemChunk({ structuredMetadata: false });
    expect(() => c.append(1n, Buffer.from('x'), [['a', 'b']])).toThrow(EngineError);
    expect(c.entryCount).toBe(0);
  });

  it('rejects invalid options', () => {
    expect(() => new MemChunk({ encoding: 'lzma' as ChunkEncoding })).toThrow('invalid chunk encoding');
    expect(() => new MemChunk({ blockSize: 0 })).toThrow('block size');
    expect(() => new MemChunk({ targetSize: -1 })).toThrow('target size');
  });
});

describe('MemChunk reads', () => {
  // Blocks of 10 entries each: ts 0..99 step 1, lines "l<ts>".
  async function hundred(): Promise<[MemChunk, ChunkReader, Buffer]> {
    const c = new MemChunk({ encoding: 'snappy', blockSize: 1 << 20, structuredMetadata: true });
    for (let i = 0; i < 100; i++) {
      c.append(BigInt(i), Buffer.from(`l${i}`), i % 2 ? [['odd', 'yes']] : undefined);
      if (i % 10 === 9 && i < 90) await c.cutBlock();
    }
    // The last ten entries stay in the head for the MemChunk reads; encode() cuts them (on a copy of the state).
    const buf = await structuredCloneChunk(c);
    return [c, ChunkReader.from(buf), buf];
  }

  async function structuredCloneChunk(c: MemChunk): Promise<Buffer> {
    const twin = new MemChunk({ encoding: c.encoding, structuredMetadata: true });
    for (const e of await c.readEntries(MIN, MAX, 'forward')) {
      twin.append(e.ts, e.line, e.metadata);
      if (e.ts % 10n === 9n) await twin.cutBlock();
    }
    return twin.encode();
  }

  it('from is inclusive, through exclusive, in both directions', async () => {
    const [c, r] = await hundred();
    for (const src of [c, r]) {
      const f = await src.readEntries(15n, 32n, 'forward');
      expect(f.map((e) => e.ts)).toEqual(Array.from({ length: 17 }, (_, i) => BigInt(15 + i)));
      expect(f[0]!.metadata).toEqual([['odd', 'yes']]);
      expect(f[1]!.metadata).toBeUndefined();
      const b = await src.readEntries(15n, 32n, 'backward');
      expect(b.map((e) => e.ts)).toEqual(Array.from({ length: 17 }, (_, i) => BigInt(31 - i)));
      expect(await src.readEntries(20n, 20n, 'forward')).toEqual([]);
      expect(await src.readEntries(30n, 20n, 'forward')).toEqual([]);
      expect(await src.readEntries(100n, 200n, 'forward')).toEqual([]);
      expect((await src.readEntries(99n, 100n, 'forward')).map((e) => e.line.toString())).toEqual(['l99']);
    }
  });

  it('applies the filter to raw line bytes, only for entries in range', async () => {
    const [c, r] = await hundred();
    for (const src of [c, r]) {
      const seen: Buffer[] = [];
      const es = await src.readEntries(10n, 30n, 'backward', (line) => {
        seen.push(line);
        expect(Buffer.isBuffer(line)).toBe(true);
        return line.includes('2');
      });
      expect(seen.length).toBe(20);
      expect(es.map((e) => e.line.toString())).toEqual(['l29', 'l28', 'l27', 'l26', 'l25', 'l24', 'l23', 'l22', 'l21', 'l20', 'l12']);
    }
  });

  it('never loads blocks outside the range', async () => {
    const [, r, encoded] = await hundred();
    const buf = Buffer.from(encoded);
    // Corrupt block 0 (ts 0..9): reads that do not touch it still work.
    buf[r.blocks[0]!.offset + 1]! ^= 0xff;
    const bad = ChunkReader.from(buf);
    expect((await bad.readEntries(10n, 100n, 'forward')).length).toBe(90);
    await expect(bad.readEntries(5n, 15n, 'forward')).rejects.toThrow('block 0 checksum mismatch');
  });

  it('rejects an invalid direction', async () => {
    const [c] = await hundred();
    await expect(c.readEntries(0n, 10n, 'sideways' as 'forward')).rejects.toThrow('invalid direction');
  });
});

describe('out-of-order entries and dedup', () => {
  it('sorts an out-of-order head when cut and when read, dropping identical pairs', async () => {
    const c = new MemChunk({ encoding: 'lz4', structuredMetadata: true });
    const seq: [bigint, string][] = [[50n, 'a'], [10n, 'b'], [50n, 'c'], [30n, 'd'], [50n, 'a'], [10n, 'b'], [10n, 'e']];
    for (const [ts, l] of seq) c.append(ts, Buffer.from(l));
    const want = [[10n, 'b'], [10n, 'e'], [30n, 'd'], [50n, 'a'], [50n, 'c']];
    expect((await c.readEntries(0n, 100n, 'forward')).map((e) => [e.ts, e.line.toString()])).toEqual(want);
    expect(c.entryCount).toBe(7);
    await c.cutBlock();
    expect(c.entryCount).toBe(5);
    expect((await c.readEntries(0n, 100n, 'forward')).map((e) => [e.ts, e.line.toString()])).toEqual(want);
    const r = ChunkReader.from(await c.encode());
    expect(r.entryCount).toBe(5);
    expect(r.blocks[0]).toMatchObject({ minTs: 10n, maxTs: 50n, entries: 5 });
    expect((await r.readEntries(0n, 100n, 'backward')).map((e) => [e.ts, e.line.toString()])).toEqual(
      [...want].reverse(),
    );
  });

  it('merges blocks that overlap in time; equal timestamps keep append order (reversed backward)', async () => {
    const c = new MemChunk({ encoding: 'gzip', structuredMetadata: false });
    c.append(10n, Buffer.from('b0-10'));
    c.append(20n, Buffer.from('b0-20'));
    c.append(30n, Buffer.from('b0-30'));
    await c.cutBlock();
    c.append(15n, Buffer.from('b1-15'));
    c.append(20n, Buffer.from('b1-20'));
    c.append(40n, Buffer.from('b1-40'));
    await c.cutBlock();
    c.append(5n, Buffer.from('h-5'));
    c.append(20n, Buffer.from('h-20'));
    const fwd = ['h-5', 'b0-10', 'b1-15', 'b0-20', 'b1-20', 'h-20', 'b0-30', 'b1-40'];
    for (const src of [c, ChunkReader.from(await c.encode())]) {
      expect((await src.readEntries(0n, 100n, 'forward')).map((e) => e.line.toString())).toEqual(fwd);
      expect((await src.readEntries(0n, 100n, 'backward')).map((e) => e.line.toString())).toEqual([...fwd].reverse());
    }
  });

  it('drops an entry identical to the previous one, also across a cut', async () => {
    const c = new MemChunk({ structuredMetadata: true });
    expect(c.append(1n, Buffer.from('x'), [['k', 'v']])).toBe(true);
    expect(c.append(1n, Buffer.from('x'), [['k', 'v']])).toBe(false);
    expect(c.append(1n, Buffer.from('x'), [['k', 'w']])).toBe(true);
    await c.cutBlock();
    expect(c.append(1n, Buffer.from('x'), [['k', 'w']])).toBe(false);
    expect(c.append(2n, Buffer.from('x'), [['k', 'w']])).toBe(true);
    expect(c.entryCount).toBe(3);
  });
});

describe('cutting and sizing', () => {
  it('needs a cut once the head reaches blockSize', async () => {
    const c = new MemChunk({ encoding: 'lz4', blockSize: 1000, targetSize: 0 });
    let appended = 0;
    while (!c.needsCut()) {
      c.append(BigInt(appended), Buffer.alloc(90, 0x61));
      appended++;
    }
    expect(c.headBytes).toBeGreaterThanOrEqual(1000);
    expect(appended).toBe(11); // 11 × (1 ts + 1 len + 90 line + 1 metadata count) = 1023
    expect(c.uncompressedBytes).toBe(c.headBytes);
    await c.cutBlock();
    expect(c.needsCut()).toBe(false);
    expect(c.headBytes).toBe(0);
    expect(c.blockCount).toBe(1);
    expect(c.entryCount).toBe(11);
    expect(c.uncompressedBytes).toBe(1023);
    expect(c.compressedBytes).toBeGreaterThan(0);
    expect(c.compressedBytes).toBeLessThan(200);
    await c.cutBlock(); // empty head: no block
    expect(c.blockCount).toBe(1);
  });

  it('is full when compressed blocks plus the head reach targetSize', async () => {
    const c = new MemChunk({ encoding: 'none', blockSize: 1024, targetSize: 4096, structuredMetadata: false });
    let i = 0;
    while (!c.isFull()) {
      c.append(BigInt(i++), Buffer.alloc(100, 0x62));
      if (c.needsCut()) await c.cutBlock();
    }
    expect(c.compressedBytes + c.headBytes).toBeGreaterThanOrEqual(4096);
    expect(c.compressedBytes + c.headBytes).toBeLessThan(4096 + 103);
  });

  it('is full after a fixed number of blocks when targetSize is 0', async () => {
    const c = new MemChunk({ encoding: 'snappy', blockSize: 100, targetSize: 0 });
    for (let i = 0; i < BLOCKS_PER_CHUNK; i++) {
      expect(c.isFull()).toBe(false);
      c.append(BigInt(i), Buffer.alloc(120, 0x63));
      await c.cutBlock();
    }
    expect(c.isFull()).toBe(true);
  });

  it('compression shrinks what counts toward the target', async () => {
    const c = new MemChunk({ encoding: 'zstd', blockSize: 64 * 1024, targetSize: 10_000 });
    for (let i = 0; i < 500; i++) c.append(BigInt(i), Buffer.from(`the same-ish log line number ${i % 10}`));
    const before = c.headBytes;
    expect(c.isFull()).toBe(true);
    await c.cutBlock();
    expect(c.compressedBytes).toBeLessThan(before / 10);
    expect(c.isFull()).toBe(false);
  });
});

describe('snapshotEntries', () => {
  it('returns every entry synchronously: blocks (also while compressing), sorted head, in time order', async () => {
    const c = new MemChunk({ encoding: 'zstd', structuredMetadata: true });
    c.append(10n, Buffer.from('a'), [['k', 'v']]);
    c.append(20n, Buffer.from('b'));
    await c.cutBlock();
    c.append(30n, Buffer.from('c'));
    const inFlight = c.cutBlock();
    c.append(MAX, Buffer.from('max'));
    c.append(15n, Buffer.from('late'));
    const got = c.snapshotEntries().map((e) => [e.ts, e.line.toString(), e.metadata]);
    await inFlight;
    expect(got).toEqual([
      [10n, 'a', [['k', 'v']]],
      [15n, 'late', undefined],
      [20n, 'b', undefined],
      [30n, 'c', undefined],
      [MAX, 'max', undefined],
    ]);
    expect(c.snapshotEntries().length).toBe(5);
    expect(new MemChunk().snapshotEntries()).toEqual([]);
  });
});

describe('concurrency', () => {
  it('loses and duplicates nothing appended while a cut is compressing', async () => {
    const c = new MemChunk({ encoding: 'gzip', blockSize: 4096, structuredMetadata: true });
    const want: string[] = [];
    let ts = 0n;
    const add = () => {
      const line = `entry ${ts} ${'y'.repeat(50)}`;
      c.append(ts++, Buffer.from(line), [['n', String(ts)]]);
      want.push(line);
    };
    for (let i = 0; i < 100; i++) add();
    const cuts: Promise<void>[] = [];
    for (let round = 0; round < 5; round++) {
      cuts.push(c.cutBlock()); // not awaited: compression is in flight
      for (let i = 0; i < 50; i++) add();
      // Reads during the in-flight compression see the block through its raw bytes.
      const mid = await c.readEntries(0n, ts, 'forward');
      expect(mid.map((e) => e.line.toString())).toEqual(want);
    }
    const encoding = c.encode(); // cuts the head; later appends stay out of this chunk
    for (let i = 0; i < 10; i++) add();
    await Promise.all(cuts);
    const r = ChunkReader.from(await encoding);
    expect(r.entryCount).toBe(350);
    expect((await r.readEntries(0n, ts, 'forward')).map((e) => e.line.toString())).toEqual(want.slice(0, 350));
    expect(c.entryCount).toBe(360);
    expect((await c.readEntries(0n, ts, 'forward')).map((e) => e.line.toString())).toEqual(want);
    // Blocks keep cut order.
    const mins = r.blocks.map((b) => b.minTs);
    expect([...mins].sort((a, b) => (a < b ? -1 : 1))).toEqual(mins);
  });

  it('keeps a block whose compression failed and compresses it again on encode', async () => {
    const codec = codecFor('lz4-64k');
    const original = codec.compress;
    const c = new MemChunk({ encoding: 'lz4-64k', structuredMetadata: false });
    c.append(1n, Buffer.from('precious'));
    (codec as { compress: typeof original }).compress = () => Promise.reject(new Error('out of memory'));
    try {
      await expect(c.cutBlock()).rejects.toThrow('out of memory');
    } finally {
      (codec as { compress: typeof original }).compress = original;
    }
    expect(c.blockCount).toBe(1);
    expect((await c.readEntries(0n, 10n, 'forward')).map((e) => e.line.toString())).toEqual(['precious']);
    c.append(2n, Buffer.from('more'));
    const r = ChunkReader.from(await c.encode());
    expect((await r.readEntries(0n, 10n, 'forward')).map((e) => e.line.toString())).toEqual(['precious', 'more']);
  });
});
