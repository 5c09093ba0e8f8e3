import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.js';
import { ByteWriter, WalFormatError, decodeRecord, encodeRecord, type WalRecord } from './record.js';
import { decodeFrames, encodeRecords } from './segment.js';

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function sample(): WalRecord[] {
  return [
    { type: 'series', tenant: 'team-a', ref: 1, labels: '{app="api", env="prod"}' },
    { type: 'series', tenant: 'tenant-ü', ref: 0xffffffff, labels: `{long="${'x'.repeat(300)}", emoji="🚀"}` },
    {
      type: 'entries',
      tenant: 'team-a',
      ref: 1,
      entries: [
        { ts: 1_700_000_000_123_456_789n, line: Buffer.from('first line') }, // > 2^53
        { ts: 1_700_000_000_123_456_790n, line: allBytes, metadata: [['trace_id', 'abc123']] },
        { ts: 1_699_999_999_000_000_001n, line: Buffer.alloc(0) }, // goes back in time: negative delta
        { ts: 1_700_000_000_123_456_790n, line: Buffer.from('dup ts'), metadata: [['k', 'é'], ['k2', 'v'.repeat(100)]] },
      ],
    },
    { type: 'entries', tenant: 'team-a', ref: 7, entries: [] },
  ];
}

describe('WAL record codec', () => {
  it('round-trips series and entries records exactly', () => {
    for (const r of sample()) expect(decodeRecord(encodeRecord(r))).toEqual(r);
  });

  it('keeps int64 extremes and deltas wider than 2^63 exact', () => {
    const r: WalRecord = {
      type: 'entries',
      tenant: 't',
      ref: 3,
      entries: [I64_MIN, I64_MAX, 0n, -1n, I64_MIN + 1n, 1n << 52n, -(1n << 52n), (1n << 53n) + 1n, I64_MAX].map(
        (ts) => ({ ts, line: Buffer.from(String(ts)) }),
      ),
    };
    const back = decodeRecord(encodeRecord(r));
    expect(back).toEqual(r);
  });

  it('round-trips random int64 timestamp sequences', () => {
    const bytes = randomBytes(8 * 2000);
    const entries = Array.from({ length: 2000 }, (_, i) => {
      // mix of full-range values and small steps, the cases the two encodings of a delta cover
      const ts = i % 3 === 0 ? bytes.readBigInt64LE(i * 8) : BigInt(bytes.readInt32LE(i * 8));
      return { ts, line: Buffer.alloc(0) };
    });
    const r: WalRecord = { type: 'entries', tenant: 't', ref: 1, entries };
    expect(decodeRecord(encodeRecord(r))).toEqual(r);
  });

  it('keeps line bytes as raw bytes (no UTF-8 round trip)', () => {
    const line = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]);
    const back = decodeRecord(encodeRecord({ type: 'entries', tenant: 't', ref: 1, entries: [{ ts: 5n, line }] }));
    expect(back.type === 'entries' && back.entries[0]!.line.equals(line)).toBe(true);
  });

  it('is compact: close timestamps cost a few bytes, not 8 per entry', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      ts: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n,
      line: Buffer.from('x'),
    }));
    const size = encodeRecord({ type: 'entries', tenant: 't', ref: 1, entries }).length;
    // per entry: 3-byte ts delta + 1 length + 1 line byte + 1 metadata count
    expect(size).toBeLessThan(1000 * 7);
  });

  it('rejects a timestamp outside int64 with bad_request and a non-u32 ref with RangeError', () => {
    const bad = (ts: bigint): WalRecord => ({ type: 'entries', tenant: 't', ref: 1, entries: [{ ts, line: allBytes }] });
    expect(() => encodeRecord(bad(I64_MAX + 1n))).toThrow(EngineError);
    expect(() => encodeRecord(bad(I64_MIN - 1n))).toThrow(/int64/);
    expect(() => encodeRecord({ type: 'series', tenant: 't', ref: 2 ** 32, labels: '{}' })).toThrow(RangeError);
    expect(() => encodeRecord({ type: 'series', tenant: 't', ref: 1.5, labels: '{}' })).toThrow(RangeError);
  });

  it('throws WalFormatError (never reads past the payload) on every truncation and on trailing bytes', () => {
    for (const r of sample()) {
      const p = encodeRecord(r);
      for (let n = 0; n < p.length; n++) expect(() => decodeRecord(p.subarray(0, n))).toThrow(WalFormatError);
      expect(() => decodeRecord(Buffer.concat([p, Buffer.from([0])]))).toThrow(/trailing/);
    }
    expect(() => decodeRecord(Buffer.from([99, 0]))).toThrow(/unknown record type 99/);
  });

  it('frames records and decodes the frames back', () => {
    const records = sample();
    const { records: back, corrupt } = decodeFrames(encodeRecords(records));
    expect(corrupt).toEqual([]);
    expect(back).toEqual(records);
  });

  it('ByteWriter grows and keeps what was written', () => {
    const w = new ByteWriter(64);
    for (let i = 0; i < 1000; i++) w.str(`s${i}-${'y'.repeat(i % 50)}`);
    w.uvarint(2 ** 53);
    expect(w.length).toBeGreaterThan(64);
    expect(w.bytes()[0]).toBe(3); // one-byte length, then the bytes
    expect(w.bytes().subarray(1, 4).toString()).toBe('s0-');
  });
});
