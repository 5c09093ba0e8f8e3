import { chunkKey, parseChunkKey, type ChunkRef } from './chunk-key.js';

const ref: ChunkRef = {
  tenant: 'tenant-a',
  fingerprint: '00a1b2c3d4e5f607',
  from: 1_702_080_000_123_456_789n,
  through: 1_702_080_060_000_000_001n,
  checksum: 0xdeadbeef,
};

describe('chunkKey', () => {
  it('uses the v11 layout: fingerprint and times in one segment', () => {
    // from 1702080000123 ms rounds down, through 1702080060000.000001 ms rounds up.
    const times = `${(1702080000123).toString(16)}:${(1702080060001).toString(16)}`;
    expect(chunkKey(ref, 'v11')).toBe(`tenant-a/00a1b2c3d4e5f607:${times}:deadbeef`);
  });

  it('uses the v12 layout for v12 and v13: one directory per stream', () => {
    const k = `tenant-a/00a1b2c3d4e5f607/${(1702080000123).toString(16)}:${(1702080060001).toString(16)}:deadbeef`;
    expect(chunkKey(ref, 'v12')).toBe(k);
    expect(chunkKey(ref, 'v13')).toBe(k);
  });

  it('writes small checksums without padding', () => {
    const small = { ...ref, checksum: 0, from: 0n, through: 1_000_000n };
    expect(chunkKey(small, 'v12')).toBe('tenant-a/00a1b2c3d4e5f607/0:1:0');
  });

  it('rejects what cannot be a safe, meaningful key', () => {
    expect(() => chunkKey({ ...ref, tenant: '' }, 'v12')).toThrow(/invalid tenant/);
    expect(() => chunkKey({ ...ref, tenant: '..' }, 'v12')).toThrow(/invalid tenant/);
    expect(() => chunkKey({ ...ref, tenant: 'a/b' }, 'v12')).toThrow(/invalid tenant/);
    expect(() => chunkKey({ ...ref, fingerprint: 'ABC' }, 'v12')).toThrow(/fingerprint/);
    expect(() => chunkKey({ ...ref, through: ref.from - 1n }, 'v12')).toThrow(/time range/);
    expect(() => chunkKey({ ...ref, checksum: 2 ** 32 }, 'v12')).toThrow(/checksum/);
    expect(() => chunkKey({ ...ref, checksum: 1.5 }, 'v12')).toThrow(/checksum/);
    expect(() => chunkKey(ref, 'v10' as 'v11')).toThrow(/unknown schema/);
  });
});

describe('parseChunkKey', () => {
  it('round-trips both layouts at millisecond precision', () => {
    for (const schema of ['v11', 'v12', 'v13'] as const) {
      const p = parseChunkKey(chunkKey(ref, schema));
      expect(p).toEqual({
        tenant: 'tenant-a',
        fingerprint: ref.fingerprint,
        fromMs: 1702080000123n,
        throughMs: 1702080060001n,
        checksum: 0xdeadbeef,
        layout: schema === 'v11' ? 'v11' : 'v12',
      });
    }
  });

  it("accepts Loki's unpadded fingerprints", () => {
    expect(parseChunkKey('fake/a1b2:0:1:2').fingerprint).toBe('000000000000a1b2');
    expect(parseChunkKey('fake/a1b2/0:1:2').fingerprint).toBe('000000000000a1b2');
  });

  it('names what is wrong', () => {
    expect(() => parseChunkKey('nokey')).toThrow(/no tenant/);
    expect(() => parseChunkKey('/a:b:c:d')).toThrow(/no tenant/);
    expect(() => parseChunkKey('t/a/b/c')).toThrow(/too many/);
    expect(() => parseChunkKey('t/a:1:2')).toThrow(/want fingerprint/);
    expect(() => parseChunkKey('t/a:1:2:zz')).toThrow(/not lowercase hex/);
    expect(() => parseChunkKey('t/a:2:1:0')).toThrow(/through before from/);
    expect(() => parseChunkKey('t/a:1:2:123456789')).toThrow(/u32/);
    expect(() => parseChunkKey('../a:1:2:3')).toThrow(/invalid tenant/);
  });
});
