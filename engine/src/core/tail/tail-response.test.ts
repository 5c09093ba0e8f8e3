import { legacyTailMessage, tailMessage, visibleLabels, type TailEntry } from './tail-response.js';

const a: TailEntry = { ts: 1_700_000_000_123_456_789n, line: 'first', stream: [['app', 'a']] };
const b: TailEntry = { ts: 1_700_000_000_123_456_790n, line: 'second', stream: [['app', 'b']] };
const a2: TailEntry = { ts: 1_700_000_000_123_456_791n, line: 'third <&>', stream: [['app', 'a']] };
const withLabels: TailEntry = {
  ts: 1_700_000_001_000_000_000n,
  line: 'parsed',
  stream: [['app', 'a']],
  metadata: [['trace_id', 't1']],
  parsed: [['level', 'error']],
};

describe('tail messages', () => {
  it("v1: Loki's shape, exact ns timestamps, entries in order, consecutive entries of one stream share it", () => {
    const msg = JSON.parse(tailMessage([a, a2, b], [], false));
    expect(msg).toEqual({
      streams: [
        { stream: { app: 'a' }, values: [['1700000000123456789', 'first'], ['1700000000123456791', 'third <&>']] },
        { stream: { app: 'b' }, values: [['1700000000123456790', 'second']] },
      ],
    });
    // Order across streams is kept: a, b, a gives three stream objects.
    expect(JSON.parse(tailMessage([a, b, a2], [], false)).streams.map((s: any) => s.stream.app)).toEqual(['a', 'b', 'a']);
  });

  it('v1: dropped entries only when there are some, timestamps as ns strings', () => {
    const msg = JSON.parse(tailMessage([a], [{ ts: 5n, labels: [['app', 'x'], ['pod', 'p']] }], false));
    expect(msg.dropped_entries).toEqual([{ labels: { app: 'x', pod: 'p' }, timestamp: '5' }]);
    expect(JSON.parse(tailMessage([], [{ ts: 6n, labels: [['app', 'x']] }], false))).toEqual({
      streams: [],
      dropped_entries: [{ labels: { app: 'x' }, timestamp: '6' }],
    });
  });

  it('v1: without categorize-labels, metadata and parsed labels fold into the stream labels', () => {
    expect(visibleLabels(withLabels, false)).toEqual([['app', 'a'], ['level', 'error'], ['trace_id', 't1']]);
    expect(JSON.parse(tailMessage([withLabels], [], false)).streams).toEqual([
      { stream: { app: 'a', level: 'error', trace_id: 't1' }, values: [['1700000001000000000', 'parsed']] },
    ]);
  });

  it('v1 with categorize-labels: a third element per value (always) and encodingFlags last', () => {
    const text = tailMessage([a, withLabels], [], true);
    const msg = JSON.parse(text);
    expect(Object.keys(msg)).toEqual(['streams', 'encodingFlags']);
    expect(msg).toEqual({
      streams: [
        {
          stream: { app: 'a' },
          values: [
            ['1700000000123456789', 'first', {}],
            ['1700000001000000000', 'parsed', { structuredMetadata: { trace_id: 't1' }, parsed: { level: 'error' } }],
          ],
        },
      ],
      encodingFlags: ['categorize-labels'],
    });
  });

  it('legacy: labels as a string, RFC3339Nano times, dropped entries with Go field names or null', () => {
    expect(JSON.parse(legacyTailMessage([a, withLabels], []))).toEqual({
      streams: [
        { labels: '{app="a"}', entries: [{ ts: '2023-11-14T22:13:20.123456789Z', line: 'first' }] },
        { labels: '{app="a", level="error", trace_id="t1"}', entries: [{ ts: '2023-11-14T22:13:21Z', line: 'parsed' }] },
      ],
      dropped_entries: null,
    });
    expect(JSON.parse(legacyTailMessage([], [{ ts: 1_700_000_000_000_000_001n, labels: [['app', 'x']] }])).dropped_entries).toEqual([
      { Timestamp: '2023-11-14T22:13:20.000000001Z', Labels: '{app="x"}' },
    ]);
  });
});
