import type { IndexReader, SeriesChunks } from '../index/index-reader.js';
import { MemChunk } from '../chunk/mem-chunk.js';
import type { StreamEntries } from '../ingester/ingester.js';
import type { IngesterReader } from '../ingester/memory-stream.js';
import { LabelMatcher } from '../logql/syntax/matcher.js';
import { bytesIn, IndexStatsReader, mergeStats, overlapFactor, type StreamUsage } from './index-stats.js';

const chunk = (from: bigint, through: bigint, entries: number, bytes: number) => ({
  from,
  through,
  checksum: 1,
  fingerprint: 'fp-a',
  tenant: 't',
  entries,
  uncompressedBytes: bytes,
  compressedBytes: 1,
});

/** A fake index and ingester: only the two reads the stats reader uses. */
function reader(store: SeriesChunks[], memory: StreamEntries[]): { r: IndexStatsReader; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const index = { series: async (...a: unknown[]) => (calls.push(['series', ...a]), store) } as unknown as IndexReader;
  // The memory as real in-memory chunks, one per stream, read the way the querier reads them.
  const chunks = memory.map((m) => {
    const chunk = new MemChunk({ structuredMetadata: true });
    for (const e of m.entries) chunk.append(e.ts, e.line, e.metadata);
    return { labels: m.labels, canonical: m.canonical, fingerprint: m.fingerprint, chunks: [{ chunk, ref: undefined }] };
  });
  const ingester = {
    chunks: async (...a: unknown[]) => (calls.push(['chunks', ...a]), chunks),
  } as unknown as IngesterReader;
  return { r: new IndexStatsReader(index, ingester), calls };
}

describe('IndexStatsReader', () => {
  it('adds unflushed memory to the index: streams once, memory as one head chunk per stream', async () => {
    const { r, calls } = reader(
      [{ labels: [['app', 'a']], fingerprint: 'fp-a', chunks: [chunk(10n, 20n, 5, 500)] }],
      [
        {
          labels: [['app', 'a']],
          canonical: '{app="a"}',
          fingerprint: 'fp-a',
          entries: [
            { ts: 15n, line: Buffer.from('flushed, still retained') }, // inside the flushed chunk: counted once
            { ts: 30n, line: Buffer.from('abc'), metadata: [['k', 'vv']] },
          ],
        },
        { labels: [['app', 'b']], canonical: '{app="b"}', fingerprint: 'fp-b', entries: [{ ts: 40n, line: Buffer.from('hello') }] },
      ],
    );
    const m = [new LabelMatcher('=~', 'app', '.+')];
    expect(await r.stats('t', m, 0n, 100n)).toEqual({ streams: 2, chunks: 3, entries: 7, bytes: 500 + 6 + 5 });
    // The memory read is inclusive of `through` like the index's.
    expect(calls[1]).toEqual(['chunks', 't', m, 0n, 101n]);
  });

  it('merges several tenants by summing', () => {
    expect(
      mergeStats([
        { streams: 1, chunks: 2, entries: 3, bytes: 4 },
        { streams: 10, chunks: 20, entries: 30, bytes: 40 },
      ]),
    ).toEqual({ streams: 11, chunks: 22, entries: 33, bytes: 44 });
  });
});

describe('prorating', () => {
  it('counts the share of a chunk inside the range', () => {
    expect(overlapFactor(0n, 100n, 0n, 100n)).toBe(1);
    expect(overlapFactor(50n, 100n, 0n, 100n)).toBe(0.5);
    expect(overlapFactor(101n, 200n, 0n, 100n)).toBe(0);
    expect(overlapFactor(0n, 10n, 5n, 5n)).toBe(1);
  });

  it('adds in-memory entries in the range exactly', () => {
    const u: StreamUsage = {
      labels: [],
      fingerprint: '',
      chunks: [{ from: 0n, through: 100n, entries: 10, bytes: 1000 }],
      memoryTs: [150n, 250n],
      memoryBytes: [7, 9],
    };
    expect(bytesIn(u, 50n, 200n)).toEqual({ bytes: 507, entries: 6 });
  });
});
