import { randomBytes } from 'node:crypto';
import { CHUNK_ENCODINGS, codecById, codecFor, isChunkEncoding } from './codec.js';

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
