import type { LineFilterStage as LineFilter } from '../syntax/ast.js';
import { compileGoRegexp } from '../../util/go/regexp.js';

export type LinePredicate = (line: Buffer) => boolean;

/**
 * Compiles line filters once per query into one predicate on the raw line bytes. Literal filters search the
 * bytes directly (no string is made); regex filters decode the line once, only when a regex stage is reached.
 */
export function compileLineFilters(filters: readonly LineFilter[]): LinePredicate | undefined {
  if (filters.length === 0) return undefined;
  const stages = filters.map(compileOne);
  if (stages.length === 1) return stages[0];
  return (line) => {
    for (const s of stages) if (!s(line)) return false;
    return true;
  };
}

function compileOne(f: LineFilter): LinePredicate {
  if (f.op === '|=' || f.op === '!=') {
    const needles = f.values.map((v) => Buffer.from(v.value, 'utf8'));
    const contains =
      needles.length === 1
        ? (line: Buffer) => line.indexOf(needles[0]!) >= 0
        : (line: Buffer) => needles.some((n) => line.indexOf(n) >= 0);
    return f.op === '|=' ? contains : (line) => !contains(line);
  }
  const res = f.values.map((v) => compileGoRegexp(v.value).re);
  const matches = (line: Buffer): boolean => {
    const s = line.toString('utf8');
    return res.some((re) => re.test(s));
  };
  return f.op === '|~' ? matches : (line) => !matches(line);
}
