import { Encoder } from 'cbor-x';
import { fingerprint } from './fingerprint.js';
import {
  decodeIndexFile,
  encodeIndexFile,
  INDEX_FORMAT,
  indexFileKey,
  indexTablePrefix,
  parseIndexFileKey,
  type IndexSeries,
} from './index-file.js';

const fp = fingerprint('{__proto__="x", app="a"}');
const series: IndexSeries[] = [
  {
    fingerprint: fp,
    labels: [
      ['__proto__', 'x'],
      ['app', 'constructor'],
    ],
    chunks: [
      {
        tenant: 't',
        fingerprint: fp,
        from: 1_702_080_000_000_000_001n,
        through: 1_702_080_060_000_000_000n,
        checksum: 0xffffffff,
        entries: 10,
        uncompressedBytes: 1000,
        compressedBytes: 100,
      },
    ],
  },
];

describe('index file encoding', () => {
  it('round-trips exactly, with ns precision and hostile label names', () => {
    const f = decodeIndexFile(encodeIndexFile('t', 'index_19700', series), 'k');
    expect(f.format).toBe(INDEX_FORMAT);
    expect(f.tenant).toBe('t');
    expect(f.table).toBe('index_19700');
    expect(f.series).toEqual(series);
    expect(f.postings).toEqual(
      new Map([
        ['__proto__', new Map([['x', [fp]]])],
        ['app', new Map([['constructor', [fp]]])],
      ]),
    );
    expect(Object.getPrototypeOf(f.postings)).toBe(Map.prototype);
  });

  it('writes the documented structure in plain CBOR', () => {
    const buf = encodeIndexFile('t', 'tbl', []);
    // a5 = map(5); 66 "format" 01; 66 "tenant" 61 "t"; 65 "table" 63 "tbl"; 66 "series" 80; 68 "postings" a0
    expect(buf.toString('hex')).toBe(
      'a5' +
        '66' + Buffer.from('format').toString('hex') + '01' +
        '66' + Buffer.from('tenant').toString('hex') + '61' + Buffer.from('t').toString('hex') +
        '65' + Buffer.from('table').toString('hex') + '63' + Buffer.from('tbl').toString('hex') +
        '66' + Buffer.from('series').toString('hex') + '80' +
        '68' + Buffer.from('postings').toString('hex') + 'a0',
    );
  });

  it('rejects corrupt or foreign files with a message naming the source', () => {
    const enc = new Encoder({ useRecords: false, mapsAsObjects: false, variableMapSize: true });
    const doc = (over: Record<string, unknown>): Buffer =>
      enc.encode(
        new Map(Object.entries({ format: 1, tenant: 't', table: 'x', series: [], postings: new Map(), ...over })),
      );
    expect(() => decodeIndexFile(Buffer.from([0xff, 0x00]), 'key1')).toThrow(/corrupt index file key1/);
    expect(() => decodeIndexFile(enc.encode([1, 2]), 'k')).toThrow(/not a map/);
    expect(() => decodeIndexFile(doc({ format: 2 }), 'k')).toThrow(/unsupported format 2/);
    expect(() => decodeIndexFile(doc({ tenant: 5 }), 'k')).toThrow(/tenant or table/);
    expect(() => decodeIndexFile(doc({ series: [['zz', [], []]] }), 'k')).toThrow(/bad fingerprint/);
    expect(() => decodeIndexFile(doc({ series: [[fp, ['a'], []]] }), 'k')).toThrow(/labels/);
    expect(() => decodeIndexFile(doc({ series: [[fp, [], [[1, 2, 3]]]] }), 'k')).toThrow(/6-element/);
    expect(() => decodeIndexFile(doc({ series: [[fp, [], [[1, -2, 3, 4, 5, 6]]]] }), 'k')).toThrow(/unsigned/);
    expect(() => decodeIndexFile(doc({ postings: new Map([['a', 1]]) }), 'k')).toThrow(/postings/);
  });
});

describe('index file keys', () => {
  it('builds and parses index/<table>/<tenant>/<uploader>-<ms>-<seq>.cbor', () => {
    const key = indexFileKey('index_19700', 'team-a', 'ingester-0', 1702080000123, 7);
    expect(key).toBe('index/index_19700/team-a/ingester-0-1702080000123-7.cbor');
    expect(key.startsWith(indexTablePrefix('index_19700', 'team-a'))).toBe(true);
    expect(parseIndexFileKey(key)).toEqual({
      table: 'index_19700',
      tenant: 'team-a',
      uploaderId: 'ingester-0',
      unixMs: 1702080000123,
      seq: 7,
    });
  });

  it('rejects unsafe parts and ignores foreign objects', () => {
    expect(() => indexTablePrefix('index_1', '..')).toThrow(/invalid tenant/);
    expect(() => indexTablePrefix('a/b', 't')).toThrow(/invalid index table/);
    expect(() => indexFileKey('t1', 't', 'a/b', 1, 0)).toThrow(/uploader/);
    expect(() => indexFileKey('t1', 't', '.hidden', 1, 0)).toThrow(/uploader/);
    expect(() => indexFileKey('t1', 't', 'u', 1, -1)).toThrow(/sequence/);
    expect(() => indexFileKey('t1', 't', 'u', 1.5, 0)).toThrow(/time/);
    expect(() => indexFileKey('t1', '', 'u', 1, 0)).toThrow(/invalid tenant/);
    expect(parseIndexFileKey('index/t1/t/u-1-0.json')).toBeUndefined();
    expect(parseIndexFileKey('index/t1/t/sub/u-1-0.cbor')).toBeUndefined();
    expect(parseIndexFileKey('chunks/t1/t/u-1-0.cbor')).toBeUndefined();
    expect(parseIndexFileKey('index/t1/t/u-x-0.cbor')).toBeUndefined();
  });
});
