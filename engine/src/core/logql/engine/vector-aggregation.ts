import type { Labels } from '../../model.js';
import type { VectorAggregationExpr } from '../syntax/ast.js';
import { MetricTable, dropLabels, keepLabels, type Metric } from './labels.js';
import type { Sample, StepNode, StepVector } from './types.js';

interface Group {
  metric: Metric;
  value: number;
  mean: number;
  count: number;
  /** topk, bottomk, sort, sort_desc keep the samples themselves. */
  samples: Sample[] | undefined;
}

/**
 * `sum by (…) (…)` and the other vector aggregations, step by step, with Loki's arithmetic: the first sample of a
 * group seeds it; avg and stddev/stdvar are incremental (Welford); max/min replace a NaN.
 */
export class VectorAggregationNode implements StepNode {
  private readonly table = new MetricTable();
  /** Grouping key and output metric, per input series. */
  private readonly groupOf = new Map<string, { key: string; metric: Metric }>();
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly expr: VectorAggregationExpr,
    private readonly inner: StepNode,
  ) {
    this.names = new Set(expr.grouping.labels);
  }

  load(): Promise<void> {
    return this.inner.load();
  }

  at(i: number): StepVector {
    const vec = this.inner.at(i);
    const op = this.expr.op;
    const k = this.expr.param ?? 0;
    if ((op === 'topk' || op === 'bottomk' || op === 'approx_topk') && k < 1) return [];
    const groups = new Map<string, Group>();
    for (const s of vec) {
      const g = this.group(s.metric);
      let agg = groups.get(g.key);
      if (agg === undefined) {
        agg = { metric: g.metric, value: s.value, mean: s.value, count: 1, samples: undefined };
        if (op === 'stddev' || op === 'stdvar') agg.value = 0;
        if (op === 'topk' || op === 'bottomk' || op === 'approx_topk' || op === 'sort' || op === 'sort_desc') agg.samples = [s];
        groups.set(g.key, agg);
        continue;
      }
      switch (op) {
        case 'sum':
          agg.value += s.value;
          break;
        case 'avg':
          agg.count++;
          agg.mean += (s.value - agg.mean) / agg.count;
          break;
        case 'max':
          if (agg.value < s.value || Number.isNaN(agg.value)) agg.value = s.value;
          break;
        case 'min':
          if (agg.value > s.value || Number.isNaN(agg.value)) agg.value = s.value;
          break;
        case 'count':
          agg.count++;
          break;
        case 'stddev':
        case 'stdvar': {
          agg.count++;
          const delta = s.value - agg.mean;
          agg.mean += delta / agg.count;
          agg.value += delta * (s.value - agg.mean);
          break;
        }
        default:
          agg.samples!.push(s);
      }
    }
    const out: StepVector = [];
    for (const agg of groups.values()) {
      switch (op) {
        case 'avg':
          out.push({ metric: agg.metric, value: agg.mean });
          break;
        case 'count':
          out.push({ metric: agg.metric, value: agg.count });
          break;
        case 'stddev':
          out.push({ metric: agg.metric, value: Math.sqrt(agg.value / agg.count) });
          break;
        case 'stdvar':
          out.push({ metric: agg.metric, value: agg.value / agg.count });
          break;
        case 'topk':
        case 'approx_topk':
          out.push(...byValue(agg.samples!, true).slice(0, k));
          break;
        case 'bottomk':
          out.push(...byValue(agg.samples!, false).slice(0, k));
          break;
        case 'sort_desc':
          out.push(...byValue(agg.samples!, true));
          break;
        case 'sort':
          out.push(...byValue(agg.samples!, false));
          break;
        default:
          out.push({ metric: agg.metric, value: agg.value });
      }
    }
    return out;
  }

  private group(m: Metric): { key: string; metric: Metric } {
    let g = this.groupOf.get(m.key);
    if (g === undefined) {
      const labels: Labels = this.expr.grouping.without ? dropLabels(m.labels, this.names) : keepLabels(m.labels, this.names);
      const metric = this.table.intern(labels);
      g = { key: metric.key, metric };
      this.groupOf.set(m.key, g);
    }
    return g;
  }
}

/**
 * Samples ordered by value, descending or ascending; NaN last either way (Loki's heaps evict NaN first). Ties keep
 * input order.
 */
function byValue(samples: Sample[], descending: boolean): Sample[] {
  return samples.slice().sort((a, b) => {
    const an = Number.isNaN(a.value);
    const bn = Number.isNaN(b.value);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return descending ? b.value - a.value : a.value - b.value;
  });
}
