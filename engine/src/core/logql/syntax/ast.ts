import type { LabelMatcher } from './matcher.js';

/**
 * The LogQL syntax tree: plain data, one discriminated union per layer, shaped for compiling into a pipeline.
 * Constructs that mean the same thing have one shape (the seven ways to place `[range]`, `offset` and `unwrap`
 * become one LogRange; `!= "a" or "b"` becomes two filters, as Loki rewrites it), so evaluation and printing never
 * see syntax variants. Durations are nanoseconds as bigint.
 */

export type Expr = LogSelectorExpr | SampleExpr;

// ---------------------------------------------------------------------------------------------------------------
// Log queries

/** A log query: a stream selector and the pipeline stages that follow it, in order. */
export interface LogSelectorExpr {
  kind: 'log';
  matchers: LabelMatcher[];
  stages: Stage[];
}

export type Stage =
  | LineFilterStage
  | JsonParserStage
  | LogfmtParserStage
  | RegexpParserStage
  | PatternParserStage
  | UnpackParserStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropLabelsStage
  | KeepLabelsStage
  | DecolorizeStage;

/** `|=` contains, `!=` does not contain, `|~` / `!~` regex, `|>` / `!>` pattern. */
export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

/** One alternative of a line filter: a string (text, regex or pattern by the filter's op) or an `ip("…")` match. */
export interface LineFilterValue {
  value: string;
  ip: boolean;
}

/**
 * A line filter. A positive filter (`|=`, `|~`, `|>`) keeps a line matching any of its `or` alternatives; Loki
 * rewrites a negative `or` chain into one filter per alternative, so a negative filter has exactly one value.
 */
export interface LineFilterStage {
  kind: 'line_filter';
  op: LineFilterOp;
  values: LineFilterValue[];
}

/** `key` or `key="json.path[0]"` / `key="logfmt_key"`: the label to extract and where from. */
export interface LabelExtraction {
  label: string;
  expression: string;
}

/** `| json` (everything) or `| json a="x.y", b` (only these). */
export interface JsonParserStage {
  kind: 'json';
  params: LabelExtraction[];
}

/** `| logfmt [--strict] [--keep-empty] [a="b", …]`. */
export interface LogfmtParserStage {
  kind: 'logfmt';
  strict: boolean;
  keepEmpty: boolean;
  params: LabelExtraction[];
}

/** `| regexp "(?P<name>…)"`: a Go regexp with at least one named group. */
export interface RegexpParserStage {
  kind: 'regexp';
  pattern: string;
}

/** `| pattern "<ip> - <_> <status>"`. */
export interface PatternParserStage {
  kind: 'pattern';
  pattern: string;
}

export interface UnpackParserStage {
  kind: 'unpack';
}

/** `| <label filter expression>`. */
export interface LabelFilterStage {
  kind: 'label_filter';
  filter: LabelFilter;
}

/** `| line_format "{{.label}}"`: a Go text/template. */
export interface LineFormatStage {
  kind: 'line_format';
  template: string;
}

/** `| label_format dst=src, dst="{{ template }}"`. */
export interface LabelFormatStage {
  kind: 'label_format';
  formats: LabelFormat[];
}

export type LabelFormat =
  | { kind: 'rename'; dst: string; src: string }
  | { kind: 'template'; dst: string; template: string };

/** A `drop`/`keep` operand: a bare label name, or a matcher restricting which values are dropped/kept. */
export interface NamedLabelMatcher {
  name: string;
  matcher?: LabelMatcher;
}

export interface DropLabelsStage {
  kind: 'drop';
  labels: NamedLabelMatcher[];
}

export interface KeepLabelsStage {
  kind: 'keep';
  labels: NamedLabelMatcher[];
}

export interface DecolorizeStage {
  kind: 'decolorize';
}

/** Comparison of a label filter; the source's `=` is `==`. */
export type CmpOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

/** A label filter expression; `,` and juxtaposition are `and`. */
export type LabelFilter =
  | { kind: 'and'; left: LabelFilter; right: LabelFilter }
  | { kind: 'or'; left: LabelFilter; right: LabelFilter }
  /** `name = "v"`, `!=`, `=~`, `!~` (an absent label has the value ""). */
  | { kind: 'string'; matcher: LabelMatcher }
  /** `name > 5` on the label's value read as a float. */
  | { kind: 'number'; name: string; op: CmpOp; value: number }
  /** `name > 10s` on the label's value read as a Go duration; value in nanoseconds. */
  | { kind: 'duration'; name: string; op: CmpOp; value: bigint }
  /** `name > 1KB` on the label's value read as a byte size; value in bytes. */
  | { kind: 'bytes'; name: string; op: CmpOp; value: number }
  /** `name = ip("10.0.0.0/8")`. */
  | { kind: 'ip'; name: string; op: '==' | '!='; pattern: string };

// ---------------------------------------------------------------------------------------------------------------
// Metric queries

export type SampleExpr =
  | RangeAggregationExpr
  | VectorAggregationExpr
  | BinaryExpr
  | LiteralExpr
  | VectorExpr
  | LabelReplaceExpr;

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'rate_counter'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'avg_over_time'
  | 'sum_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stdvar_over_time'
  | 'stddev_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'absent_over_time';

export type VectorOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'stddev'
  | 'stdvar'
  | 'count'
  | 'topk'
  | 'bottomk'
  | 'sort'
  | 'sort_desc'
  | 'approx_topk';

export type BinaryOp =
  | 'or'
  | 'and'
  | 'unless'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | '=='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<=';

/** `by (a, b)` or `without (a, b)`; `by ()` (no labels) aggregates everything into one series. */
export interface Grouping {
  without: boolean;
  labels: string[];
}

/** `| unwrap [bytes|duration|duration_seconds](label) [| label filter …]`: the sample value of each entry. */
export interface Unwrap {
  label: string;
  conversion?: 'bytes' | 'duration' | 'duration_seconds';
  /** Label filters applied after unwrapping (typically on `__error__`). */
  postFilters: LabelFilter[];
}

/** The range vector of a range aggregation: `{…} | pipeline | unwrap x [5m] offset 1h`. */
export interface LogRange {
  selector: LogSelectorExpr;
  /** The range in nanoseconds. */
  interval: bigint;
  /** The offset in nanoseconds; 0 when absent (may be negative). */
  offset: bigint;
  unwrap?: Unwrap;
}

/** `count_over_time({…}[5m])`, `quantile_over_time(0.99, {…} | unwrap x [5m]) by (a)`. */
export interface RangeAggregationExpr {
  kind: 'range_aggregation';
  op: RangeOp;
  range: LogRange;
  /** quantile_over_time's φ. */
  param?: number;
  /** Only the unwrapped aggregations that keep series apart accept one (avg, min, max, …). */
  grouping?: Grouping;
}

/** `sum by (a) (…)`, `topk(5, …)`. A missing grouping is `by ()`. */
export interface VectorAggregationExpr {
  kind: 'vector_aggregation';
  op: VectorOp;
  inner: SampleExpr;
  /** k of topk, bottomk and approx_topk. */
  param?: number;
  grouping: Grouping;
}

export type VectorMatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many';

/** `on (a)` / `ignoring (a)` and `group_left (b)` / `group_right (b)`. */
export interface VectorMatching {
  card: VectorMatchCardinality;
  /** True for `on (…)`, false for `ignoring (…)` or no clause. */
  on: boolean;
  labels: string[];
  /** Labels copied from the "one" side by group_left/group_right (…). */
  include: string[];
}

/** A binary operation between two sample expressions; a literal-only operation is folded into a literal. */
export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  lhs: SampleExpr;
  rhs: SampleExpr;
  /** The `bool` modifier of comparisons: 0/1 instead of filtering. */
  returnBool: boolean;
  matching: VectorMatching;
}

/** A number (scalar) literal. */
export interface LiteralExpr {
  kind: 'literal';
  value: number;
}

/** `vector(1)`: a one-sample vector without labels at every step. */
export interface VectorExpr {
  kind: 'vector';
  value: number;
}

/** `label_replace(inner, "dst", "replacement", "src", "regex")`. */
export interface LabelReplaceExpr {
  kind: 'label_replace';
  inner: SampleExpr;
  dst: string;
  replacement: string;
  src: string;
  regex: string;
}

export const isLogExpr = (e: Expr): e is LogSelectorExpr => e.kind === 'log';
export const isSampleExpr = (e: Expr): e is SampleExpr => e.kind !== 'log';
