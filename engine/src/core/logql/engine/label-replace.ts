import { badRequest } from '../../errors.js';
import { GoRegexpError, compileGoRegexp, goExpand } from '../../util/go/regexp.js';
import type { LabelReplaceExpr } from '../syntax/ast.js';
import { MetricTable, getLabel, withLabel, type Metric } from './labels.js';
import type { StepNode, StepVector } from './types.js';

/**
 * `label_replace(v, "dst", "replacement", "src", "regex")`: when the fully anchored regex matches the value of
 * `src` (absent = ""), `dst` becomes the expansion of `replacement` ($1, ${name}); an empty expansion removes `dst`.
 * No match leaves the series unchanged.
 */
export class LabelReplaceNode implements StepNode {
  private readonly re: RegExp;
  private readonly names: string[];
  private readonly table = new MetricTable();
  private readonly cache = new Map<string, Metric>();

  constructor(
    private readonly expr: LabelReplaceExpr,
    private readonly inner: StepNode,
  ) {
    try {
      const g = compileGoRegexp(`^(?:${expr.regex})$`);
      this.re = g.re;
      this.names = g.names;
    } catch (e) {
      if (e instanceof GoRegexpError) throw badRequest(`parse error : invalid regex in label_replace: ${e.message}`);
      throw e;
    }
  }

  load(): Promise<void> {
    return this.inner.load();
  }

  at(i: number): StepVector {
    return this.inner.at(i).map((s) => ({ metric: this.replace(s.metric), value: s.value }));
  }

  private replace(m: Metric): Metric {
    let out = this.cache.get(m.key);
    if (out === undefined) {
      const src = getLabel(m.labels, this.expr.src) ?? '';
      this.re.lastIndex = 0;
      const match = this.re.exec(src);
      if (match === null) out = m;
      else out = this.table.intern(withLabel(m.labels, this.expr.dst, goExpand(this.expr.replacement, match, this.names)));
      this.cache.set(m.key, out);
    }
    return out;
  }
}
