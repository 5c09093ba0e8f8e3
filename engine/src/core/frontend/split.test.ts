import { parseExpr } from '../logql/syntax/parser.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { alignToStep, metricSplitInterval, splitLogsByInterval, splitMetricByInterval } from './split.js';

const S = 1_000_000_000n;
const M = 60n * S;
const H = 60n * M;

/** Every step of [start, end] and which split evaluates it. */
function stepsOf(splits: Array<{ start: bigint; end: bigint }>, step: bigint): bigint[] {
  const out: bigint[] = [];
  for (const s of splits) for (let t = s.start; t <= s.end; t += step) out.push(t);
  return out;
}

describe('alignToStep', () => {
  it('rounds start down and end up to multiples of the step', () => {
    expect(alignToStep(61n * S, 119n * S, 60n * S)).toEqual({ start: 60n * S, end: 120n * S });
    expect(alignToStep(60n * S, 120n * S, 60n * S)).toEqual({ start: 60n * S, end: 120n * S });
    expect(alignToStep(-1n, 1n, 10n)).toEqual({ start: -10n, end: 10n });
  });
});

describe('splitMetricByInterval', () => {
  it('evaluates every step exactly once, and no split crosses an interval boundary but to take the last step', () => {
    for (const [step, interval] of [
      [15n * S, H],
      [7n * S, H],
      [1n * S, 10n * M],
      [M + 1n, 30n * M],
      [250_000_000n, M],
      [59n * M, H],
    ] as const) {
      for (const [startOff, len] of [
        [0n, 3n * H],
        [13n * S, 2n * H + 17n * S],
        [H - step, 2n * step],
        [0n, 0n],
        [5n * S, step],
      ] as const) {
        const { start, end } = alignToStep(1_700_000_000n * S + startOff, 1_700_000_000n * S + startOff + len, step);
        const splits = splitMetricByInterval(start, end, step, interval);
        const all: bigint[] = [];
        for (let t = start; t <= end; t += step) all.push(t);
        expect(stepsOf(splits, step)).toEqual(all);
        splits.forEach((sp, i) => {
          expect(sp.start <= sp.end).toBe(true);
          if (i > 0) expect(sp.start).toBe(splits[i - 1]!.end + step);
          // Within one interval, except the last split, which may take the query's final step.
          const k0 = sp.start / interval;
          const lastInside = i === splits.length - 1 && sp.end - step >= sp.start ? sp.end - step : sp.end;
          if (i < splits.length - 1 || sp.end === sp.start) expect(lastInside / interval).toBe(k0);
        });
      }
    }
  });

  it('splits at the last step before each interval boundary (Loki\'s layout)', () => {
    const start = 10n * M;
    const end = 2n * H + 30n * M;
    // Steps 10m 30m 50m | 70m 90m 110m | 130m 150m.
    expect(splitMetricByInterval(start, end, 20n * M, H)).toEqual([
      { start: 10n * M, end: 50n * M },
      { start: 70n * M, end: H + 50n * M },
      { start: H + 70n * M, end: 2n * H + 30n * M },
    ]);
  });

  it('does not leave a one-step tail split', () => {
    // 0, 30m | 60m, 90m | 120m: the 120m step joins the previous split.
    expect(splitMetricByInterval(0n, 2n * H, 30n * M, H)).toEqual([
      { start: 0n, end: 30n * M },
      { start: H, end: 2n * H },
    ]);
  });

  it('gives one split per step when the step is at least the interval', () => {
    expect(splitMetricByInterval(0n, 3n * H, H, H)).toEqual([0n, 1n, 2n, 3n].map((k) => ({ start: k * H, end: k * H })));
    expect(splitMetricByInterval(0n, 4n * H, 2n * H, H)).toEqual([0n, 2n, 4n].map((k) => ({ start: k * H, end: k * H })));
  });

  it('returns the whole query when splitting is off, for a single step, and for an instant', () => {
    expect(splitMetricByInterval(5n, 500n, 5n, 0n)).toEqual([{ start: 5n, end: 500n }]);
    expect(splitMetricByInterval(H, H, M, H)).toEqual([{ start: H, end: H }]);
  });

  it('raises the interval to the longest range of the query', () => {
    expect(metricSplitInterval(H, parseExpr('rate({a="b"}[5m])') as SampleExpr)).toBe(H);
    expect(metricSplitInterval(H, parseExpr('sum(rate({a="b"}[2h])) / sum(rate({a="b"}[5m]))') as SampleExpr)).toBe(2n * H);
    expect(metricSplitInterval(0n, parseExpr('rate({a="b"}[2h])') as SampleExpr)).toBe(0n);
  });
});

describe('splitLogsByInterval', () => {
  it('cuts [start, end) at interval multiples into disjoint half-open pieces', () => {
    expect(splitLogsByInterval(10n * M, 2n * H + 5n * M, H)).toEqual([
      { start: 10n * M, end: H },
      { start: H, end: 2n * H },
      { start: 2n * H, end: 2n * H + 5n * M },
    ]);
    expect(splitLogsByInterval(H, 2n * H, H)).toEqual([{ start: H, end: 2n * H }]);
    expect(splitLogsByInterval(0n, 10n, 0n)).toEqual([{ start: 0n, end: 10n }]);
  });
});
