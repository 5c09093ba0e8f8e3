import type { MetricResult } from '../logql/engine/index.js';
import type { LogStream } from '../querier/querier.js';
import { concatShards, mergeLogSplits, mergeSplits } from './merge.js';

const stream = (pod: string, ts: number[]): LogStream => ({
  labels: [['pod', pod]],
  canonical: `{pod="${pod}"}`,
  fingerprint: pod,
  entries: ts.map((t) => ({ ts: BigInt(t), line: Buffer.from(`${pod}${t}`) })),
});
const flat = (streams: LogStream[]): string[] => streams.flatMap((s) => s.entries.map((e) => e.line.toString()));

describe('mergeLogSplits', () => {
  it('joins splits per stream and cuts at the limit in the direction\'s order', () => {
    // Backward: newest split first; each split's streams newest first.
    const newest = [stream('a', [90, 80]), stream('b', [85, 80])];
    const older = [stream('a', [50]), stream('c', [60, 40])];
    const oldest = [stream('b', [10])];
    const all = mergeLogSplits([newest, older, oldest], 100, 'backward');
    expect(all.map((s) => s.canonical)).toEqual(['{pod="a"}', '{pod="b"}', '{pod="c"}']);
    expect(flat(all)).toEqual(['a90', 'a80', 'a50', 'b85', 'b80', 'b10', 'c60', 'c40']);
    // Limit 3: the three newest overall, all in the first split.
    expect(flat(mergeLogSplits([newest, older, oldest], 3, 'backward'))).toEqual(['a90', 'a80', 'b85']);
    // Limit 5: the first split (4 entries) and the newest of the second; the third split is not read.
    expect(flat(mergeLogSplits([newest, older, oldest], 5, 'backward'))).toEqual(['a90', 'a80', 'b85', 'b80', 'c60']);
  });

  it('breaks timestamp ties at the cut by stream order, as the querier does', () => {
    const split = [stream('a', [10, 5]), stream('b', [10, 5])];
    expect(flat(mergeLogSplits([split], 3, 'backward'))).toEqual(['a10', 'a5', 'b10']);
    const fwd = [stream('a', [1, 2]), stream('b', [1, 2])];
    expect(flat(mergeLogSplits([fwd], 3, 'forward'))).toEqual(['a1', 'a2', 'b1']);
  });
});

describe('concatShards', () => {
  const m = (...series: Array<[string, number[], number[]]>): MetricResult => ({
    type: 'matrix',
    series: series.map(([pod, ms, values]) => ({ labels: [['pod', pod]], ms, values })),
  });

  it('puts disjoint shards together sorted by labels', () => {
    expect(concatShards([m(['b', [1], [2]]), m(['a', [1, 2], [3, 4]])], true)).toEqual(m(['a', [1, 2], [3, 4]], ['b', [1], [2]]));
  });

  it('reports a series two shards both returned (labels collided) when series must be disjoint', () => {
    expect(concatShards([m(['a', [1], [1]]), m(['a', [2], [1]])], true)).toBeUndefined();
    const v = (pod: string): MetricResult => ({ type: 'vector', samples: [{ labels: [['pod', pod]], ms: 1, value: 1 }] });
    expect(concatShards([v('a'), v('a')], true)).toBeUndefined();
    expect(concatShards([v('a'), v('b')], true)).toEqual({ type: 'vector', samples: [...(v('a') as any).samples, ...(v('b') as any).samples] });
  });

  it('keeps repeated series for a merge node when asked to', () => {
    const got = concatShards([m(['a', [1], [1]]), m(['a', [2], [5]])], false);
    expect(got).toEqual({ type: 'matrix', series: [...(m(['a', [1], [1]]) as any).series, ...(m(['a', [2], [5]]) as any).series] });
  });
});

describe('mergeSplits', () => {
  it('appends each series\' samples split after split, series sorted by labels', () => {
    const a: MetricResult = { type: 'matrix', series: [{ labels: [['pod', 'b']], ms: [1, 2], values: [1, 2] }] };
    const b: MetricResult = {
      type: 'matrix',
      series: [
        { labels: [['pod', 'a']], ms: [3], values: [9] },
        { labels: [['pod', 'b']], ms: [3, 4], values: [3, 4] },
      ],
    };
    expect(mergeSplits([a, b])).toEqual({
      type: 'matrix',
      series: [
        { labels: [['pod', 'a']], ms: [3], values: [9] },
        { labels: [['pod', 'b']], ms: [1, 2, 3, 4], values: [1, 2, 3, 4] },
      ],
    });
    // The inputs are not modified (they may be cached).
    expect(a).toEqual({ type: 'matrix', series: [{ labels: [['pod', 'b']], ms: [1, 2], values: [1, 2] }] });
  });
});
