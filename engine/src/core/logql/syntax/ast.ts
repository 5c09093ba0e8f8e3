import type { LabelMatcher } from './matcher.js';

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

/** A line filter; several values are an `or` chain (`|= "a" or "b"`). */
export interface LineFilter {
  op: LineFilterOp;
  values: string[];
}

/** A log query: a stream selector and its pipeline. */
export interface LogSelectorExpr {
  kind: 'log';
  matchers: LabelMatcher[];
  filters: LineFilter[];
}

export type Expr = LogSelectorExpr;
