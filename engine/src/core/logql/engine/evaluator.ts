import type { Labels } from '../../model.js';
import { Deadline } from '../../querier/deadline.js';
import type { Grouping, RangeOp, SampleExpr } from '../syntax/ast.js';
import { LiteralBinaryNode, VectorBinaryNode } from './binary.js';
import { approxTopkInstantOnly, seriesLimitError } from './errors.js';
import { LabelReplaceNode } from './label-replace.js';
import { EMPTY_METRIC, compareLabels } from './labels.js';
import { RangeAggregationNode } from './range-aggregation.js';
import { StepGrid, type EvalContext, type SampleSource, type StepNode, type StepVector } from './types.js';
import { VectorAggregationNode } from './vector-aggregation.js';

/** A metric query's parameters. Times are nanoseconds; `step` 0 with `start == end` is an instant query. */
export interface MetricQuery {
  expr: SampleExpr;
  start: bigint;
  end: bigint;
  step: bigint;
}

export interface EvaluateOptions {
  source: SampleSource;
  /** `max_query_series`; 0 or less: no limit. */
  maxSeries?: number;
  deadline?: Deadline;
}

/** A series of a range query: timestamps in milliseconds and values, in step order. */
export interface MatrixSeries {
  labels: Labels;
  ms: number[];
  values: number[];
}

export interface VectorSample {
  labels: Labels;
  ms: number;
  value: number;
}

export type MetricResult =
  | { type: 'scalar'; ms: number; value: number }
  | { type: 'vector'; samples: VectorSample[] }
  | { type: 'matrix'; series: MatrixSeries[] };

/** Check the deadline every this many steps. */
const STEPS_PER_CHECK = 64;

/**
 * Evaluates a metric query the way Loki's engine does: every node yields one vector per step; an instant query
 * returns the single step's vector (sorted by labels unless the query sorts by value), a range query collects the
 * steps into series sorted by labels. A bare number is a scalar (instant) or a one-series matrix (range).
 */
export async function evaluate(q: MetricQuery, opts: EvaluateOptions): Promise<MetricResult> {
  const instant = q.step === 0n && q.start === q.end;
  const grid = new StepGrid(q.start, q.end, q.step > 0n ? q.step : 0n);
  const deadline = opts.deadline ?? Deadline.none();
  const maxSeries = opts.maxSeries ?? 0;

  if (q.expr.kind === 'literal') {
    if (instant) return { type: 'scalar', ms: grid.ms(0), value: q.expr.value };
    return { type: 'matrix', series: [constantSeries(grid, q.expr.value)] };
  }
  if (!instant) checkInstantOnly(q.expr);

  const ctx: EvalContext = { grid, source: opts.source, deadline };
  const root = compile(q.expr, ctx);
  await root.load();
  deadline.check();

  if (instant) {
    const vec = root.at(0);
    if (maxSeries > 0 && vec.length > maxSeries) throw seriesLimitError(maxSeries);
    const ms = grid.ms(0);
    const samples = vec.map((s) => ({ labels: s.metric.labels, ms, value: s.value }));
    if (!sortsByValue(q.expr)) samples.sort((a, b) => compareLabels(a.labels, b.labels));
    return { type: 'vector', samples };
  }

  const byKey = new Map<string, MatrixSeries>();
  for (let i = 0; i < grid.count; i++) {
    if (i % STEPS_PER_CHECK === STEPS_PER_CHECK - 1) deadline.check();
    const vec: StepVector = root.at(i);
    const ms = grid.ms(i);
    for (const s of vec) {
      let series = byKey.get(s.metric.key);
      if (series === undefined) {
        series = { labels: s.metric.labels, ms: [], values: [] };
        byKey.set(s.metric.key, series);
      }
      series.ms.push(ms);
      series.values.push(s.value);
    }
    if (maxSeries > 0 && byKey.size > maxSeries) throw seriesLimitError(maxSeries);
  }
  const series = [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: 'matrix', series };
}

function constantSeries(grid: StepGrid, value: number): MatrixSeries {
  const ms: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < grid.count; i++) {
    ms.push(grid.ms(i));
    values.push(value);
  }
  return { labels: [], ms, values };
}

/** Range functions whose per-window value is additive across series: a `sum` over them can group at extraction. */
const PUSHDOWN_OPS: ReadonlySet<RangeOp> = new Set(['bytes_over_time', 'bytes_rate', 'sum_over_time', 'rate', 'count_over_time']);

function compile(e: SampleExpr, ctx: EvalContext, pushdown?: Grouping): StepNode {
  switch (e.kind) {
    case 'range_aggregation':
      return new RangeAggregationNode(e, ctx, pushdown);
    case 'vector_aggregation': {
      const inner = e.inner;
      const push = e.op === 'sum' && inner.kind === 'range_aggregation' && inner.grouping === undefined && PUSHDOWN_OPS.has(inner.op);
      return new VectorAggregationNode(e, compile(inner, ctx, push ? e.grouping : undefined));
    }
    case 'binary': {
      // The parser folds literal-only operations, so at most one side is a literal here.
      if (e.lhs.kind === 'literal') return new LiteralBinaryNode(e, e.lhs.value, compile(e.rhs, ctx), true);
      if (e.rhs.kind === 'literal') return new LiteralBinaryNode(e, e.rhs.value, compile(e.lhs, ctx), false);
      return new VectorBinaryNode(e, compile(e.lhs, ctx), compile(e.rhs, ctx));
    }
    case 'label_replace':
      return new LabelReplaceNode(e, compile(e.inner, ctx));
    case 'vector':
      return new ConstantVectorNode(e.value);
    case 'literal':
      // A literal operand anywhere else (e.g. inside label_replace) behaves as a label-less sample at each step.
      return new ConstantVectorNode(e.value);
  }
}

/** `vector(x)`: one label-less sample at every step. */
export class ConstantVectorNode implements StepNode {
  constructor(private readonly value: number) {}

  load(): Promise<void> {
    return Promise.resolve();
  }

  at(): StepVector {
    return [{ metric: EMPTY_METRIC, value: this.value }];
  }
}

/** Loki keeps an instant query's order only when the query asks for sort/sort_desc. */
export function sortsByValue(e: SampleExpr): boolean {
  switch (e.kind) {
    case 'vector_aggregation':
      return e.op === 'sort' || e.op === 'sort_desc' || sortsByValue(e.inner);
    case 'binary':
      return sortsByValue(e.lhs) || sortsByValue(e.rhs);
    case 'label_replace':
      return sortsByValue(e.inner);
    default:
      return false;
  }
}

function checkInstantOnly(e: SampleExpr): void {
  switch (e.kind) {
    case 'vector_aggregation':
      if (e.op === 'approx_topk') throw approxTopkInstantOnly();
      checkInstantOnly(e.inner);
      return;
    case 'binary':
      checkInstantOnly(e.lhs);
      checkInstantOnly(e.rhs);
      return;
    case 'label_replace':
      checkInstantOnly(e.inner);
      return;
    default:
      return;
  }
}

/** The longest `[range]` of a query (for `max_query_range`). */
export function maxRangeInterval(e: SampleExpr): bigint {
  switch (e.kind) {
    case 'range_aggregation':
      return e.range.interval;
    case 'vector_aggregation':
      return maxRangeInterval(e.inner);
    case 'binary': {
      const l = maxRangeInterval(e.lhs);
      const r = maxRangeInterval(e.rhs);
      return l > r ? l : r;
    }
    case 'label_replace':
      return maxRangeInterval(e.inner);
    default:
      return 0n;
  }
}
