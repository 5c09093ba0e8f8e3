import { EngineError } from '../errors.js';
import { LiteralBinaryNode, VectorBinaryNode } from '../logql/engine/binary.js';
import { ConstantVectorNode, sortsByValue } from '../logql/engine/evaluator.js';
import { seriesLimitError, type MatrixSeries, type MetricResult } from '../logql/engine/index.js';
import { LabelReplaceNode } from '../logql/engine/label-replace.js';
import { EMPTY_METRIC, MetricTable, compareLabels, type Metric } from '../logql/engine/labels.js';
import { StepGrid, type Sample, type StepNode, type StepVector } from '../logql/engine/types.js';
import { VectorAggregationNode } from '../logql/engine/vector-aggregation.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import type { LeafNode, PlanNode } from './shard-plan.js';

/**
 * A leaf's result as a step node: the samples of step i are those whose timestamp is the step's (in milliseconds,
 * as results carry them). Samples keep the order the result lists them in.
 */
class ResultNode implements StepNode {
  private readonly steps: StepVector[];

  constructor(result: MetricResult, grid: StepGrid, table: MetricTable) {
    this.steps = Array.from({ length: grid.count }, () => []);
    switch (result.type) {
      case 'scalar':
        for (const s of this.steps) s.push({ metric: EMPTY_METRIC, value: result.value });
        return;
      case 'vector':
        for (const s of result.samples) this.steps[0]!.push({ metric: table.intern(s.labels), value: s.value });
        return;
      case 'matrix': {
        const index = new Map<number, number>();
        for (let i = 0; i < grid.count; i++) index.set(grid.ms(i), i);
        for (const series of result.series) {
          const metric = table.intern(series.labels);
          for (let k = 0; k < series.ms.length; k++) {
            const i = index.get(series.ms[k]!);
            if (i !== undefined) this.steps[i]!.push({ metric, value: series.values[k]! });
          }
        }
      }
    }
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  at(i: number): StepVector {
    return this.steps[i]!;
  }
}


function compile(n: PlanNode, grid: StepGrid, results: ReadonlyMap<LeafNode, MetricResult>, table: MetricTable): StepNode {
  switch (n.kind) {
    case 'leaf': {
      const r = results.get(n);
      if (r === undefined) throw new EngineError('internal', `no result for sub-query ${n.query}`);
      return new ResultNode(r, grid, table);
    }
    case 'aggregate':
      return new VectorAggregationNode(n.expr, compile(n.inner, grid, results, table));
    case 'binary':
      // As the engine compiles it: a literal operand makes a vector-scalar operation; `vector(x)` is a vector.
      if (n.lhs.kind === 'constant' && n.lhs.expr.kind === 'literal') {
        return new LiteralBinaryNode(n.expr, n.lhs.expr.value, compile(n.rhs, grid, results, table), true);
      }
      if (n.rhs.kind === 'constant' && n.rhs.expr.kind === 'literal') {
        return new LiteralBinaryNode(n.expr, n.rhs.expr.value, compile(n.lhs, grid, results, table), false);
      }
      return new VectorBinaryNode(n.expr, compile(n.lhs, grid, results, table), compile(n.rhs, grid, results, table));
    case 'label_replace':
      return new LabelReplaceNode(n.expr, compile(n.inner, grid, results, table));
    case 'constant':
      return new ConstantVectorNode(n.expr.value);
  }
}

/**
 * Evaluates the frontend's part of a plan over its leaves' results for the steps start…end (step 0: an instant
 * query), and builds the result as the engine's `evaluate` does: a vector sorted by labels (unless the query sorts
 * by value), or a matrix of series sorted by labels, failing once more than `maxSeries` series appear (≤ 0: no
 * limit).
 */
export async function evaluatePlan(
  root: PlanNode,
  expr: SampleExpr,
  range: { start: bigint; end: bigint; step: bigint },
  results: ReadonlyMap<LeafNode, MetricResult>,
  maxSeries: number,
): Promise<MetricResult> {
  const instant = range.step === 0n;
  const grid = new StepGrid(range.start, range.end, instant ? 0n : range.step);
  const table = new MetricTable();
  const node = compile(root, grid, results, table);
  await node.load();
  if (instant) {
    const vec = node.at(0);
    if (maxSeries > 0 && vec.length > maxSeries) throw seriesLimitError(maxSeries);
    const ms = grid.ms(0);
    const samples = vec.map((s: Sample) => ({ labels: s.metric.labels, ms, value: s.value }));
    if (!sortsByValue(expr)) samples.sort((a, b) => compareLabels(a.labels, b.labels));
    return { type: 'vector', samples };
  }
  const byKey = new Map<string, MatrixSeries>();
  for (let i = 0; i < grid.count; i++) {
    const ms = grid.ms(i);
    for (const s of node.at(i)) {
      const m: Metric = s.metric;
      let series = byKey.get(m.key);
      if (series === undefined) {
        series = { labels: m.labels, ms: [], values: [] };
        byKey.set(m.key, series);
      }
      series.ms.push(ms);
      series.values.push(s.value);
    }
    if (maxSeries > 0 && byKey.size > maxSeries) throw seriesLimitError(maxSeries);
  }
  return { type: 'matrix', series: [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels)) };
}

