import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { NATIVE_SLACK, nativeAddonPath } from '../util/native.js';
import { CHUNK_ENCODINGS, codecById, codecFor, isChunkEncoding, ScratchBuffer } from './codec.js';

const text = Buffer.from('level=info msg="request served" path=/api/v1/push status=204 took=1.2ms\n'.repeat(500));
const inputs: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['repetitive text', text],
  ['random bytes', randomBytes(70_000)],
];

describe('codecs', () => {
  it('has a codec for every encoding, with unique ids that resolve back', () => {
    const ids = new Set<number>();
    for (const name of CHUNK_ENCODINGS) {
      const c = codecFor(name);
      expect(c.name).toBe(name);
      expect(codecById(c.id)).toBe(c);
      ids.add(c.id);
    }
    expect(ids.size).toBe(CHUNK_ENCODINGS.length);
    // Loki's numbering of its chunk encodings.
    expect(codecFor('none').id).toBe(0);
    expect(codecFor('gzip').id).toBe(1);
    expect(codecFor('snappy').id).toBe(4);
    expect(codecFor('lz4').id).toBe(7);
    expect(codecFor('zstd').id).toBe(9);
  });

  it('rejects unknown names and ids', () => {
    expect(() => codecById(2)).toThrow('unknown chunk encoding id 2');
    expect(() => codecById(200)).toThrow();
    expect(() => codecFor('brotli' as never)).toThrow('invalid chunk encoding');
    expect(isChunkEncoding('lz4-256k')).toBe(true);
    expect(isChunkEncoding('lz4-4M')).toBe(false);
  });

  for (const name of CHUNK_ENCODINGS) {
    describe(name, () => {
      const c = codecFor(name);
      for (const [what, input] of inputs) {
        it(`round-trips ${what} (async and sync, interchangeably)`, async () => {
          const a = await c.compress(input);
          const s = c.compressSync(input);
          expect(Buffer.compare(await c.decompress(a), input)).toBe(0);
          expect(Buffer.compare(c.decompressSync(a), input)).toBe(0);
          expect(Buffer.compare(await c.decompress(s), input)).toBe(0);
          if (name !== 'none' && what === 'repetitive text') expect(a.length).toBeLessThan(input.length / 5);
        });
      }

      it('bounds decompression by the expected size', async () => {
        const a = await c.compress(text);
        expect((await c.decompress(a, text.length)).length).toBe(text.length);
        expect(c.decompressSync(a, text.length).length).toBe(text.length);
        if (name !== 'none') {
          // A block that would inflate past what the chunk metadata promises is refused, not allocated.
          await expect(c.decompress(a, 1000)).rejects.toThrow();
          expect(() => c.decompressSync(a, 1000)).toThrow();
        }
      });

      if (name !== 'none') {
        it('rejects garbage with an error instead of crashing', async () => {
          const garbage = Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x13, 0x37, 0xff, 0xff, 0xff, 0x0f]);
          let result: Buffer | undefined;
          let failed = false;
          try {
            result = await c.decompress(garbage);
          } catch {
            failed = true;
          }
          // Some formats can decode arbitrary bytes to *something*; they must then not echo the input back.
          expect(failed || Buffer.compare(result!, garbage) !== 0).toBe(true);
        });
      }
    });
  }

  it('compresses off the event loop (timers keep firing during async gzip)', async () => {
    const big = Buffer.concat(Array.from({ length: 40 }, () => text));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await Promise.all(Array.from({ length: 8 }, () => codecFor('gzip').compress(big)));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('decompressInto (lz4 through the native addon)', () => {
  const LZ4 = CHUNK_ENCODINGS.filter((n) => n.startsWith('lz4'));
  const lines = Buffer.from(
    Array.from({ length: 4000 }, (_, i) => `ts=${i} level=${i % 7 === 0 ? 'error' : 'info'} trace=${(i * 2654435761) >>> 0}\n`).join(''),
  );
  const blocks: [string, Buffer][] = [...inputs, ['log lines', lines], ['1 MiB of random bytes', randomBytes(1 << 20)], ['one byte', Buffer.from('x')]];

  it('exists for every lz4 encoding and no other', () => {
    expect(CHUNK_ENCODINGS.filter((n) => codecFor(n).decompressInto !== undefined)).toEqual(LZ4);
  });

  for (const name of LZ4) {
    it(`${name}: gives what decompressSync gives, as a view of the scratch buffer`, () => {
      const c = codecFor(name);
      const scratch = new ScratchBuffer();
      for (const [what, input] of blocks) {
        const z = c.compressSync(input);
        const got = c.decompressInto!(z, input.length, scratch);
        expect([what, Buffer.compare(got, c.decompressSync(z, input.length))]).toEqual([what, 0]);
        expect(got.length).toBe(input.length);
        expect(scratch.holds(got)).toBe(true);
      }
    });
  }

  it('refuses a block whose stated size differs from the expected one', () => {
    const c = codecFor('lz4-256k');
    const z = c.compressSync(lines);
    const scratch = new ScratchBuffer();
    expect(() => c.decompressInto!(z, lines.length + 1, scratch)).toThrow(`block states ${lines.length} uncompressed bytes`);
    expect(() => c.decompressInto!(z, lines.length - 1, scratch)).toThrow('expected');
    expect(() => c.decompressInto!(Buffer.from([1, 2]), 0, scratch)).toThrow('block states -1 uncompressed bytes, expected 0');
  });

  it('refuses malformed blocks: truncated, decoding to fewer bytes than stated, garbage', () => {
    const c = codecFor('lz4');
    const z = c.compressSync(lines);
    const scratch = new ScratchBuffer();
    for (const cut of [5, 100, z.length >> 1, z.length - 1]) {
      expect(() => c.decompressInto!(z.subarray(0, cut), lines.length, scratch)).toThrow(/malformed lz4 block|lz4 block decoded to \d+ bytes/);
    }
    // A valid block under a size prefix that promises more than it holds.
    const short = Buffer.from(c.compressSync(Buffer.from('hello, world')));
    short.writeUInt32LE(20, 0);
    expect(() => c.decompressInto!(short, 20, scratch)).toThrow('lz4 block decoded to 12 bytes, expected 20');
    // Garbage after a plausible prefix: an error or (rarely) some bytes of the stated length, never a crash.
    for (let i = 0; i < 200; i++) {
      const g = randomBytes(4 + (i % 50));
      g.writeUInt32LE(i * 10, 0);
      try {
        expect(c.decompressInto!(g, i * 10, scratch).length).toBe(i * 10);
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
      }
    }
    // The scratch buffer still works after failures.
    expect(Buffer.compare(c.decompressInto!(z, lines.length, scratch), lines)).toBe(0);
  });
});

describe('ScratchBuffer', () => {
  const c = codecFor('lz4-64k');

  it('is reused: a second decode overwrites the first and returns its own bytes', () => {
    const scratch = new ScratchBuffer();
    const a = Buffer.from('a'.repeat(1000) + 'first');
    const b = Buffer.from('b'.repeat(1000) + 'second!');
    const first = c.decompressInto!(c.compressSync(a), a.length, scratch);
    expect(Buffer.compare(first, a)).toBe(0);
    const second = c.decompressInto!(c.compressSync(b), b.length, scratch);
    expect(Buffer.compare(second, b)).toBe(0);
    // Same memory: the first view now shows the second block's bytes. Whoever keeps data must copy it first.
    expect(second.buffer).toBe(first.buffer);
    expect(first.toString('latin1', 0, 10)).toBe('bbbbbbbbbb');
    expect(scratch.holds(first)).toBe(true);
    expect(scratch.holds(Buffer.from(second))).toBe(false);
    expect(scratch.holds(b)).toBe(false);
  });

  it('grows for a larger block, leaving views of the old buffer alone', () => {
    const scratch = new ScratchBuffer();
    const small = Buffer.from('small block '.repeat(10));
    const big = randomBytes(300_000);
    const s = c.decompressInto!(c.compressSync(small), small.length, scratch);
    const g = c.decompressInto!(c.compressSync(big), big.length, scratch);
    expect(Buffer.compare(g, big)).toBe(0);
    expect(scratch.holds(g)).toBe(true);
    expect(scratch.holds(s)).toBe(false);
    expect(Buffer.compare(s, small)).toBe(0);
    // Smaller blocks reuse the grown buffer.
    const again = c.decompressInto!(c.compressSync(small), small.length, scratch);
    expect(again.buffer).toBe(g.buffer);
    expect(Buffer.compare(again, small)).toBe(0);
  });

  it('reserves room for the decoder past the requested size, and at least 64 KiB', () => {
    const scratch = new ScratchBuffer();
    const r1 = scratch.reserve(10);
    expect(r1.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(scratch.reserve(1000)).toBe(r1);
    const r2 = scratch.reserve(r1.length);
    expect(r2.length).toBeGreaterThanOrEqual(r1.length + NATIVE_SLACK);
    expect(scratch.holds(r2)).toBe(true);
    expect(scratch.holds(r1)).toBe(false);
  });

  it('gives a block above 8 MiB a buffer of its own and keeps the smaller one', () => {
    const scratch = new ScratchBuffer();
    const kept = scratch.reserve(256 * 1024);
    const big = scratch.reserve(9 * 1024 * 1024);
    expect(big.length).toBeGreaterThanOrEqual(9 * 1024 * 1024 + NATIVE_SLACK);
    expect(scratch.holds(big)).toBe(false);
    expect(scratch.holds(kept)).toBe(true);
    expect(scratch.reserve(1000)).toBe(kept);
  });
});

describe('without the native addon', () => {
  it('has no decompressInto (readers fall back to decompressSync)', async () => {
    let m: typeof import('./codec.js') | undefined;
    await jest.isolateModulesAsync(async () => {
      // native.ts loads the addon only when its file exists: report it missing, as after STRATA_NATIVE=off builds.
      jest.unstable_mockModule('node:fs', () => ({ ...fs, existsSync: (p: string) => p !== nativeAddonPath && fs.existsSync(p) }));
      m = await import('./codec.js');
    });
    expect(m!.codecFor('lz4')).not.toBe(codecFor('lz4'));
    for (const name of CHUNK_ENCODINGS) expect([name, m!.codecFor(name).decompressInto]).toEqual([name, undefined]);
    const z = m!.codecFor('lz4').compressSync(text);
    expect(Buffer.compare(m!.codecFor('lz4').decompressSync(z, text.length), text)).toBe(0);
  });
});
