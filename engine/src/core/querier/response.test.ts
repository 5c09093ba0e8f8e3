import type { LogStream, QueryStats } from './querier.js';
import { streamsResponse } from './response.js';

const STATS: QueryStats = { chunksFetched: 0, memoryChunksRead: 0, chunkBytes: 0, ingesterStreams: 0, storeStreams: 0, entriesScanned: 0, linesProcessed: 0, bytesProcessed: 0 };

// One stream with the three kinds of entry Loki's encoder tests use: none, structured metadata only, both categories.
const streams: LogStream[] = [
  {
    labels: [['test', 'test']],
    canonical: '{test="test"}',
    fingerprint: 'f',
    entries: [
      { ts: 123456789012345n, line: Buffer.from('super line') },
      { ts: 123456789012346n, line: Buffer.from('super line with labels'), metadata: [['foo', 'a'], ['bar', 'b']] },
      { ts: 123456789012347n, line: Buffer.from('super line with labels msg=text'), metadata: [['foo', 'a'], ['bar', 'b']], parsed: [['msg', 'text']] },
    ],
  },
];

describe('streamsResponse', () => {
  it('with categorize-labels: encodingFlags before result, and a third element on every entry ({} when empty)', () => {
    const r = streamsResponse(streams, true, STATS, 0n);
    expect(Object.keys(r.data)).toEqual(['resultType', 'encodingFlags', 'result', 'stats']);
    expect(r.data.encodingFlags).toEqual(['categorize-labels']);
    expect(r.data.result).toEqual([
      {
        stream: { test: 'test' },
        values: [
          ['123456789012345', 'super line', {}],
          ['123456789012346', 'super line with labels', { structuredMetadata: { bar: 'b', foo: 'a' } }],
          ['123456789012347', 'super line with labels msg=text', { structuredMetadata: { bar: 'b', foo: 'a' }, parsed: { msg: 'text' } }],
        ],
      },
    ]);
    // The empty third element survives serialization.
    expect(JSON.stringify(r.data.result[0]!.values[0])).toBe('["123456789012345","super line",{}]');
  });

  it('without it: two-element values, and structured metadata and parsed labels fold into the stream labels', () => {
    const r = streamsResponse(streams, false, STATS, 0n);
    expect(Object.keys(r.data)).toEqual(['resultType', 'result', 'stats']);
    expect(r.data.result).toEqual([
      { stream: { test: 'test' }, values: [['123456789012345', 'super line']] },
      { stream: { bar: 'b', foo: 'a', test: 'test' }, values: [['123456789012346', 'super line with labels']] },
      { stream: { bar: 'b', foo: 'a', msg: 'text', test: 'test' }, values: [['123456789012347', 'super line with labels msg=text']] },
    ]);
  });
});
