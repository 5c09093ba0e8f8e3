import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { EngineError } from '../errors.js';
import type { PushRequest } from '../model.js';
import { decodePushProto, encodePushProto } from './push-proto.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../../proto/push.proto', import.meta.url)));
const PushRequestType = root.lookupType('logproto.PushRequest');

interface PbTimestamp {
  seconds: string;
  nanos: number;
}
interface PbEntry {
  timestamp?: PbTimestamp;
  line: string;
  structuredMetadata: { name: string; value: string }[];
}
interface PbRequest {
  streams: { labels: string; hash?: string; entries: PbEntry[] }[];
}

/** Encodes with protobufjs from a plain object (seconds as decimal strings, so int64 stays exact). */
function pbEncode(obj: PbRequest): Buffer {
  return Buffer.from(PushRequestType.encode(PushRequestType.fromObject(obj)).finish());
}

function pbDecode(buf: Buffer): PbRequest {
  return PushRequestType.toObject(PushRequestType.decode(buf), { longs: String, defaults: true, arrays: true }) as PbRequest;
}

const NS = 1_000_000_000n;

/** What our decoder must produce for a protobufjs object: ts = seconds * 1e9 + nanos, exactly. */
function expected(obj: PbRequest): PushRequest {
  return {
    streams: obj.streams.map((s) => ({
      labels: s.labels,
      entries: s.entries.map((e) => {
        const ts = BigInt(e.timestamp?.seconds ?? '0') * NS + BigInt(e.timestamp?.nanos ?? 0);
        const line = Buffer.from(e.line);
        const md = e.structuredMetadata.map((p) => [p.name, p.value] as [string, string]);
        return md.length > 0 ? { ts, line, metadata: md } : { ts, line };
      }),
    })),
  };
}

function expectDecodesTo(actual: PushRequest, want: PushRequest): void {
  expect(actual.streams.length).toBe(want.streams.length);
  actual.streams.forEach((s, i) => {
    const w = want.streams[i]!;
    expect(s.labels).toBe(w.labels);
    expect(s.entries.length).toBe(w.entries.length);
    s.entries.forEach((e, j) => {
      const we = w.entries[j]!;
      expect(e.ts).toBe(we.ts);
      expect(e.line.equals(we.line)).toBe(true);
      expect(e.metadata).toEqual(we.metadata);
    });
  });
}

const INT64_MIN = '-9223372036854775808';
const INT64_MAX = '9223372036854775807';

const sample: PbRequest = {
  streams: [
    {
      labels: '{app="api", env="prod"}',
      hash: '18446744073709551615',
      entries: [
        { timestamp: { seconds: '1700000000', nanos: 123456789 }, line: 'hello world', structuredMetadata: [] },
        { timestamp: { seconds: '1700000000', nanos: 0 }, line: '', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] },
        { timestamp: { seconds: '0', nanos: 0 }, line: 'epoch', structuredMetadata: [] },
        { timestamp: { seconds: '-1', nanos: 999999999 }, line: 'just before the epoch', structuredMetadata: [] },
        { timestamp: { seconds: '5', nanos: -7 }, line: 'negative nanos', structuredMetadata: [] },
        { timestamp: { seconds: '9223372036', nanos: 854775807 }, line: 'max int64 ns', structuredMetadata: [] },
        { timestamp: { seconds: INT64_MAX, nanos: 999999999 }, line: 'max seconds', structuredMetadata: [] },
        { timestamp: { seconds: INT64_MIN, nanos: -2147483648 }, line: 'min seconds, min nanos', structuredMetadata: [] },
        { timestamp: { seconds: '4398046511104', nanos: 1 }, line: '2^42 seconds (7-byte varint)', structuredMetadata: [] },
        { timestamp: { seconds: '562949953421312', nanos: 2 }, line: '2^49 seconds (8-byte varint)', structuredMetadata: [] },
        { line: 'no timestamp at all', structuredMetadata: [] },
        {
          timestamp: { seconds: '1', nanos: 1 },
          line: 'üñíçødé ✓ 😀',
          structuredMetadata: [
            { name: 'b', value: 'ü' },
            { name: 'a', value: '' },
            { name: 'b', value: 'dup kept in order' },
          ],
        },
      ],
    },
    { labels: '', entries: [] },
    { labels: '{x="y"}', entries: [{ timestamp: { seconds: '2', nanos: 3 }, line: 'x'.repeat(300), structuredMetadata: [] }] },
  ],
};

describe('decodePushProto', () => {
  it('decodes what protobufjs encodes from push.proto, exactly (nanos, negatives, int64 extremes)', () => {
    const buf = pbEncode(sample);
    expectDecodesTo(decodePushProto(buf), expected(sample));
  });

  it('returns lines as zero-copy views of the input', () => {
    const buf = pbEncode(sample);
    const req = decodePushProto(buf);
    const line = req.streams[0]!.entries[0]!.line;
    expect(line.buffer).toBe(buf.buffer);
    buf[line.byteOffset - buf.byteOffset] = 'J'.charCodeAt(0);
    expect(line.toString()).toBe('Jello world');
  });

  it('decodes an empty body as a request without streams', () => {
    expect(decodePushProto(Buffer.alloc(0))).toEqual({ streams: [] });
  });

  it('skips unknown fields of every wire type, including groups', () => {
    const w = new protobuf.Writer();
    // PushRequest with unknown fields around one stream.
    w.uint32((9 << 3) | 0).uint64('18446744073709551615'); // varint
    w.uint32((10 << 3) | 1).fixed64(1); // i64
    w.uint32((11 << 3) | 5).fixed32(1); // i32
    w.uint32((12 << 3) | 2).bytes(Buffer.from('ignored'));
    w.uint32((13 << 3) | 3); // group with a nested group inside
    w.uint32((1 << 3) | 0).uint32(5);
    w.uint32((2 << 3) | 3).uint32((1 << 3) | 2).string('nested').uint32((2 << 3) | 4);
    w.uint32((13 << 3) | 4);
    const stream = new protobuf.Writer();
    stream.uint32((1 << 3) | 2).string('{a="b"}');
    stream.uint32((7 << 3) | 2).string('unknown in stream');
    const entry = new protobuf.Writer();
    entry.uint32((9 << 3) | 0).uint32(1);
    entry.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).int64(10).uint32((3 << 3) | 0).uint32(99).uint32((2 << 3) | 0).int32(5).ldelim();
    entry.uint32((2 << 3) | 2).string('line');
    entry.uint32((3 << 3) | 2).fork().uint32((5 << 3) | 0).uint32(1).uint32((1 << 3) | 2).string('k').uint32((2 << 3) | 2).string('v').ldelim();
    entry.uint32((4 << 3) | 2).fork().uint32((1 << 3) | 2).string('parsed, a field Loki uses in responses').ldelim();
    stream.uint32((2 << 3) | 2).bytes(entry.finish());
    w.uint32((1 << 3) | 2).bytes(stream.finish());
    const req = decodePushProto(Buffer.from(w.finish()));
    expect(req.streams).toHaveLength(1);
    expect(req.streams[0]!.labels).toBe('{a="b"}');
    const e = req.streams[0]!.entries[0]!;
    expect(e.ts).toBe(10n * NS + 5n);
    expect(e.line.toString()).toBe('line');
    expect(e.metadata).toEqual([['k', 'v']]);
  });

  it('accepts a non-minimal varint length (padding bytes), as protobuf decoders must', () => {
    // streams: tag 0x0a, length 2 encoded in 2 bytes (0x82 0x00), then an empty labels field (0a 00).
    const buf = Buffer.from([0x0a, 0x82, 0x00, 0x0a, 0x00]);
    expect(decodePushProto(buf)).toEqual({ streams: [{ labels: '', entries: [] }] });
  });

  const malformed: [string, number[], string][] = [
    ['a truncated length', [0x0a, 0x05, 0x0a], 'unexpected EOF'],
    ['a length past the end of the parent message', [0x0a, 0x02, 0x0a, 0x05, 0x61, 0x62], 'unexpected EOF'],
    ['field number 0', [0x00, 0x01], 'proto: PushRequest: illegal tag 0 (wire type 0)'],
    ['a varint longer than 10 bytes', [0x48, ...Array<number>(11).fill(0xff), 0x01], 'proto: integer overflow'],
    ['a truncated varint', [0x48, 0xff], 'unexpected EOF'],
    ['wire type 6', [(9 << 3) | 6], 'proto: illegal wireType 6'],
    ['a stray end-group', [(9 << 3) | 4], 'proto: unexpected end group'],
    ['an unterminated group', [(9 << 3) | 3, 0x08, 0x01], 'unexpected EOF'],
    ['a mismatched end-group', [(9 << 3) | 3, (8 << 3) | 4], 'proto: mismatched end group'],
    ['streams with the wrong wire type', [0x08, 0x01], 'proto: wrong wireType = 0 for field Streams'],
    ['labels with the wrong wire type', [0x0a, 0x02, 0x08, 0x01], 'proto: wrong wireType = 0 for field Labels'],
    ['seconds with the wrong wire type', [0x0a, 0x06, 0x12, 0x04, 0x0a, 0x02, 0x0a, 0x00], 'proto: wrong wireType = 2 for field Seconds'],
    ['a truncated fixed64', [(9 << 3) | 1, 1, 2, 3], 'unexpected EOF'],
    ['a huge length', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], 'unexpected EOF'],
  ];
  it.each(malformed)('rejects %s with a 400', (_name, bytes, message) => {
    let err: unknown;
    try {
      decodePushProto(Buffer.from(bytes));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('bad_request');
    expect((err as EngineError).message).toBe(message);
  });

  it('never crashes or hangs on random corruption of a valid request', () => {
    const valid = pbEncode(sample);
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    for (let k = 0; k < 3000; k++) {
      const buf = Buffer.from(valid);
      const mutations = 1 + rnd(4);
      for (let m = 0; m < mutations; m++) buf[rnd(buf.length)] = rnd(256);
      const cut = rnd(3) === 0 ? buf.subarray(0, rnd(buf.length)) : buf;
      try {
        decodePushProto(cut);
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(EngineError);
        expect((e as EngineError).code).toBe('bad_request');
      }
    }
    expect(accepted).toBeGreaterThan(0); // some corruptions only touch bytes of lines
  });
});

describe('encodePushProto', () => {
  it('produces bytes protobufjs decodes to the same request (exact int64 seconds and nanos)', () => {
    const req = expected(sample);
    // INT64_MIN seconds with negative nanos normalises to seconds below INT64_MIN: not encodable (tested below).
    const first = req.streams[0]!;
    req.streams[0] = { ...first, entries: first.entries.filter((e) => e.line.toString() !== 'min seconds, min nanos') };
    // Negative nanos are normalised on encode (seconds floored, 0 <= nanos < 1e9), like Go's time.Time.
    const decoded = pbDecode(encodePushProto(req));
    decoded.streams.forEach((s, i) => {
      expect(s.labels).toBe(req.streams[i]!.labels);
      s.entries.forEach((e, j) => {
        const want = req.streams[i]!.entries[j]!;
        const ts = BigInt(e.timestamp?.seconds ?? '0') * NS + BigInt(e.timestamp?.nanos ?? 0);
        expect(ts).toBe(want.ts);
        expect(e.timestamp?.nanos ?? 0).toBeGreaterThanOrEqual(0);
        expect(e.timestamp?.nanos ?? 0).toBeLessThan(1e9);
        expect(Buffer.from(e.line).equals(want.line)).toBe(true);
        expect(e.structuredMetadata.map((p) => [p.name, p.value])).toEqual(want.metadata ?? []);
      });
    });
  });

  it('round-trips through decodePushProto, including binary lines that are not UTF-8', () => {
    const req: PushRequest = {
      streams: [
        {
          labels: '{a="b"}',
          entries: [
            { ts: -1n, line: Buffer.from([0xff, 0x00, 0xc3]) },
            { ts: 9223372036854775807n, line: Buffer.from('max') },
            { ts: -9223372036854775808n, line: Buffer.from('min'), metadata: [['k', 'v']] },
            { ts: 1700000000123456789n, line: Buffer.alloc(70_000, 0x61) },
          ],
        },
      ],
    };
    const back = decodePushProto(encodePushProto(req));
    expectDecodesTo(back, req);
  });

  it('matches protobufjs byte for byte on a request without defaults', () => {
    const obj: PbRequest = {
      streams: [
        {
          labels: '{a="b"}',
          entries: [
            { timestamp: { seconds: '1700000000', nanos: 5 }, line: 'l1', structuredMetadata: [{ name: 'k', value: 'v' }] },
            { timestamp: { seconds: '-3', nanos: 7 }, line: 'l2', structuredMetadata: [] },
          ],
        },
      ],
    };
    expect(encodePushProto(expected(obj)).equals(pbEncode(obj))).toBe(true);
  });

  it('rejects timestamps whose seconds do not fit int64', () => {
    const tooBig = (9223372036854775807n + 1n) * NS;
    expect(() => encodePushProto({ streams: [{ labels: '{}', entries: [{ ts: tooBig, line: Buffer.alloc(0) }] }] })).toThrow(
      /out of range/,
    );
  });
});
