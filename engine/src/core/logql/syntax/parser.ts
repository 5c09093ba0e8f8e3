import { EngineError } from '../../errors.js';
import type { Expr, LineFilter, LineFilterOp, LogSelectorExpr } from './ast.js';
import { parseError, tokenize, type Token, type TokenKind } from './lexer.js';
import { LabelMatcher, type MatchType } from './matcher.js';

const MATCH_OPS: readonly TokenKind[] = ['=', '!=', '=~', '!~'];
const FILTER_OPS: readonly TokenKind[] = ['|=', '!=', '|~', '!~'];

/** Token names in error messages, as Loki's grammar prints them. */
function describe(t: Token): string {
  switch (t.kind) {
    case 'ident':
      return 'IDENTIFIER';
    case 'string':
      return 'STRING';
    case 'number':
      return 'NUMBER';
    case 'duration':
      return 'DURATION';
    case 'eof':
      return '$end';
    default:
      return t.text;
  }
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private expect(kind: TokenKind, expecting: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw this.unexpected(t, expecting);
    return t;
  }

  private unexpected(t: Token, expecting?: string): EngineError {
    return parseError(t.line, t.col, `syntax error: unexpected ${describe(t)}${expecting ? `, expecting ${expecting}` : ''}`);
  }

  parse(): Expr {
    const first = this.peek();
    if (first.kind !== '{') throw this.unexpected(first, '{');
    const expr = this.logSelector();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.unexpected(t);
    return expr;
  }

  private logSelector(): LogSelectorExpr {
    const matchers = this.selector();
    const filters: LineFilter[] = [];
    while (FILTER_OPS.includes(this.peek().kind)) filters.push(this.lineFilter());
    return { kind: 'log', matchers, filters };
  }

  private selector(): LabelMatcher[] {
    this.expect('{', '{');
    const matchers: LabelMatcher[] = [];
    if (this.peek().kind === '}') {
      const t = this.peek();
      throw parseError(t.line, t.col, 'syntax error: unexpected }, expecting IDENTIFIER');
    }
    for (;;) {
      const name = this.expect('ident', 'IDENTIFIER');
      const op = this.next();
      if (!MATCH_OPS.includes(op.kind)) throw this.unexpected(op, '= or != or =~ or !~');
      const value = this.expect('string', 'STRING');
      try {
        matchers.push(new LabelMatcher(op.kind as MatchType, name.text, value.text));
      } catch (e) {
        if (e instanceof EngineError) throw parseError(value.line, value.col, e.message);
        throw e;
      }
      const sep = this.next();
      if (sep.kind === '}') break;
      if (sep.kind !== ',') throw this.unexpected(sep, ', or }');
    }
    return matchers;
  }

  private lineFilter(): LineFilter {
    const op = this.next().kind as LineFilterOp;
    const values = [this.expect('string', 'STRING').text];
    while (this.peek().kind === 'ident' && this.peek().text.toLowerCase() === 'or') {
      this.next();
      values.push(this.expect('string', 'STRING').text);
    }
    if (op === '|~' || op === '!~') {
      for (const v of values) {
        try {
          new RegExp(v, 'su');
        } catch (e) {
          throw new EngineError('bad_request', `parse error : error parsing regexp: ${(e as Error).message}`);
        }
      }
    }
    return { op, values };
  }
}

/**
 * Parses a LogQL query. This covers log queries with stream selectors and line filters; the rest of LogQL
 * (parsers, label filters, metric queries) extends this parser.
 */
export function parseExpr(query: string): Expr {
  const expr = new Parser(tokenize(query)).parse();
  validateSelector(expr.matchers);
  return expr;
}

/** Loki refuses selectors that would match every stream. */
function validateSelector(matchers: readonly LabelMatcher[]): void {
  if (!matchers.some((m) => !m.matchesEmpty())) {
    throw new EngineError(
      'bad_request',
      'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  }
}

/** Parses a series selector (`match[]` of /series): matchers only. */
export function parseMatchers(selector: string): LabelMatcher[] {
  const expr = parseExpr(selector);
  if (expr.filters.length > 0) throw new EngineError('bad_request', `invalid series selector: ${selector}`);
  return expr.matchers;
}
