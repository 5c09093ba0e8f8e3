import {
  MAX_INT64,
  MIN_INT64,
  decodedUint,
  readUvarint,
  readVarint64,
  readVarintBig,
  uvarintLen,
  writeUvarint,
  writeVarintBig,
} from './varint.js';

/** Reference zigzag varint written with plain BigInt arithmetic (slow, obviously right). */
function referenceVarint(v: bigint): number[] {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

const EDGE: bigint[] = [
  0n, 1n, -1n, 63n, -64n, 64n, -65n, 127n, 128n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n,
  2n ** 32n - 1n, 2n ** 32n, 2n ** 35n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 1_700_000_000_123_456_789n,
  -1_700_000_000_123_456_789n, MAX_INT64, MIN_INT64, MAX_INT64 - 1n, MIN_INT64 + 1n,
];

describe('zigzag varint int64', () => {
  it('matches the reference encoding and round-trips edge values', () => {
    const buf = Buffer.alloc(16);
    for (const v of EDGE) {
      const end = writeVarintBig(buf, 0, v);
      expect([...buf.subarray(0, end)]).toEqual(referenceVarint(v));
      const [back, next] = readVarintBig(buf, 0, end);
      expect(back).toBe(v);
      expect(next).toBe(end);
    }
  });

  it('round-trips random 64-bit values', () => {
    const buf = Buffer.alloc(16);
    const rnd = Buffer.alloc(8);
    for (let i = 0; i < 2000; i++) {
      for (let j = 0; j < 8; j++) rnd[j] = Math.floor(Math.random() * 256);
      // Vary the magnitude so every varint length is covered.
      const v = rnd.readBigInt64BE(0) >> BigInt(i % 64);
      const end = writeVarintBig(buf, 0, v);
      expect([...buf.subarray(0, end)]).toEqual(referenceVarint(v));
      expect(readVarintBig(buf, 0, end)[0]).toBe(v);
    }
  });

  it('reports truncated and over-long varints', () => {
    const buf = Buffer.alloc(16);
    const end = writeVarintBig(buf, 0, MAX_INT64);
    expect(end).toBe(10);
    expect(readVarint64(buf, 0, end - 1)).toBe(-1);
    expect(readVarint64(Buffer.alloc(11, 0xff), 0, 11)).toBe(-1);
    expect(() => readVarintBig(buf, 0, 3)).toThrow(RangeError);
  });
});

describe('uvarint', () => {
  it('round-trips lengths up to 2^48', () => {
    const buf = Buffer.alloc(16);
    for (const v of [0, 1, 127, 128, 300, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 + 5, 2 ** 48 - 1]) {
      const end = writeUvarint(buf, 0, v);
      expect(end).toBe(uvarintLen(v));
      expect(readUvarint(buf, 0, end)).toBe(end);
      expect(decodedUint).toBe(v);
      expect(readUvarint(buf, 0, end - 1)).toBe(-1);
    }
  });
});
