import { durationSeconds } from '../util/go/duration.js';
import type {
  BinaryExpr,
  Grouping,
  LabelReplaceExpr,
  LiteralExpr,
  RangeAggregationExpr,
  RangeOp,
  SampleExpr,
  VectorAggregationExpr,
  VectorExpr,
  VectorOp,
} from '../logql/syntax/ast.js';
import { printExpr } from '../logql/syntax/printer.js';

/**
 * How the frontend runs a metric query: a tree whose leaves are sub-queries sent to queriers (each split by stream
 * shard, or whole) and whose inner nodes the frontend evaluates itself over the leaves' results, with the engine's
 * own step nodes (so re-aggregation has exactly the engine's semantics).
 */
export type PlanNode = LeafNode | AggregateNode | BinaryNode | LabelReplaceNode | ConstantNode;

/** A sub-query executed by queriers. */
export interface LeafNode {
  kind: 'leaf';
  expr: SampleExpr;
  /** The sub-query's canonical text. */
  query: string;
  /** Run once per shard (`shards=i_of_n`), or once for all streams. */
  sharded: boolean;
  /**
   * What two shards returning the same series means. `fallback`: the query's series should each come from one
   * stream, so they cannot repeat across shards unless labels collided (e.g. structured metadata overriding a
   * stream label, an unwrapped stream label): the leaf is then re-run unsharded. `merged`: repeats are expected
   * and a parent merge node combines them.
   */
  collisions: 'fallback' | 'merged';
  /**
   * The sub-query's series are a subset of the final result's, so it may fail early on the tenant's
   * max_query_series; otherwise it runs without a series limit and only the final result is checked.
   */
  limited: boolean;
}

/** A vector aggregation evaluated by the frontend (`merge`: it recombines partial results of shards). */
export interface AggregateNode {
  kind: 'aggregate';
  /** Only op, param and grouping are used; `inner` is the original operand (not evaluated). */
  expr: VectorAggregationExpr;
  inner: PlanNode;
  merge: boolean;
}

export interface BinaryNode {
  kind: 'binary';
  expr: BinaryExpr;
  lhs: PlanNode;
  rhs: PlanNode;
  merge: boolean;
}

export interface LabelReplaceNode {
  kind: 'label_replace';
  expr: LabelReplaceExpr;
  inner: PlanNode;
}

export interface ConstantNode {
  kind: 'constant';
  expr: LiteralExpr | VectorExpr;
}

export interface QueryPlan {
  root: PlanNode;
  /** Some leaf runs per shard. */
  sharded: boolean;
  leaves: LeafNode[];
}

/** Range functions whose value over a union of streams is the sum of their values over each part. */
const ADDITIVE: ReadonlySet<RangeOp> = new Set(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time']);

/** How shards' values of the same series combine, for range functions where that is possible. */
function rangeMergeOp(op: RangeOp): 'sum' | 'max' | 'min' | undefined {
  if (ADDITIVE.has(op)) return 'sum';
  if (op === 'max_over_time') return 'max';
  if (op === 'min_over_time') return 'min';
  return undefined;
}

/** Vector aggregations computed per shard and recombined; the others (topk, sort, stddev, …) are never sharded. */
const PARTIAL_OPS: ReadonlySet<VectorOp> = new Set(['sum', 'count', 'max', 'min', 'avg']);

/**
 * Stages after which two different streams may end up with the same labels: `drop`/`keep` remove labels,
 * `label_format` renames or overwrites them, `unpack` replaces them with packed ones. Parsers only add labels (a
 * clash with a stream label is renamed `<name>_extracted`), so they keep streams apart.
 */
function reducesLabels(r: RangeAggregationExpr): boolean {
  return r.range.selector.stages.some((s) => s.kind === 'drop' || s.kind === 'keep' || s.kind === 'label_format' || s.kind === 'unpack');
}

/**
 * Every series of `e` is computed from the entries of a single stream, so each lives entirely in one shard and the
 * shards' series are disjoint: a range aggregation without grouping, without a label-reducing stage and without
 * unwrap (the unwrapped label leaves the series; it may be a stream label). absent_over_time is excluded: every
 * shard without data would report the absent series.
 */
export function seriesPerStream(e: SampleExpr): e is RangeAggregationExpr {
  return (
    e.kind === 'range_aggregation' &&
    e.op !== 'absent_over_time' &&
    e.grouping === undefined &&
    e.range.unwrap === undefined &&
    !reducesLabels(e)
  );
}

/**
 * The value of each series of `e` over all streams is the sum of its values over any partition of the streams:
 * additive range functions (whatever the pipeline or grouping), and sums or label_replace over such expressions
 * or over per-stream series.
 */
export function additive(e: SampleExpr): boolean {
  switch (e.kind) {
    case 'range_aggregation':
      return ADDITIVE.has(e.op);
    case 'vector_aggregation':
      return e.op === 'sum' && (additive(e.inner) || seriesPerStream(e.inner));
    case 'label_replace':
      return additive(e.inner) || seriesPerStream(e.inner);
    default:
      return false;
  }
}

const unshardedLeaf = (expr: SampleExpr): LeafNode => ({ kind: 'leaf', expr, query: printExpr(expr), sharded: false, collisions: 'fallback', limited: false });
const shardedLeaf = (expr: SampleExpr, collisions: LeafNode['collisions']): LeafNode => ({
  kind: 'leaf',
  expr,
  query: printExpr(expr),
  sharded: true,
  collisions,
  limited: false,
});
const WITHOUT_NOTHING: Grouping = { without: true, labels: [] };
const vecAgg = (op: VectorOp, grouping: Grouping, inner: SampleExpr, param?: number): VectorAggregationExpr =>
  param === undefined ? { kind: 'vector_aggregation', op, grouping, inner } : { kind: 'vector_aggregation', op, grouping, inner, param };
const ONE_TO_ONE = { card: 'one-to-one', on: false, labels: [], include: [] } as const;

function isSharded(n: PlanNode): boolean {
  switch (n.kind) {
    case 'leaf':
      return n.sharded;
    case 'aggregate':
    case 'label_replace':
      return isSharded(n.inner);
    case 'binary':
      return isSharded(n.lhs) || isSharded(n.rhs);
    case 'constant':
      return false;
  }
}

/**
 * rate and bytes_rate without unwrap are count_over_time and bytes_over_time divided by the range in seconds. When
 * shards' parts must be added, adding the integer counts and dividing once gives the engine's value bit for bit
 * (it computes a merged series' rate as its total count over the range), where adding per-shard rates would round
 * differently.
 */
function countForm(r: RangeAggregationExpr): { expr: RangeAggregationExpr; divisor: number } | undefined {
  if (r.range.unwrap !== undefined || r.grouping !== undefined) return undefined;
  if (r.op === 'rate') return { expr: { ...r, op: 'count_over_time' }, divisor: durationSeconds(r.range.interval) };
  if (r.op === 'bytes_rate') return { expr: { ...r, op: 'bytes_over_time' }, divisor: durationSeconds(r.range.interval) };
  return undefined;
}

function divide(lhs: PlanNode, divisor: number): BinaryNode {
  const literal: LiteralExpr = { kind: 'literal', value: divisor };
  const expr: BinaryExpr = { kind: 'binary', op: '/', lhs: literal, rhs: literal, returnBool: false, matching: { ...ONE_TO_ONE, labels: [], include: [] } };
  return { kind: 'binary', expr, lhs, rhs: { kind: 'constant', expr: literal }, merge: true };
}

function build(e: SampleExpr): PlanNode {
  switch (e.kind) {
    case 'literal':
    case 'vector':
      return { kind: 'constant', expr: e };
    case 'range_aggregation':
      return buildRange(e);
    case 'vector_aggregation':
      return buildVectorAggregation(e);
    case 'binary': {
      const lhs = build(e.lhs);
      const rhs = build(e.rhs);
      if (!isSharded(lhs) && !isSharded(rhs)) return unshardedLeaf(e);
      return { kind: 'binary', expr: e, lhs, rhs, merge: false };
    }
    case 'label_replace': {
      const inner = build(e.inner);
      if (!isSharded(inner)) return unshardedLeaf(e);
      return { kind: 'label_replace', expr: e, inner };
    }
  }
}

function buildRange(e: RangeAggregationExpr): PlanNode {
  if (e.op === 'absent_over_time') return unshardedLeaf(e);
  // Series are per stream (or, with unwrap, almost surely so): concatenate the shards, re-run unsharded if two
  // shards ever return the same series.
  if (e.grouping === undefined && !reducesLabels(e)) return shardedLeaf(e, 'fallback');
  // Series may span shards (a grouping, or labels dropped): combine the shards' values of a series, when the
  // function allows it.
  const op = rangeMergeOp(e.op);
  if (op === undefined) return unshardedLeaf(e);
  const counted = countForm(e);
  if (counted !== undefined) {
    const merged: AggregateNode = { kind: 'aggregate', expr: vecAgg('sum', WITHOUT_NOTHING, counted.expr), inner: shardedLeaf(counted.expr, 'merged'), merge: true };
    return divide(merged, counted.divisor);
  }
  return { kind: 'aggregate', expr: vecAgg(op, WITHOUT_NOTHING, e), inner: shardedLeaf(e, 'merged'), merge: true };
}

function buildVectorAggregation(e: VectorAggregationExpr): PlanNode {
  const inner = e.inner;
  const g = e.grouping;
  if (PARTIAL_OPS.has(e.op)) {
    const partial = e.op === 'sum' ? additive(inner) || seriesPerStream(inner) : seriesPerStream(inner);
    if (partial) {
      // Each shard aggregates its streams; the frontend aggregates the shards' groups.
      const part = (op: VectorOp, x: SampleExpr = inner): LeafNode => shardedLeaf(vecAgg(op, g, x), 'merged');
      const merge = (op: VectorOp, leaf: LeafNode): AggregateNode => ({ kind: 'aggregate', expr: vecAgg(op, g, leaf.expr), inner: leaf, merge: true });
      switch (e.op) {
        case 'sum': {
          const counted = inner.kind === 'range_aggregation' ? countForm(inner) : undefined;
          if (counted !== undefined) return divide(merge('sum', part('sum', counted.expr)), counted.divisor);
          return merge('sum', part('sum'));
        }
        case 'count':
          return merge('sum', part('count'));
        case 'max':
        case 'min':
          return merge(e.op, part(e.op));
        case 'avg': {
          const sum = merge('sum', part('sum'));
          const count = merge('sum', part('count'));
          const expr: BinaryExpr = {
            kind: 'binary',
            op: '/',
            lhs: sum.expr,
            rhs: count.expr,
            returnBool: false,
            matching: { ...ONE_TO_ONE, labels: [], include: [] },
          };
          return { kind: 'binary', expr, lhs: sum, rhs: count, merge: true };
        }
      }
    }
    // The operand shards some other way (a sharded sum, a binary operation, …): aggregate its merged result here.
    const sub = build(inner);
    if (isSharded(sub)) return { kind: 'aggregate', expr: e, inner: sub, merge: false };
  }
  return unshardedLeaf(e);
}

/** Marks the leaves whose series are a subset of the final result's (only merge nodes above them). */
function markLimited(n: PlanNode, limited: boolean, leaves: LeafNode[]): void {
  switch (n.kind) {
    case 'leaf':
      n.limited = limited;
      leaves.push(n);
      return;
    case 'aggregate':
      markLimited(n.inner, limited && n.merge, leaves);
      return;
    case 'binary':
      markLimited(n.lhs, limited && n.merge, leaves);
      markLimited(n.rhs, limited && n.merge, leaves);
      return;
    case 'label_replace':
      markLimited(n.inner, false, leaves);
      return;
    case 'constant':
      return;
  }
}

/**
 * The execution plan of a metric query. Rules (docs/query-frontend.md):
 * - a range aggregation whose series are each one stream's is sharded and its shards concatenated; one whose
 *   series may span shards (range grouping, drop/keep/label_format/unpack) is sharded only for sum-like
 *   (count_over_time, rate, bytes_over_time, bytes_rate, sum_over_time), max_over_time and min_over_time, the
 *   shards' values of a series being combined with sum/max/min; absent_over_time is never sharded;
 * - `sum G (x)` with x additive or per-stream: each shard computes `sum G (x)`, the frontend sums the groups;
 *   `count G`: shards count, the frontend sums; `max`/`min G`: the same op twice; `avg G` = sum G / count G —
 *   count, max, min and avg need x per-stream;
 * - other vector aggregations (topk, bottomk, sort, sort_desc, stddev, stdvar, approx_topk) are not sharded; a
 *   sum/count/max/min/avg whose operand is sharded otherwise (a sharded sum, a binary operation) is evaluated by
 *   the frontend over the operand's plan;
 * - binary operations and label_replace are evaluated by the frontend over their operands' plans when some
 *   operand is sharded; a subtree with nothing sharded is one unsharded sub-query.
 */
export function planQuery(expr: SampleExpr): QueryPlan {
  let root = build(expr);
  if (!isSharded(root)) root = unshardedLeaf(expr);
  const leaves: LeafNode[] = [];
  markLimited(root, true, leaves);
  return { root, sharded: isSharded(root), leaves };
}

/** Whether the frontend would shard this query by stream. */
export function shardable(expr: SampleExpr): boolean {
  return planQuery(expr).sharded;
}

/**
 * A compact form of a plan for logs and tests: `concat<q>` (sharded, shards concatenated), `shards<q>` (sharded,
 * merged by the parent), `<q>` (unsharded); frontend nodes print as LogQL around them.
 */
export function printPlan(n: PlanNode): string {
  switch (n.kind) {
    case 'leaf':
      return `${n.sharded ? (n.collisions === 'fallback' ? 'concat' : 'shards') : ''}<${n.query}>`;
    case 'aggregate': {
      const g = n.expr.grouping;
      const grouping = g.without || g.labels.length > 0 ? ` ${g.without ? 'without' : 'by'} (${g.labels.join(',')})` : '';
      const param = n.expr.param !== undefined ? `${n.expr.param},` : '';
      return `${n.expr.op}${grouping}(${param}${printPlan(n.inner)})`;
    }
    case 'binary':
      return `(${printPlan(n.lhs)} ${n.expr.op}${n.expr.returnBool ? ' bool' : ''} ${printPlan(n.rhs)})`;
    case 'label_replace':
      return `label_replace(${printPlan(n.inner)},${JSON.stringify(n.expr.dst)},${JSON.stringify(n.expr.replacement)},${JSON.stringify(n.expr.src)},${JSON.stringify(n.expr.regex)})`;
    case 'constant':
      return printExpr(n.expr);
  }
}
