import { EngineError } from '../../errors.js';
import { arithmetic, compare } from './arith.js';
import type {
  BinaryExpr,
  BinaryOp,
  Expr,
  Grouping,
  LabelExtraction,
  LabelFilter,
  LabelFormat,
  LineFilterOp,
  LineFilterStage,
  LineFilterValue,
  LiteralExpr,
  LogRange,
  LogSelectorExpr,
  NamedLabelMatcher,
  RangeOp,
  SampleExpr,
  Stage,
  Unwrap,
  VectorMatching,
  VectorOp,
  CmpOp,
} from './ast.js';
import { GoRegexpError, translateGoRegexp } from '../../util/go/regexp.js';
import { formatFloat, parseGoFloat } from '../../util/go/strconv.js';
import { parseError, tokenize, type Token } from './lexer.js';
import { LabelMatcher, type MatchType } from './matcher.js';

/**
 * LogQL's parser: recursive descent over Loki's grammar (pkg/logql/syntax), with Prometheus' operator precedence
 * for binary operations (`^` right-associative) and Loki's resolution of the ambiguous label filter grammar. Errors
 * are Loki's, in Loki's order: lexical and syntax errors (`parse error at line L, col C: syntax error: unexpected X,
 * expecting Y`) as the text is read; invalid matcher regexes and parser stages at once; the checks Loki records on
 * nodes (aggregation parameters, unwrap, operand types, empty-compatible selectors) after the whole query parsed.
 */

/** Loki refuses queries longer than this many bytes. */
export const MAX_INPUT_SIZE = 131072;

const EMPTY_SELECTOR_ERROR =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

const BINARY_PREC: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

const RANGE_OPS: Record<string, RangeOp> = {
  COUNT_OVER_TIME: 'count_over_time',
  RATE: 'rate',
  RATE_COUNTER: 'rate_counter',
  BYTES_OVER_TIME: 'bytes_over_time',
  BYTES_RATE: 'bytes_rate',
  AVG_OVER_TIME: 'avg_over_time',
  SUM_OVER_TIME: 'sum_over_time',
  MIN_OVER_TIME: 'min_over_time',
  MAX_OVER_TIME: 'max_over_time',
  STDVAR_OVER_TIME: 'stdvar_over_time',
  STDDEV_OVER_TIME: 'stddev_over_time',
  QUANTILE_OVER_TIME: 'quantile_over_time',
  FIRST_OVER_TIME: 'first_over_time',
  LAST_OVER_TIME: 'last_over_time',
  ABSENT_OVER_TIME: 'absent_over_time',
};

const VECTOR_OPS: Record<string, VectorOp> = {
  SUM: 'sum',
  AVG: 'avg',
  MIN: 'min',
  MAX: 'max',
  STDDEV: 'stddev',
  STDVAR: 'stdvar',
  COUNT: 'count',
  TOPK: 'topk',
  BOTTOMK: 'bottomk',
  SORT: 'sort',
  SORT_DESC: 'sort_desc',
  APPROX_TOPK: 'approx_topk',
};

const CONVERSIONS: Record<string, Unwrap['conversion']> = {
  BYTES_CONV: 'bytes',
  DURATION_CONV: 'duration',
  DURATION_SECONDS_CONV: 'duration_seconds',
};

const LINE_FILTER_OPS = new Set(['|=', '!=', '|~', '!~', '|>', '!>']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);

/** Range aggregations allowed to keep series apart with by/without. */
const RANGE_GROUPING_OK = new Set<RangeOp>([
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
]);
const RANGE_WITH_UNWRAP = new Set<RangeOp>([
  'avg_over_time',
  'sum_over_time',
  'max_over_time',
  'min_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'rate',
  'rate_counter',
  'absent_over_time',
  'first_over_time',
  'last_over_time',
]);
const RANGE_WITHOUT_UNWRAP = new Set<RangeOp>([
  'bytes_over_time',
  'bytes_rate',
  'count_over_time',
  'rate',
  'absent_over_time',
]);

const NO_GROUPING: Grouping = { without: false, labels: [] };

class Parser {
  private pos = 0;
  /** Errors Loki records on nodes while parsing and reports only once the whole query parsed. */
  private readonly deferred = new Map<object, string>();

  constructor(private readonly tokens: Token[]) {}

  parse(): Expr {
    const e = this.binary(0);
    const t = this.peek();
    if (t.kind !== '$end') throw this.unexpected(t);
    this.validate(e);
    validateLineFilterRegexes(e);
    return e;
  }

  // -- tokens -------------------------------------------------------------------------------------------------

  /** The token `k` ahead; a lexical error surfaces as soon as the parser looks at it. */
  private peek(k = 0): Token {
    const t = this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
    if (t.kind === 'ERROR') throw parseError(t.line, t.col, t.text);
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  private expect(kind: string, expecting?: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.unexpected(t, expecting);
    return this.next();
  }

  /** Loki's yacc message; `expecting` is given where Loki's parser lists the (at most four) tokens it wanted. */
  private unexpected(t: Token, expecting?: string): EngineError {
    return parseError(t.line, t.col, `syntax error: unexpected ${t.kind}${expecting ? `, expecting ${expecting}` : ''}`);
  }

  // -- expressions --------------------------------------------------------------------------------------------

  /** Precedence climbing over the binary operators; operands may be log queries, which Loki rejects later. */
  private binary(minPrec: number): Expr {
    let lhs = this.unary();
    for (;;) {
      const t = this.peek();
      const prec = BINARY_PREC[t.kind];
      if (prec === undefined || prec < minPrec) return lhs;
      this.next();
      const mods = this.binOpModifier();
      const rhs = this.binary(t.kind === '^' ? prec : prec + 1);
      lhs = this.makeBinary(t.kind as BinaryOp, mods.returnBool, mods.matching, lhs, rhs);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case '{':
        return this.logExpr();
      case '(': {
        this.next();
        const e = this.binary(0);
        this.expect(')');
        return e;
      }
      case 'NUMBER':
        this.next();
        return this.literal(t.text, false);
      case '+':
      case '-': {
        this.next();
        const n = this.expect('NUMBER', 'NUMBER');
        return this.literal(n.text, t.kind === '-');
      }
      case 'label_replace':
        return this.labelReplace();
      case 'VECTOR':
        return this.vector();
    }
    if (RANGE_OPS[t.kind] !== undefined) return this.rangeAggregation();
    if (VECTOR_OPS[t.kind] !== undefined) return this.vectorAggregation();
    throw this.unexpected(t);
  }

  /** An operand that must be a metric expression (a bare log query there is a syntax error at the next token). */
  private sampleOperand(): SampleExpr {
    const e = this.binary(0);
    if (e.kind === 'log') throw this.unexpected(this.peek());
    return e;
  }

  private literal(text: string, negate: boolean): LiteralExpr {
    const v = parseGoFloat(text);
    if (typeof v !== 'number') {
      const node: LiteralExpr = { kind: 'literal', value: 0 };
      this.deferred.set(node, `unable to parse literal as a float: ${v.message}`);
      return node;
    }
    return { kind: 'literal', value: negate ? -v : v };
  }

  private vector(): SampleExpr {
    this.next();
    this.expect('(', '(');
    const n = this.expect('NUMBER', 'NUMBER');
    this.expect(')', ')');
    const v = parseGoFloat(n.text);
    if (typeof v !== 'number') {
      const node: SampleExpr = { kind: 'vector', value: 0 };
      this.deferred.set(node, `unable to parse vectorExpr as a float: ${v.message}`);
      return node;
    }
    return { kind: 'vector', value: v };
  }

  private labelReplace(): SampleExpr {
    this.next();
    this.expect('(', '(');
    const inner = this.sampleOperand();
    this.expect(',');
    const dst = this.expect('STRING', 'STRING').text;
    this.expect(',', ',');
    const replacement = this.expect('STRING', 'STRING').text;
    this.expect(',', ',');
    const src = this.expect('STRING', 'STRING').text;
    this.expect(',', ',');
    const regex = this.expect('STRING', 'STRING').text;
    this.expect(')', ')');
    const node: SampleExpr = { kind: 'label_replace', inner, dst, replacement, src, regex };
    try {
      translateGoRegexp(`^(?:${regex})$`);
    } catch (e) {
      if (!(e instanceof GoRegexpError)) throw e;
      this.deferred.set(node, `invalid regex in label_replace: ${e.message}`);
    }
    return node;
  }

  private rangeAggregation(): SampleExpr {
    const op = RANGE_OPS[this.next().kind]!;
    this.expect('(', '(');
    let paramText: string | undefined;
    if (this.peek().kind === 'NUMBER') {
      paramText = this.next().text;
      this.expect(',', ',');
    }
    const range = this.logRange(paramText === undefined ? 'NUMBER or { or (' : '{ or (');
    this.expect(')');
    const grouping = this.maybeGrouping();
    const node: SampleExpr = { kind: 'range_aggregation', op, range };
    if (grouping !== undefined) node.grouping = grouping;
    let error: string | undefined;
    if (paramText !== undefined) {
      if (op !== 'quantile_over_time') {
        error = `parameter ${paramText} not supported for operation ${op}`;
      } else {
        const v = parseGoFloat(paramText);
        if (typeof v !== 'number') error = `invalid parameter for operation ${op}: ${v.message}`;
        else node.param = v;
      }
    } else if (op === 'quantile_over_time') {
      error = `parameter required for operation ${op}`;
    }
    if (error === undefined && grouping !== undefined && !RANGE_GROUPING_OK.has(op)) {
      error = `grouping not allowed for ${op} aggregation`;
    }
    if (error === undefined) {
      if (range.unwrap !== undefined) {
        if (!RANGE_WITH_UNWRAP.has(op)) error = `invalid aggregation ${op} with unwrap`;
      } else if (!RANGE_WITHOUT_UNWRAP.has(op)) {
        error = `invalid aggregation ${op} without unwrap`;
      }
    }
    if (error !== undefined) this.deferred.set(node, error);
    return node;
  }

  private vectorAggregation(): SampleExpr {
    const op = VECTOR_OPS[this.next().kind]!;
    let grouping = this.maybeGrouping();
    this.expect('(', grouping === undefined ? '( or by or without' : '(');
    let paramText: string | undefined;
    if (this.peek().kind === 'NUMBER' && this.peek(1).kind === ',') {
      paramText = this.next().text;
      this.next();
    }
    const inner = this.sampleOperand();
    this.expect(')');
    // A grouping goes before or after the operands, not both.
    grouping ??= this.maybeGrouping();
    const node: SampleExpr = { kind: 'vector_aggregation', op, inner, grouping: grouping ?? { ...NO_GROUPING, labels: [] } };
    let error: string | undefined;
    if (op === 'topk' || op === 'bottomk' || op === 'approx_topk') {
      if (paramText === undefined) {
        error = `parameter required for operation ${op}`;
      } else if (!/^[0-9]+$/.test(paramText) || BigInt(paramText) > (1n << 63n) - 1n) {
        error = `invalid parameter ${op}(${paramText},`;
      } else if (Number(paramText) <= 0) {
        error = `invalid parameter (must be greater than 0) ${op}(${paramText}`;
      } else if (op === 'approx_topk' && grouping !== undefined) {
        error = `grouping not allowed for ${op} aggregation`;
      } else {
        node.param = Number(paramText);
      }
    } else if (paramText !== undefined) {
      error = `unsupported parameter for operation ${op}(${paramText},`;
    }
    if (error !== undefined) this.deferred.set(node, error);
    return node;
  }

  private maybeGrouping(): Grouping | undefined {
    const t = this.peek();
    if (t.kind !== 'by' && t.kind !== 'without') return undefined;
    this.next();
    this.expect('(', '(');
    return { without: t.kind === 'without', labels: this.labelList() };
  }

  /** `a, b)` or `)` after an opening parenthesis: grouping, on/ignoring and group_left/right labels. */
  private labelList(): string[] {
    const labels: string[] = [];
    if (this.peek().kind === ')') {
      this.next();
      return labels;
    }
    for (;;) {
      labels.push(this.expect('IDENTIFIER', labels.length === 0 ? 'IDENTIFIER or )' : 'IDENTIFIER').text);
      const t = this.peek();
      if (t.kind === ')') {
        this.next();
        return labels;
      }
      if (t.kind !== ',') throw this.unexpected(t, ', or )');
      this.next();
    }
  }

  private binOpModifier(): { returnBool: boolean; matching: VectorMatching } {
    let returnBool = false;
    if (this.peek().kind === 'bool') {
      this.next();
      returnBool = true;
    }
    const matching: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
    const t = this.peek();
    if (t.kind === 'on' || t.kind === 'ignoring') {
      this.next();
      matching.on = t.kind === 'on';
      this.expect('(', '(');
      matching.labels = this.labelList();
      const g = this.peek();
      if (g.kind === 'group_left' || g.kind === 'group_right') {
        this.next();
        matching.card = g.kind === 'group_left' ? 'many-to-one' : 'one-to-many';
        // Loki's grammar always reads a `(` after group_left/right as its label list.
        if (this.peek().kind === '(') {
          this.next();
          matching.include = this.labelList();
        }
      }
    }
    return { returnBool, matching };
  }

  /** Loki's mustNewBinOpExpr: operand checks, and folding of an operation between two literals. */
  private makeBinary(op: BinaryOp, returnBool: boolean, matching: VectorMatching, lhs: Expr, rhs: Expr): SampleExpr {
    let error: string | undefined;
    if (lhs.kind === 'log') {
      error = `unexpected type for left leg of binary operation (${op}): ${goType(lhs)}`;
    } else if (rhs.kind === 'log') {
      error = `unexpected type for right leg of binary operation (${op}): ${goType(rhs)}`;
    } else {
      error =
        (lhs.kind === 'literal' ? this.deferred.get(lhs) : undefined) ??
        (rhs.kind === 'literal' ? this.deferred.get(rhs) : undefined);
      if (error === undefined && (op === 'or' || op === 'and' || op === 'unless')) {
        if (lhs.kind === 'literal') {
          error = `unexpected literal for left leg of logical/set binary operation (${op}): ${formatFloat(lhs.value, 'f', 6)}`;
        } else if (rhs.kind === 'literal') {
          error = `unexpected literal for right leg of logical/set binary operation (${op}): ${formatFloat(rhs.value, 'f', 6)}`;
        }
      }
      if (error === undefined && lhs.kind === 'literal' && rhs.kind === 'literal') {
        return { kind: 'literal', value: foldLiterals(op, lhs.value, rhs.value) };
      }
    }
    const placeholder: LiteralExpr = { kind: 'literal', value: NaN };
    const node: BinaryExpr = {
      kind: 'binary',
      op,
      lhs: lhs.kind === 'log' ? placeholder : lhs,
      rhs: rhs.kind === 'log' ? placeholder : rhs,
      returnBool,
      matching,
    };
    if (error !== undefined) this.deferred.set(node, error);
    return node;
  }

  // -- log queries --------------------------------------------------------------------------------------------

  private logExpr(): LogSelectorExpr {
    const matchers = this.selector();
    return { kind: 'log', matchers, stages: this.pipeline(false) };
  }

  private selector(): LabelMatcher[] {
    this.expect('{', '{');
    const matchers: LabelMatcher[] = [];
    if (this.peek().kind === '}') {
      this.next();
      return matchers;
    }
    for (;;) {
      const name = this.expect('IDENTIFIER', matchers.length === 0 ? 'IDENTIFIER or }' : 'IDENTIFIER');
      const op = this.peek();
      if (!MATCH_OPS.has(op.kind)) throw this.unexpected(op, '= or =~ or !~ or !=');
      this.next();
      const value = this.expect('STRING', 'STRING');
      matchers.push(this.matcher(op.kind as MatchType, name.text, value.text));
      const sep = this.peek();
      if (sep.kind === '}') {
        this.next();
        return matchers;
      }
      if (sep.kind !== ',') throw this.unexpected(sep, '} or ,');
      this.next();
    }
  }

  /** A matcher; an invalid regex fails the parse at once, as Loki's mustNewMatcher does. */
  private matcher(type: MatchType, name: string, value: string): LabelMatcher {
    try {
      return new LabelMatcher(type, name, value);
    } catch (e) {
      if (e instanceof EngineError) throw parseError(0, 0, e.message);
      throw e;
    }
  }

  /** Pipeline stages; in a range aggregation, `| unwrap` ends the pipeline. */
  private pipeline(inRange: boolean): Stage[] {
    const stages: Stage[] = [];
    for (;;) {
      const t = this.peek();
      if (LINE_FILTER_OPS.has(t.kind)) {
        stages.push(...this.lineFilter());
      } else if (t.kind === '|' && !(inRange && this.peek(1).kind === 'unwrap')) {
        this.next();
        stages.push(this.stage());
      } else {
        return stages;
      }
    }
  }

  /** A line filter and its `or` chain; a negative chain is split into one filter per value, as Loki does. */
  private lineFilter(): LineFilterStage[] {
    const op = this.next().kind as LineFilterOp;
    const values = [this.lineFilterValue()];
    while (this.peek().kind === 'or') {
      this.next();
      values.push(this.lineFilterValue());
    }
    if (op === '|=' || op === '|~' || op === '|>') return [{ kind: 'line_filter', op, values }];
    return values.map((v) => ({ kind: 'line_filter', op, values: [v] }));
  }

  private lineFilterValue(): LineFilterValue {
    const t = this.peek();
    if (t.kind === 'STRING') {
      this.next();
      return { value: t.text, ip: false };
    }
    if (t.kind === 'ip') return { value: this.ipCall(), ip: true };
    throw this.unexpected(t, 'STRING or ip');
  }

  /** `ip("…")` (the IP token only exists when `(` follows). */
  private ipCall(): string {
    this.next();
    this.expect('(', '(');
    const s = this.expect('STRING', 'STRING').text;
    this.expect(')', ')');
    return s;
  }

  /** One stage after `|`. */
  private stage(): Stage {
    const t = this.peek();
    switch (t.kind) {
      case 'json':
        this.next();
        return { kind: 'json', params: this.peek().kind === 'IDENTIFIER' ? this.extractions() : [] };
      case 'logfmt': {
        this.next();
        let strict = false;
        let keepEmpty = false;
        while (this.peek().kind === 'FUNCTION_FLAG') {
          if (this.next().text === '--strict') strict = true;
          else keepEmpty = true;
        }
        return { kind: 'logfmt', strict, keepEmpty, params: this.peek().kind === 'IDENTIFIER' ? this.extractions() : [] };
      }
      case 'regexp': {
        this.next();
        const pattern = this.expect('STRING', 'STRING').text;
        const err = regexpParserError(pattern);
        if (err !== undefined) throw parseError(0, 0, `invalid regexp parser: ${err}`);
        return { kind: 'regexp', pattern };
      }
      case 'pattern': {
        this.next();
        const pattern = this.expect('STRING', 'STRING').text;
        const err = patternParserError(pattern);
        if (err !== undefined) throw parseError(0, 0, `invalid pattern parser: ${err}`);
        return { kind: 'pattern', pattern };
      }
      case 'unpack':
        this.next();
        return { kind: 'unpack' };
      case 'line_format':
        this.next();
        return { kind: 'line_format', template: this.expect('STRING', 'STRING').text };
      case 'label_format':
        this.next();
        return { kind: 'label_format', formats: this.labelFormats() };
      case 'decolorize':
        this.next();
        return { kind: 'decolorize' };
      case 'drop':
      case 'keep':
        this.next();
        return { kind: t.kind as 'drop' | 'keep', labels: this.namedMatchers() };
      case 'IDENTIFIER':
      case '(':
        return { kind: 'label_filter', filter: this.labelFilter(0) };
    }
    throw this.unexpected(t);
  }

  private extractions(): LabelExtraction[] {
    const out: LabelExtraction[] = [];
    for (;;) {
      const id = this.expect('IDENTIFIER', 'IDENTIFIER');
      if (this.peek().kind === '=') {
        this.next();
        out.push({ label: id.text, expression: this.expect('STRING', 'STRING').text });
      } else {
        out.push({ label: id.text, expression: id.text });
      }
      if (this.peek().kind !== ',') return out;
      this.next();
    }
  }

  private labelFormats(): LabelFormat[] {
    const out: LabelFormat[] = [];
    for (;;) {
      const dst = this.expect('IDENTIFIER', 'IDENTIFIER').text;
      this.expect('=', '=');
      const v = this.peek();
      if (v.kind === 'IDENTIFIER') out.push({ kind: 'rename', dst, src: v.text });
      else if (v.kind === 'STRING') out.push({ kind: 'template', dst, template: v.text });
      else throw this.unexpected(v, 'IDENTIFIER or STRING');
      this.next();
      if (this.peek().kind !== ',') return out;
      this.next();
    }
  }

  private namedMatchers(): NamedLabelMatcher[] {
    const out: NamedLabelMatcher[] = [];
    for (;;) {
      const name = this.expect('IDENTIFIER', 'IDENTIFIER').text;
      const op = this.peek().kind;
      if (MATCH_OPS.has(op)) {
        this.next();
        const value = this.expect('STRING', 'STRING').text;
        out.push({ name, matcher: this.matcher(op as MatchType, name, value) });
      } else {
        out.push({ name });
      }
      if (this.peek().kind !== ',') return out;
      this.next();
    }
  }

  /**
   * A label filter expression. Loki's grammar is ambiguous and yacc resolves it so that `and` binds tighter than
   * `or` (both left-associative) while `,` and juxtaposition take everything to their right: `a or b, c` is
   * `a or (b and c)` and `a, b or c` is `a and (b or c)`.
   */
  private labelFilter(minPrec: number, expecting?: string): LabelFilter {
    let left = this.labelFilterUnit(expecting);
    for (;;) {
      const k = this.peek().kind;
      const prec = k === 'or' ? 1 : k === 'and' ? 2 : 0;
      if (prec === 0 || prec < minPrec) return left;
      this.next();
      const right = this.labelFilter(prec + 1, 'IDENTIFIER or (');
      left = { kind: k as 'and' | 'or', left, right };
    }
  }

  private labelFilterUnit(expecting?: string): LabelFilter {
    const p = this.labelFilterPrimary(expecting);
    const k = this.peek().kind;
    if (k === ',') {
      this.next();
      return { kind: 'and', left: p, right: this.labelFilter(0, 'IDENTIFIER or (') };
    }
    if (k === 'IDENTIFIER' || k === '(') return { kind: 'and', left: p, right: this.labelFilter(0) };
    return p;
  }

  private labelFilterPrimary(expecting?: string): LabelFilter {
    const t = this.peek();
    if (t.kind === '(') {
      this.next();
      const f = this.labelFilter(0, 'IDENTIFIER or (');
      this.expect(')');
      return f;
    }
    if (t.kind !== 'IDENTIFIER') throw this.unexpected(t, expecting);
    this.next();
    const name = t.text;
    const op = this.peek();
    switch (op.kind) {
      case '=':
      case '!=': {
        this.next();
        const v = this.peek();
        if (v.kind === 'STRING') {
          this.next();
          return { kind: 'string', matcher: this.matcher(op.kind, name, v.text) };
        }
        if (v.kind === 'ip') return { kind: 'ip', name, op: op.kind === '=' ? '==' : '!=', pattern: this.ipCall() };
        return this.valueFilter(name, op.kind === '=' ? '==' : '!=');
      }
      case '=~':
      case '!~': {
        this.next();
        const v = this.expect('STRING', 'STRING');
        return { kind: 'string', matcher: this.matcher(op.kind, name, v.text) };
      }
      case '==':
      case '>':
      case '>=':
      case '<':
      case '<=':
        this.next();
        return this.valueFilter(name, op.kind);
    }
    throw this.unexpected(op);
  }

  /** The duration, byte size or number a comparison filter compares with. */
  private valueFilter(name: string, op: CmpOp): LabelFilter {
    const v = this.peek();
    switch (v.kind) {
      case 'DURATION':
        this.next();
        return { kind: 'duration', name, op, value: v.duration! };
      case 'BYTES':
        this.next();
        return { kind: 'bytes', name, op, value: v.bytes! };
      case 'NUMBER':
        this.next();
        return { kind: 'number', name, op, value: filterNumber(v.text, false) };
      case '+':
      case '-': {
        this.next();
        const n = this.expect('NUMBER', 'NUMBER');
        return { kind: 'number', name, op, value: filterNumber(n.text, v.kind === '-') };
      }
    }
    throw this.unexpected(v);
  }

  // -- range vectors ------------------------------------------------------------------------------------------

  /**
   * A range vector in any of Loki's spellings: `{…} | p [5m]`, `{…}[5m] | p`, `({…} | p)[5m]`, with `offset`
   * after the range and `| unwrap` at the end of the pipeline (before or after the range), possibly parenthesized.
   */
  private logRange(expecting: string): LogRange {
    const t = this.peek();
    if (t.kind === '{') return this.rangeTail(this.selector());
    if (t.kind !== '(') throw this.unexpected(t, expecting);
    this.next();
    const u = this.peek();
    if (u.kind === '(') {
      const r = this.logRange('{ or (');
      this.expect(')');
      return r;
    }
    if (u.kind !== '{') throw this.unexpected(u, '{ or (');
    const matchers = this.selector();
    const stages = this.pipeline(true);
    const unwrap = this.maybeUnwrap();
    const next = this.peek();
    if (next.kind !== ')') {
      if (next.kind !== 'RANGE') throw this.unexpected(next, unwrap !== undefined ? 'RANGE or ) or |' : undefined);
      const r = this.rangeTail(matchers, stages, unwrap);
      this.expect(')');
      return r;
    }
    // `( selector [pipeline] [unwrap] ) [range] [offset]`, and `( selector ) [range] [offset] [unwrap]`.
    this.next();
    const interval = this.expect('RANGE', 'RANGE').duration!;
    const offset = this.maybeOffset();
    const late = stages.length === 0 && unwrap === undefined ? this.maybeUnwrap() : undefined;
    return makeRange(matchers, stages, interval, offset, unwrap ?? late);
  }

  private rangeTail(matchers: LabelMatcher[], before?: Stage[], beforeUnwrap?: Unwrap): LogRange {
    const stages = before ?? this.pipeline(true);
    const unwrap = before === undefined ? this.maybeUnwrap() : beforeUnwrap;
    const t = this.peek();
    // After `| unwrap x` only the range or another `| filter` may follow.
    if (t.kind !== 'RANGE') throw this.unexpected(t, unwrap !== undefined ? 'RANGE or |' : undefined);
    this.next();
    const interval = t.duration!;
    const offset = this.maybeOffset();
    if (stages.length > 0 || unwrap !== undefined) return makeRange(matchers, stages, interval, offset, unwrap);
    // `{…}[5m] [offset] | pipeline | unwrap`
    const after = this.pipeline(true);
    return makeRange(matchers, after, interval, offset, this.maybeUnwrap());
  }

  private maybeOffset(): bigint {
    if (this.peek().kind !== 'offset') return 0n;
    this.next();
    return this.expect('DURATION', 'DURATION').duration!;
  }

  private maybeUnwrap(): Unwrap | undefined {
    if (this.peek().kind !== '|' || this.peek(1).kind !== 'unwrap') return undefined;
    this.next();
    this.next();
    const t = this.peek();
    const unwrap: Unwrap = { label: '', postFilters: [] };
    const conversion = CONVERSIONS[t.kind];
    if (t.kind === 'IDENTIFIER') {
      this.next();
      unwrap.label = t.text;
    } else if (conversion !== undefined) {
      this.next();
      unwrap.conversion = conversion;
      this.expect('(', '(');
      unwrap.label = this.expect('IDENTIFIER', 'IDENTIFIER').text;
      this.expect(')', ')');
    } else {
      throw this.unexpected(t, 'IDENTIFIER or BYTES_CONV or DURATION_CONV or DURATION_SECONDS_CONV');
    }
    while (this.peek().kind === '|') {
      this.next();
      unwrap.postFilters.push(this.labelFilter(0, 'IDENTIFIER or ('));
    }
    return unwrap;
  }

  // -- checks Loki makes once the query parsed ----------------------------------------------------------------

  /** Loki's validateExpr: each node's recorded error, then the selectors, in tree order. */
  private validate(e: Expr): void {
    const own = this.deferred.get(e);
    if (own !== undefined) throw parseError(0, 0, own);
    switch (e.kind) {
      case 'log':
        validateMatchers(e.matchers);
        return;
      case 'binary':
        this.validate(e.lhs);
        this.validate(e.rhs);
        return;
      case 'vector_aggregation':
        if ((e.op === 'sort' || e.op === 'sort_desc') && e.grouping.labels.length > 0) {
          throw parseError(0, 0, "sort and sort_desc doesn't allow grouping by ");
        }
        this.validate(e.inner);
        return;
      case 'label_replace':
        this.validate(e.inner);
        return;
      case 'range_aggregation':
        validateMatchers(e.range.selector.matchers);
        return;
      case 'literal':
      case 'vector':
        return;
    }
  }
}

function makeRange(matchers: LabelMatcher[], stages: Stage[], interval: bigint, offset: bigint, unwrap?: Unwrap): LogRange {
  const range: LogRange = { selector: { kind: 'log', matchers, stages }, interval, offset };
  if (unwrap !== undefined) range.unwrap = unwrap;
  return range;
}

/** The Go type Loki names when a log query is used as an operand. */
function goType(e: LogSelectorExpr): string {
  return e.stages.length === 0 ? '*syntax.MatchersExpr' : '*syntax.PipelineExpr';
}

/** A number in a label filter; Loki ignores its parse error and uses the zero (or infinite) value. */
function filterNumber(text: string, negate: boolean): number {
  const v = parseGoFloat(text);
  const n = typeof v === 'number' ? v : v.range ? Infinity : 0;
  return negate ? -n : n;
}

/** Evaluates an operation between two literals as Loki's MergeBinOp does (comparisons give 0 or 1). */
function foldLiterals(op: BinaryOp, l: number, r: number): number {
  const c = compare(op, l, r);
  return c === undefined ? arithmetic(op, l, r) : c ? 1 : 0;
}

/** Loki refuses selectors that would match every stream. */
function validateMatchers(matchers: readonly LabelMatcher[]): void {
  if (!matchers.some((m) => !m.matchesEmpty())) throw parseError(0, 0, EMPTY_SELECTOR_ERROR);
}

/** Regex line filters must compile (Go syntax). */
function validateLineFilterRegexes(e: Expr): void {
  for (const sel of logSelectors(e)) {
    for (const st of sel.stages) {
      if (st.kind !== 'line_filter' || (st.op !== '|~' && st.op !== '!~')) continue;
      for (const v of st.values) {
        if (v.ip) continue;
        try {
          translateGoRegexp(v.value);
        } catch (err) {
          if (err instanceof GoRegexpError) throw parseError(0, 0, err.message);
          throw err;
        }
      }
    }
  }
}

/** Why Loki's regexp parser would refuse this expression, or undefined. */
function regexpParserError(pattern: string): string | undefined {
  let names: string[];
  try {
    names = translateGoRegexp(pattern).names;
  } catch (e) {
    if (e instanceof GoRegexpError) return e.message;
    throw e;
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '') continue;
    if (seen.has(n)) return `duplicate extracted label name '${n}'`;
    seen.add(n);
  }
  return seen.size === 0 ? 'at least one named capture must be supplied' : undefined;
}

/** Why Loki's pattern parser would refuse this pattern (`<name>` captures and literal text), or undefined. */
export function patternParserError(pattern: string): string | undefined {
  if (pattern === '') return 'parse error at line 1, col 1: syntax error: unexpected $end, expecting IDENTIFIER or LITERAL';
  const nodes: Array<{ capture: string } | { literal: true }> = [];
  const re = /<([A-Za-z_][A-Za-z0-9_]*)>/y;
  for (let i = 0; i < pattern.length; ) {
    re.lastIndex = i;
    const m = re.exec(pattern);
    if (m !== null) {
      nodes.push({ capture: m[1]! });
      i += m[0].length;
      continue;
    }
    if (nodes.length === 0 || !('literal' in nodes[nodes.length - 1]!)) nodes.push({ literal: true });
    i++;
  }
  const names = nodes.flatMap((n) => ('capture' in n && n.capture !== '_' ? [n.capture] : []));
  if (names.length === 0) return 'at least one capture is required';
  // Loki checks only the pairs starting at even positions.
  for (let i = 0; i + 1 < nodes.length; i += 2) {
    if ('capture' in nodes[i]! && 'capture' in nodes[i + 1]!) return 'found consecutive capture: invalid expression';
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return `duplicate capture name (${n}): invalid expression`;
    seen.add(n);
  }
  return undefined;
}

/** Every log selector in an expression, left to right (the range vectors of a metric query). */
export function logSelectors(e: Expr): LogSelectorExpr[] {
  switch (e.kind) {
    case 'log':
      return [e];
    case 'range_aggregation':
      return [e.range.selector];
    case 'vector_aggregation':
    case 'label_replace':
      return logSelectors(e.inner);
    case 'binary':
      return [...logSelectors(e.lhs), ...logSelectors(e.rhs)];
    case 'literal':
    case 'vector':
      return [];
  }
}

/** Parses a LogQL query (log or metric) into its syntax tree; throws a bad_request EngineError with Loki's message. */
export function parseExpr(query: string): Expr {
  const size = Buffer.byteLength(query, 'utf8');
  if (size >= MAX_INPUT_SIZE) throw parseError(0, 0, `input size too long (${size} > ${MAX_INPUT_SIZE})`);
  try {
    return new Parser(tokenize(query)).parse();
  } catch (e) {
    // Thousands of nested parentheses exhaust the stack of a recursive parser; refuse them rather than fail.
    if (e instanceof RangeError) throw parseError(0, 0, 'expression nested too deeply');
    throw e;
  }
}

/** Parses a series selector (`match[]` of /series, `query` of label values): a stream selector only. */
export function parseMatchers(selector: string): LabelMatcher[] {
  const expr = parseExpr(selector);
  if (expr.kind !== 'log' || expr.stages.length > 0) {
    throw new EngineError('bad_request', 'only label matchers are supported');
  }
  return expr.matchers;
}
