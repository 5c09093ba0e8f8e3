import { parseExpr } from '../logql/syntax/parser.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { planQuery, printPlan, shardable } from './shard-plan.js';

const plan = (q: string) => planQuery(parseExpr(q) as SampleExpr);
const printed = (q: string): string => printPlan(plan(q).root);

describe('shard planning', () => {
  it('concatenates shards of range aggregations whose series are each one stream\'s', () => {
    expect(printed('count_over_time({app="a"}[1m])')).toBe('concat<count_over_time({app="a"}[1m])>');
    expect(printed('rate({app="a"} | json | level="error" [1m])')).toBe('concat<rate({app="a"} | json | level="error"[1m])>');
    // With unwrap the unwrapped label leaves the series; two shards returning the same series makes the leaf re-run
    // unsharded (collisions: fallback).
    const p = plan('avg_over_time({app="a"} | logfmt | unwrap latency [1m])');
    expect(printPlan(p.root)).toBe('concat<avg_over_time({app="a"} | logfmt | unwrap latency[1m])>');
    expect(p.leaves[0]!.collisions).toBe('fallback');
  });

  it('merges shards of range aggregations whose series may span streams, when the function allows', () => {
    // rate = count / range: shards' counts are added (exact integers) and divided once, as the engine computes it.
    expect(printed('rate({app="a"} | drop pod [1m])')).toBe('(sum without ()(shards<count_over_time({app="a"} | drop pod[1m])>) / 60)');
    expect(printed('bytes_rate({app="a"} | keep app [2m])')).toBe('(sum without ()(shards<bytes_over_time({app="a"} | keep app[2m])>) / 120)');
    expect(printed('count_over_time({app="a"} | label_format x=pod [1m])')).toBe(
      'sum without ()(shards<count_over_time({app="a"} | label_format x=pod[1m])>)',
    );
    expect(printed('max_over_time({app="a"} | logfmt | unwrap latency [1m]) by (app)')).toBe(
      'max without ()(shards<max_over_time({app="a"} | logfmt | unwrap latency[1m]) by (app)>)',
    );
    expect(printed('min_over_time({app="a"} | logfmt | unwrap latency [1m]) without (pod)')).toBe(
      'min without ()(shards<min_over_time({app="a"} | logfmt | unwrap latency[1m]) without (pod)>)',
    );
    expect(plan('count_over_time({app="a"} | drop pod [1m])').leaves[0]!.collisions).toBe('merged');
  });

  it('does not shard range aggregations that cannot be recombined', () => {
    for (const q of [
      'absent_over_time({app="a"}[1m])',
      'quantile_over_time(0.9, {app="a"} | logfmt | unwrap latency [1m]) by (app)',
      'avg_over_time({app="a"} | logfmt | unwrap latency [1m]) by (app)',
      'stddev_over_time({app="a"} | logfmt | unwrap latency [1m]) by (app)',
      'first_over_time({app="a"} | drop pod | logfmt | unwrap latency [1m])',
      'rate_counter({app="a"} | logfmt | keep app, n | unwrap n [1m])',
    ]) {
      expect([q, shardable(parseExpr(q) as SampleExpr)]).toEqual([q, false]);
      expect(printed(q)).toMatch(/^<.*>$/);
    }
  });

  it('pushes sum, count, max, min and avg into the shards and re-aggregates', () => {
    expect(printed('sum by (level) (rate({app="a"} | logfmt [1m]))')).toBe(
      '(sum by (level)(shards<sum by (level)(count_over_time({app="a"} | logfmt[1m]))>) / 60)',
    );
    // Additive range functions add up across shards even when labels collide.
    expect(printed('sum(count_over_time({app="a"} | drop pod [1m]))')).toBe('sum(shards<sum(count_over_time({app="a"} | drop pod[1m]))>)');
    expect(printed('sum without (pod) (bytes_over_time({app="a"}[1m]))')).toBe(
      'sum without (pod)(shards<sum without (pod)(bytes_over_time({app="a"}[1m]))>)',
    );
    expect(printed('count by (pod) (rate({app="a"}[1m]))')).toBe('sum by (pod)(shards<count by (pod)(rate({app="a"}[1m]))>)');
    expect(printed('max(rate({app="a"}[1m]))')).toBe('max(shards<max(rate({app="a"}[1m]))>)');
    expect(printed('min by (app) (count_over_time({app="a"}[1m]))')).toBe('min by (app)(shards<min by (app)(count_over_time({app="a"}[1m]))>)');
    expect(printed('avg by (pod) (count_over_time({app="a"}[1m]))')).toBe(
      '(sum by (pod)(shards<sum by (pod)(count_over_time({app="a"}[1m]))>) / sum by (pod)(shards<count by (pod)(count_over_time({app="a"}[1m]))>))',
    );
    expect(printed('sum by (app) (sum by (app, pod) (count_over_time({app="a"}[1m])))')).toBe(
      'sum by (app)(shards<sum by (app)(sum by (app,pod)(count_over_time({app="a"}[1m])))>)',
    );
  });

  it('needs per-stream series for count, max, min and avg partials; otherwise aggregates in the frontend', () => {
    // A label collision would make a shard count one series twice: the frontend counts the merged series instead.
    expect(printed('count(count_over_time({app="a"} | drop pod [1m]))')).toBe('count(sum without ()(shards<count_over_time({app="a"} | drop pod[1m])>))');
    expect(printed('max by (app) (avg_over_time({app="a"} | logfmt | unwrap n [1m]))')).toBe(
      'max by (app)(concat<avg_over_time({app="a"} | logfmt | unwrap n[1m])>)',
    );
    expect(printed('count(sum by (pod) (rate({app="a"}[1m])))')).toBe('count((sum by (pod)(shards<sum by (pod)(count_over_time({app="a"}[1m]))>) / 60))');
  });

  it('never shards topk, bottomk, sort, stddev, stdvar or approx_topk', () => {
    for (const q of [
      'topk(3, rate({app="a"}[1m]))',
      'bottomk(3, sum by (pod) (rate({app="a"}[1m])))',
      'sort(sum by (pod) (rate({app="a"}[1m])))',
      'sort_desc(count_over_time({app="a"}[1m]))',
      'stddev(rate({app="a"}[1m]))',
      'stdvar by (app) (rate({app="a"}[1m]))',
      'approx_topk(3, sum by (pod) (rate({app="a"}[1m])))',
    ]) {
      expect([q, printed(q)]).toEqual([q, `<${plan(q).leaves[0]!.query}>`]);
    }
  });

  it('evaluates binary operations and label_replace in the frontend over their sharded operands', () => {
    expect(printed('sum(rate({app="a"}[1m])) / sum(rate({app="b"}[1m]))')).toBe(
      '((sum(shards<sum(count_over_time({app="a"}[1m]))>) / 60) / (sum(shards<sum(count_over_time({app="b"}[1m]))>) / 60))',
    );
    expect(printed('sum(rate({app="a"}[1m])) > bool 2')).toBe('((sum(shards<sum(count_over_time({app="a"}[1m]))>) / 60) > bool 2)');
    expect(printed('sum(rate({app="a"}[1m])) or vector(0)')).toBe('((sum(shards<sum(count_over_time({app="a"}[1m]))>) / 60) or vector(0.000000))');
    expect(printed('label_replace(rate({app="a"}[1m]), "x", "$1", "pod", "(.*)")')).toBe('label_replace(concat<rate({app="a"}[1m])>,"x","$1","pod","(.*)")');
    // A side that cannot be sharded is one unsharded sub-query.
    expect(printed('topk(2, rate({app="a"}[1m])) / sum(rate({app="a"}[1m]))')).toBe(
      '(<topk(2,rate({app="a"}[1m]))> / (sum(shards<sum(count_over_time({app="a"}[1m]))>) / 60))',
    );
    // Nothing sharded: the whole expression is one sub-query.
    expect(printed('topk(2, rate({app="a"}[1m])) / stddev(rate({app="a"}[1m]))')).toBe(
      '<(topk(2,rate({app="a"}[1m])) / stddev(rate({app="a"}[1m])))>',
    );
    expect(printed('vector(1)')).toBe('<vector(1.000000)>');
    expect(printed('1 + 1')).toBe('<2>');
  });

  it('lets a sub-query fail early on max_query_series only when its series are a subset of the result\'s', () => {
    const limited = (q: string): boolean[] => plan(q).leaves.map((l) => l.limited);
    expect(limited('count_over_time({app="a"}[1m])')).toEqual([true]);
    expect(limited('sum by (pod) (rate({app="a"}[1m]))')).toEqual([true]);
    expect(limited('avg by (pod) (count_over_time({app="a"}[1m]))')).toEqual([true, true]);
    expect(limited('topk(3, rate({app="a"}[1m]))')).toEqual([true]);
    // The frontend filters or reduces these sub-queries' series.
    expect(limited('rate({app="a"}[1m]) > 1')).toEqual([false]);
    expect(limited('sum(avg_over_time({app="a"} | logfmt | unwrap latency [1m]))')).toEqual([false]);
    expect(limited('label_replace(rate({app="a"}[1m]), "x", "$1", "pod", "(.*)")')).toEqual([false]);
    expect(limited('sum(rate({app="a"}[1m])) / sum(rate({app="b"}[1m]))')).toEqual([false, false]);
  });

  it('prints every sharded sub-query as LogQL that parses back to itself', () => {
    for (const q of [
      'sum by (level) (rate({app="a"} | logfmt [1m] offset 5m))',
      'avg without (pod) (bytes_rate({app="a"} |= "x" [30s]))',
      'count_over_time({app="a"} | drop pod [1m])',
    ]) {
      for (const leaf of plan(q).leaves) {
        expect(parseExpr(leaf.query)).toEqual(leaf.expr);
      }
    }
  });
});
