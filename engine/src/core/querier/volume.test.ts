import { LabelMatcher } from '../logql/syntax/matcher.js';
import type { Labels } from '../model.js';
import type { StreamUsage } from './index-stats.js';
import {
  parseAggregateBy,
  parseTargetLabels,
  prepareVolumeMatchers,
  topVolumes,
  volumeBuckets,
  volumeResult,
  volumesIn,
  Volumes,
} from './volume.js';

const S = 1_000_000_000n;
const MS = 1_000_000n;

/** A stream with in-memory entries of the given sizes at the given seconds. */
function mem(labels: Labels, entries: Array<[number, number]>): StreamUsage {
  return {
    labels,
    fingerprint: JSON.stringify(labels),
    chunks: [],
    memoryTs: entries.map(([sec]) => BigInt(sec) * S),
    memoryBytes: entries.map(([, b]) => b),
  };
}

const usage: StreamUsage[] = [
  mem(
    [
      ['env', 'prod'],
      ['job', 'foo'],
      ['team', 'alpha'],
    ],
    [[10, 100]],
  ),
  mem(
    [
      ['env', 'dev'],
      ['job', 'foo'],
      ['team', 'alpha'],
    ],
    [[10, 30]],
  ),
  mem(
    [
      ['env', 'prod'],
      ['job', 'bar'],
      ['team', 'beta'],
    ],
    [[10, 7]],
  ),
];

const volumes = (v: Volumes): Array<[string, number]> => [...v.bytes.entries()].sort();

describe('volume aggregation (Loki docs examples)', () => {
  it('aggregates by the labels the selector names', () => {
    const p = prepareVolumeMatchers([], [new LabelMatcher('=', 'job', 'foo'), new LabelMatcher('=~', 'env', '.+')]);
    expect([...p.labels].sort()).toEqual(['env', 'job']);
    const v = volumesIn(usage, 0n, 100n * S, 'series', p.labels, []);
    expect(volumes(v)).toEqual([
      ['{env="dev", job="foo"}', 30],
      ['{env="prod", job="bar"}', 7],
      ['{env="prod", job="foo"}', 100],
    ]);
    expect(v.metrics.get('{env="dev", job="foo"}')).toEqual({ env: 'dev', job: 'foo' });
  });

  it('aggregates into the target labels only, requiring them on the stream', () => {
    const p = prepareVolumeMatchers(['team', 'job'], [new LabelMatcher('!=', 'env', 'dev')]);
    expect(p.matchers.map(String)).toEqual(['env!="dev"', 'team=~".+"', 'job=~".+"']);
    const v = volumesIn(usage, 0n, 100n * S, 'series', p.labels, ['team', 'job']);
    expect(volumes(v)).toEqual([
      ['{job="bar", team="beta"}', 7],
      ['{job="foo", team="alpha"}', 130],
    ]);
  });

  it('aggregates by label names with aggregateBy=labels', () => {
    const all = volumesIn(usage, 0n, 100n * S, 'labels', new Set(['job']), []);
    expect(volumes(all)).toEqual([
      ['env', 137],
      ['job', 137],
      ['team', 137],
    ]);
    expect(all.metrics.get('env')).toEqual({ env: '' });
    const targeted = volumesIn(usage, 0n, 100n * S, 'labels', new Set(['team']), ['team']);
    expect(volumes(targeted)).toEqual([['team', 137]]);
  });

  it('puts every stream in `{}` when the selector names no label (Loki\'s match-any `{}`)', () => {
    const p = prepareVolumeMatchers([], []);
    expect(volumes(volumesIn(usage, 0n, 100n * S, 'series', p.labels, []))).toEqual([['{}', 137]]);
  });

  it('prorates chunks that only partly overlap the range and skips streams without entries in it', () => {
    const u: StreamUsage = {
      labels: [['a', 'b']],
      fingerprint: 'x',
      chunks: [{ from: 0n, through: 100n * S, entries: 100, bytes: 1000 }],
      memoryTs: [],
      memoryBytes: [],
    };
    expect(volumes(volumesIn([u], 50n * S, 200n * S, 'labels', new Set(), []))).toEqual([['a', 500]]);
    expect(volumes(volumesIn([u], 101n * S, 200n * S, 'labels', new Set(), []))).toEqual([]);
  });
});

describe('limits', () => {
  it('keeps the `limit` largest volumes, ties by name', () => {
    const m = new Map([
      ['b', 5],
      ['a', 5],
      ['c', 9],
    ]);
    expect(topVolumes(m, 2, 0)).toEqual([
      ['c', 9],
      ['a', 5],
    ]);
  });

  it('refuses more distinct series than volume_max_series', () => {
    expect(() => topVolumes(new Map([['a', 1], ['b', 2]]), 100, 1)).toThrow('the query hit the max number of series limit (limit: 1 series)');
  });

  it('parses aggregateBy and targetLabels as Loki does', () => {
    expect(parseAggregateBy(undefined)).toBe('series');
    expect(parseAggregateBy('labels')).toBe('labels');
    expect(() => parseAggregateBy('pods')).toThrow('invalid aggregation option');
    expect(parseTargetLabels('')).toEqual([]);
    expect(parseTargetLabels('a,b')).toEqual(['a', 'b']);
  });
});

describe('volumeBuckets', () => {
  it('is one bucket at the end for an instant query, truncated to seconds', () => {
    expect(volumeBuckets(10n * S + 5n * MS, 70n * S + 250n * MS, 0n)).toEqual([{ from: 10n * S, through: 70n * S, ms: 70_250 }]);
  });

  it('cuts a range at step boundaries, each bucket ending 1 ms before the next', () => {
    expect(volumeBuckets(30n * S, 150n * S, 60n * S)).toEqual([
      { from: 30n * S, through: 59n * S, ms: 59_999 },
      { from: 60n * S, through: 119n * S, ms: 119_999 },
      { from: 120n * S, through: 150n * S, ms: 150_000 },
    ]);
  });
});

describe('volumeResult', () => {
  const metrics = new Map([
    ['{a="1"}', { a: '1' }],
    ['{a="2"}', { a: '2' }],
  ]);

  it('is a vector when each series has one sample, largest first', () => {
    const samples = new Map<string, Array<[number, number]>>([
      ['{a="1"}', [[70_250, 10]]],
      ['{a="2"}', [[70_250, 20]]],
    ]);
    expect(volumeResult(samples, metrics)).toEqual({
      resultType: 'vector',
      result: [
        { metric: { a: '2' }, value: [70.25, '20'] },
        { metric: { a: '1' }, value: [70.25, '10'] },
      ],
    });
  });

  it('is a matrix as soon as one series has several samples', () => {
    const samples = new Map<string, Array<[number, number]>>([
      ['{a="1"}', [[120_000, 2], [60_000, 1]]],
      ['{a="2"}', [[60_000, 5]]],
    ]);
    expect(volumeResult(samples, metrics)).toEqual({
      resultType: 'matrix',
      result: [
        { metric: { a: '2' }, values: [[60, '5']] },
        {
          metric: { a: '1' },
          values: [
            [60, '1'],
            [120, '2'],
          ],
        },
      ],
    });
  });
});
