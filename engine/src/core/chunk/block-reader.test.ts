import { EngineError } from '../errors.js';
import type { Direction, LabelPair } from '../model.js';
import { compileBlockFilter, type BlockFilter, type LineFilterSpec } from './block-filter.js';
import { entriesOf, entriesOfSources, loadBlocksSync, loadTransient, type BlockSource, type ChunkEntry, type LineFilter } from './block-reader.js';
import { codecFor, ScratchBuffer, type ChunkEncoding } from './codec.js';
import { ChunkReader } from './chunk-format.js';
import { codecBlockSource, MemChunk } from './mem-chunk.js';

const MIN = -(2n ** 63n);
/** A `through` past int64: no upper bound. */
const ALL = 2n ** 63n;
const T0 = 1_700_000_000_000_000_000n;
const N = 2000;

const simple = (e: ChunkEntry): unknown[] => [e.ts, e.line.toString('latin1'), e.metadata];

/**
 * A chunk of `N` entries cut into ~4 KiB blocks, the last ones left in the head. Lines carry `group=<i/300>`, so a
 * filter on one group rejects most blocks wholly, and every 7th line is `level=error`, so a filter on it keeps some
 * lines of every block. With `overlap`, the second half goes back in time: its blocks overlap the first half's.
 */
async function buildChunk(encoding: ChunkEncoding, withMetadata: boolean, overlap: boolean): Promise<MemChunk> {
  const c = new MemChunk({ encoding, blockSize: 4096, targetSize: 0, structuredMetadata: withMetadata });
  for (let i = 0; i < N; i++) {
    const t = overlap && i >= N / 2 ? T0 + BigInt(i - N / 2) * 1000n + 500n : T0 + BigInt(i) * 1000n;
    const line = Buffer.from(`i=${i} level=${i % 7 === 0 ? 'error' : 'info'} group=${Math.floor(i / 300)} msg="${'x'.repeat(i % 50)}"`);
    const md: LabelPair[] | undefined = withMetadata && i % 5 === 0 ? [['trace_id', `t${i}`]] : undefined;
    expect(c.append(t, line, md)).toBe(true);
    if (c.needsCut()) await c.cutBlock();
  }
  expect(c.headBytes).toBeGreaterThan(0);
  return c;
}

const FILTERS: [string, () => LineFilter | BlockFilter | undefined][] = [
  ['no filter', () => undefined],
  ['a filter that rejects most blocks wholly', () => compileBlockFilter([{ op: '|=', values: ['group=3 '] }])],
  ['a filter that keeps some lines of every block', () => compileBlockFilter([{ op: '|=', values: ['level=error'] }])],
  ['a regexp and a negation', () => compileBlockFilter([{ op: '|~', values: ['x{45}'] }, { op: '!=', values: ['group=0 '] } as LineFilterSpec])],
  ['a filter that rejects everything', () => compileBlockFilter([{ op: '|=', values: ['nowhere to be found'] }])],
  ['a line predicate', () => (l: Buffer) => l.includes('i=1')],
];

const RANGES: [bigint, bigint][] = [
  [MIN, ALL],
  [T0 + 250_000n, T0 + 1_700_000n],
  [T0 + 999_000n, T0 + 1_000_001n],
  [T0 + 5n * 10n ** 9n, ALL],
  [T0 + 100n, T0 + 100n],
];

/** Both ways of reading: all blocks loaded, then entriesOf; one by one through the scratch buffer. */
function bothWays(
  sources: readonly BlockSource[],
  withMetadata: boolean,
  from: bigint,
  through: bigint,
  direction: Direction,
  filter: () => LineFilter | BlockFilter | undefined,
  scratch: ScratchBuffer,
): { want: ChunkEntry[]; got: ChunkEntry[] } {
  const want = entriesOf(loadBlocksSync(sources, from, through), withMetadata, from, through, direction, filter());
  const got = entriesOfSources(sources, withMetadata, from, through, direction, filter(), scratch);
  return { want, got };
}

describe('entriesOfSources', () => {
  for (const withMetadata of [false, true]) {
    for (const overlap of [false, true]) {
      it(`returns what entriesOf returns (lz4-256k, format v${withMetadata ? 4 : 3}${overlap ? ', blocks overlapping in time' : ''})`, async () => {
        const c = await buildChunk('lz4-256k', withMetadata, overlap);
        const memSources = c.blockSources(true);
        const stored = ChunkReader.from(await c.encode()).blockSources(true);
        // Cut blocks decompress into the scratch buffer; the head block (no loadInto) is loaded as it is.
        expect(memSources.filter((s) => s.loadInto !== undefined).length).toBe(memSources.length - 1);
        expect(stored.every((s) => s.loadInto !== undefined)).toBe(true);
        expect(stored.length).toBeGreaterThan(20);
        const scratch = new ScratchBuffer();
        let nonEmpty = 0;
        for (const sources of [memSources, stored]) {
          for (const [what, filter] of FILTERS) {
            for (const [from, through] of RANGES) {
              for (const direction of ['forward', 'backward'] as const) {
                const { want, got } = bothWays(sources, withMetadata, from, through, direction, filter, scratch);
                expect([what, from, through, direction, got.length]).toEqual([what, from, through, direction, want.length]);
                expect(got.map(simple)).toEqual(want.map(simple));
                // Lines were copied out of the scratch buffer.
                expect(got.some((e) => scratch.holds(e.line))).toBe(false);
                if (got.length > 0) nonEmpty++;
              }
            }
          }
        }
        expect(nonEmpty).toBeGreaterThan(50);
      });
    }
  }

  it('returns entries that stay intact while the scratch buffer decodes other blocks', async () => {
    const c = await buildChunk('lz4-256k', true, false);
    const sources = ChunkReader.from(await c.encode()).blockSources(true);
    const scratch = new ScratchBuffer();
    const kept = entriesOfSources(sources, true, MIN, ALL, 'forward', compileBlockFilter([{ op: '|=', values: ['level=error'] }]), scratch);
    const some = entriesOfSources(sources, true, T0 + 1_000_000n, ALL, 'backward', undefined, scratch);
    expect(kept.length).toBe(Math.ceil(N / 7));
    const before = kept.map(simple);
    const beforeSome = some.map(simple);
    // Decode everything again, and other data, into the same scratch buffer.
    for (const [, filter] of FILTERS) entriesOfSources(sources, true, MIN, ALL, 'backward', filter(), scratch);
    for (const s of sources) loadTransient(s, scratch);
    const lz4 = codecFor('lz4-256k');
    const noise = Buffer.alloc(300_000, 0x7e);
    lz4.decompressInto!(lz4.compressSync(noise), noise.length, scratch);
    expect(kept.map(simple)).toEqual(before);
    expect(some.map(simple)).toEqual(beforeSome);
    expect(kept.every((e) => e.line.toString().includes('level=error'))).toBe(true);
  });

  it('needs the copy: a block loaded into the scratch buffer is overwritten by the next load', async () => {
    const c = await buildChunk('lz4-256k', false, false);
    const [s0, s1] = ChunkReader.from(await c.encode()).blockSources(true);
    const scratch = new ScratchBuffer();
    const b0 = loadTransient(s0!, scratch);
    const copy = Buffer.from(b0.data);
    expect(scratch.holds(b0.data)).toBe(true);
    expect(Buffer.compare(copy, s0!.load() as Buffer)).toBe(0);
    const b1 = loadTransient(s1!, scratch);
    expect(scratch.holds(b1.data)).toBe(true);
    expect(Buffer.compare(b1.data, s1!.load() as Buffer)).toBe(0);
    expect(Buffer.compare(b0.data.subarray(0, 64), copy.subarray(0, 64))).not.toBe(0);
    expect(b0).toMatchObject({ sorted: true, label: 'chunk block 0' });
  });

  it('loads sources without loadInto as they are (codecs without decompressInto, the head block)', async () => {
    for (const encoding of ['gzip', 'snappy', 'none'] as const) {
      const c = await buildChunk(encoding, false, true);
      const sources = c.blockSources(true);
      expect(sources.every((s) => s.loadInto === undefined)).toBe(true);
      const scratch = new ScratchBuffer();
      const b = loadTransient(sources[0]!, scratch);
      expect(scratch.holds(b.data)).toBe(false);
      for (const [, filter] of FILTERS.slice(0, 3)) {
        const { want, got } = bothWays(sources, false, MIN, ALL, 'forward', filter, scratch);
        expect(got.map(simple)).toEqual(want.map(simple));
      }
    }
  });

  it('reports a corrupt block with its name instead of crashing', () => {
    const lz4 = codecFor('lz4-256k');
    const good = lz4.compressSync(Buffer.from('a'.repeat(5000)));
    const bad = Buffer.from(good.subarray(0, good.length - 3));
    const src = codecBlockSource(lz4, 'block 7', { minTs: 0n, maxTs: 10n }, bad, true, 5000, true);
    const scratch = new ScratchBuffer();
    let err: unknown;
    try {
      entriesOfSources([src], false, MIN, ALL, 'forward', undefined, scratch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).message).toMatch(/^block 7: lz4-256k decompression failed: (malformed lz4 block|lz4 block decoded to \d+ bytes)/);
  });

  it('rejects an invalid direction', () => {
    expect(() => entriesOfSources([], false, MIN, ALL, 'sideways' as Direction, undefined, new ScratchBuffer())).toThrow('invalid direction');
  });
});
