import type { Labels } from '../model.js';
import { fingerprint } from './fingerprint.js';
import { decodeIndexFile, type ChunkStats } from './index-file.js';
import type { ChunkRef } from '../storage/chunk-key.js';
import { TableIndexBuilder } from './table-index.js';

const labels: Labels = [
  ['app', 'api'],
  ['env', 'prod'],
];
const canonical = '{app="api", env="prod"}';
const fp = fingerprint(canonical);

const stats: ChunkStats = { entries: 5, uncompressedBytes: 50, compressedBytes: 20 };

function chunk(from: bigint, through: bigint, checksum: number, over: Partial<ChunkRef> = {}): ChunkRef {
  return { tenant: 't', fingerprint: fp, from, through, checksum, ...over };
}

it('indexes chunks per series, sorted by from, once each', () => {
  const b = new TableIndexBuilder('t', 'index_1');
  b.addChunk(labels, canonical, chunk(30n, 40n, 3), stats);
  b.addChunk(labels, canonical, chunk(10n, 20n, 1), stats);
  b.addChunk(labels, canonical, chunk(10n, 20n, 1), stats); // a retried flush
  b.addChunk(labels, canonical, chunk(10n, 15n, 2), stats);
  const other: Labels = [['app', 'web']];
  b.addChunk(other, '{app="web"}', chunk(1n, 2n, 9, { fingerprint: fingerprint('{app="web"}') }), stats);
  expect(b.seriesCount).toBe(2);
  expect(b.chunkCount).toBe(4);

  const f = decodeIndexFile(b.toBuffer(), 'mem');
  expect(f.series.map((s) => s.fingerprint)).toEqual([fp, fingerprint('{app="web"}')].sort());
  const s = f.series.find((x) => x.fingerprint === fp)!;
  expect(s.labels).toEqual(labels);
  expect(s.chunks.map((c) => [c.from, c.through, c.checksum])).toEqual([
    [10n, 15n, 2],
    [10n, 20n, 1],
    [30n, 40n, 3],
  ]);
  expect(f.postings.get('app')).toEqual(
    new Map([
      ['api', [fp]],
      ['web', [fingerprint('{app="web"}')]],
    ]),
  );
});

it('refuses chunks that would make a wrong index', () => {
  const b = new TableIndexBuilder('t', 'index_1');
  expect(() => b.addChunk(labels, canonical, chunk(1n, 2n, 0, { tenant: 'u' }), stats)).toThrow(/tenant/);
  expect(() => b.addChunk(labels, '{app="api"}', chunk(1n, 2n, 0), stats)).toThrow(/is not the fingerprint/);
  expect(() => b.addChunk(labels, canonical, chunk(3n, 2n, 0), stats)).toThrow(/before from/);
  expect(() => b.addChunk(labels, canonical, chunk(1n, 2n, 0), { ...stats, entries: -1 })).toThrow(/non-negative/);
  expect(() =>
    b.addChunk(
      [
        ['env', 'prod'],
        ['app', 'api'],
      ],
      canonical,
      chunk(1n, 2n, 0),
      stats,
    ),
  ).toThrow(/not sorted/);
  b.addChunk(labels, canonical, chunk(1n, 2n, 0), stats);
  expect(() => b.addChunk([['app', 'other']], canonical, chunk(5n, 6n, 0), stats)).toThrow(/fingerprint collision/);
  expect(() => new TableIndexBuilder('a/b', 'index_1')).toThrow(/invalid tenant/);
});

it('keeps its own copy of what it was given', () => {
  const b = new TableIndexBuilder('t', 'index_1');
  const c = { ...stats };
  const l: [string, string][] = [
    ['app', 'api'],
    ['env', 'prod'],
  ];
  b.addChunk(l, canonical, chunk(1n, 2n, 0), c);
  c.entries = 999;
  l[0]![1] = 'changed';
  const s = decodeIndexFile(b.toBuffer(), 'mem').series[0]!;
  expect(s.chunks[0]!.entries).toBe(5);
  expect(s.labels).toEqual(labels);
});
