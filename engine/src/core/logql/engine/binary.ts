import { EngineError } from '../../errors.js';
import type { BinaryExpr, BinaryOp, VectorMatching } from '../syntax/ast.js';
import { arithmetic, compare } from '../syntax/arith.js';
import { MANY_TO_MANY, MULTIPLE_MATCHES_GROUPING, MULTIPLE_MATCHES_ONE_TO_ONE } from './errors.js';
import { MetricTable, dropLabels, getLabel, keepLabels, withLabel, type Metric } from './labels.js';
import type { Sample, StepNode, StepVector } from './types.js';

const COMPARISON: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '>=', '<', '<=']);

/** One binary operator on two values: the arithmetic, or for a comparison 1 when true and undefined when false. */
function apply(op: BinaryOp, l: number, r: number): number | undefined {
  const c = compare(op, l, r);
  if (c !== undefined) return c ? 1 : undefined;
  return op === 'and' || op === 'or' || op === 'unless' ? undefined : arithmetic(op, l, r);
}

/**
 * `vector op scalar` / `scalar op vector`. The result keeps the vector's labels; a comparison keeps the vector's
 * sample (its value) when true and drops it when false, or gives 0/1 with `bool`.
 */
export class LiteralBinaryNode implements StepNode {
  private readonly comparison: boolean;

  constructor(
    private readonly expr: BinaryExpr,
    private readonly literal: number,
    private readonly vector: StepNode,
    /** True when the literal is the left operand. */
    private readonly literalLeft: boolean,
  ) {
    this.comparison = COMPARISON.has(expr.op);
  }

  load(): Promise<void> {
    return this.vector.load();
  }

  at(i: number): StepVector {
    const vec = this.vector.at(i);
    const out: StepVector = [];
    const { op, returnBool } = this.expr;
    for (const s of vec) {
      const l = this.literalLeft ? this.literal : s.value;
      const r = this.literalLeft ? s.value : this.literal;
      const v = apply(op, l, r);
      if (!this.comparison) {
        out.push({ metric: s.metric, value: v! });
      } else if (returnBool) {
        out.push({ metric: s.metric, value: v === undefined ? 0 : 1 });
      } else if (v !== undefined) {
        out.push(s);
      }
    }
    return out;
  }
}

/**
 * `vector op vector` with Loki's matching: signatures from `on`/`ignoring`, one-to-one unless group_left/right,
 * `and`/`or`/`unless` as set operations, and Loki's error texts for ambiguous matches.
 */
export class VectorBinaryNode implements StepNode {
  private readonly sigs = new Map<string, string>();
  private readonly results = new Map<string, Metric>();
  private readonly table = new MetricTable();
  private readonly matchNames: ReadonlySet<string>;
  private readonly comparison: boolean;

  constructor(
    private readonly expr: BinaryExpr,
    private readonly lhs: StepNode,
    private readonly rhs: StepNode,
  ) {
    this.matchNames = new Set(expr.matching.labels);
    this.comparison = COMPARISON.has(expr.op);
  }

  async load(): Promise<void> {
    await Promise.all([this.lhs.load(), this.rhs.load()]);
  }

  at(i: number): StepVector {
    const rhs = this.rhs.at(i);
    const lhs = this.lhs.at(i);
    switch (this.expr.op) {
      case 'and':
        return this.and(lhs, rhs);
      case 'or':
        return this.or(lhs, rhs);
      case 'unless':
        return this.unless(lhs, rhs);
      default:
        return this.arith(lhs, rhs);
    }
  }

  private sig(m: Metric): string {
    let s = this.sigs.get(m.key);
    if (s === undefined) {
      const { on } = this.expr.matching;
      s = this.table.intern(on ? keepLabels(m.labels, this.matchNames) : dropLabels(m.labels, this.matchNames)).key;
      this.sigs.set(m.key, s);
    }
    return s;
  }

  private and(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.length === 0 || rhs.length === 0) return [];
    const right = new Set(rhs.map((s) => this.sig(s.metric)));
    return lhs.filter((s) => right.has(this.sig(s.metric)));
  }

  private or(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.length === 0) return rhs;
    if (rhs.length === 0) return lhs;
    const left = new Set(lhs.map((s) => this.sig(s.metric)));
    return [...lhs, ...rhs.filter((s) => !left.has(this.sig(s.metric)))];
  }

  private unless(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.length === 0 || rhs.length === 0) return lhs;
    const right = new Set(rhs.map((s) => this.sig(s.metric)));
    return lhs.filter((s) => !right.has(this.sig(s.metric)));
  }

  private arith(lhsIn: StepVector, rhsIn: StepVector): StepVector {
    const matching = this.expr.matching;
    const swap = matching.card === 'one-to-many';
    // For group_right the "one" side is the left: evaluate as group_left with the operands swapped.
    const many = swap ? rhsIn : lhsIn;
    const one = swap ? lhsIn : rhsIn;
    const oneBySig = new Map<string, Sample>();
    for (const s of one) {
      const sig = this.sig(s.metric);
      if (oneBySig.has(sig)) throw new EngineError('internal', MANY_TO_MANY(swap ? 'left' : 'right'));
      oneBySig.set(sig, s);
    }
    const matched = new Map<string, Set<string> | null>();
    const out: StepVector = [];
    for (const ms of many) {
      const sig = this.sig(ms.metric);
      const os = oneBySig.get(sig);
      if (os === undefined) continue;
      const metric = this.resultMetric(ms.metric, os.metric, matching);
      if (matching.card === 'one-to-one') {
        if (matched.has(sig)) throw new EngineError('internal', MULTIPLE_MATCHES_ONE_TO_ONE);
        matched.set(sig, null);
      } else {
        let inserted = matched.get(sig);
        if (inserted === undefined || inserted === null) {
          inserted = new Set();
          matched.set(sig, inserted);
        } else if (inserted.has(metric.key)) {
          throw new EngineError('internal', MULTIPLE_MATCHES_GROUPING);
        }
        inserted.add(metric.key);
      }
      const l = swap ? os : ms;
      const r = swap ? ms : os;
      const v = apply(this.expr.op, l.value, r.value);
      if (!this.comparison) out.push({ metric, value: v! });
      else if (this.expr.returnBool) out.push({ metric, value: v === undefined ? 0 : 1 });
      else if (v !== undefined) out.push({ metric, value: l.value });
    }
    return out;
  }

  /**
   * The labels of a result sample: the "many" side's, reduced to the `on` labels (or without the `ignoring` ones)
   * for one-to-one matching, plus the group_left/right labels copied from the "one" side.
   */
  private resultMetric(many: Metric, one: Metric, matching: VectorMatching): Metric {
    const key = matching.include.length > 0 ? many.key + '\u0000' + one.key : many.key;
    let m = this.results.get(key);
    if (m === undefined) {
      let labels = many.labels;
      if (matching.card === 'one-to-one') labels = matching.on ? keepLabels(labels, this.matchNames) : dropLabels(labels, this.matchNames);
      for (const name of matching.include) labels = withLabel(labels, name, getLabel(one.labels, name));
      m = this.table.intern(labels);
      this.results.set(key, m);
    }
    return m;
  }
}
