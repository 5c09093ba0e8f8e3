import { EngineError } from '../../errors.js';
import type { Expr, LogSelectorExpr } from './ast.js';
import { logSelectors, parseExpr, parseMatchers, patternParserError } from './parser.js';
import { AST_CASES, ERROR_CASES, m } from './queries.fixture.js';

function errorOf(query: string): EngineError {
  try {
    parseExpr(query);
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error(`parsed without error: ${query}`);
}

describe('parseExpr', () => {
  it.each(AST_CASES)('parses %j', (query, expected) => {
    expect(parseExpr(query)).toEqual(expected);
  });

  it.each(ERROR_CASES)('refuses %j with Loki’s message', (query, message) => {
    const err = errorOf(query);
    expect(err.message).toBe(message);
    expect(err.code).toBe('bad_request');
    expect(err.status).toBe(400);
  });

  it('treats keywords case-insensitively but keeps identifiers as written', () => {
    const e = parseExpr('Sum By (Level) (Count_Over_Time({App="x"} | Json | Level="ERROR" [5m]))') as Expr;
    expect(e).toMatchObject({ kind: 'vector_aggregation', op: 'sum', grouping: { labels: ['Level'] } });
  });

  it('makes function names keywords only before a parenthesis', () => {
    expect(parseExpr('{app="x"} | count_over_time="a" | sum="b" | vector > 1')).toEqual({
      kind: 'log',
      matchers: [m('=', 'app', 'x')],
      stages: [
        { kind: 'label_filter', filter: { kind: 'string', matcher: m('=', 'count_over_time', 'a') } },
        { kind: 'label_filter', filter: { kind: 'string', matcher: m('=', 'sum', 'b') } },
        { kind: 'label_filter', filter: { kind: 'number', name: 'vector', op: '>', value: 1 } },
      ],
    });
  });

  it('reports the first error in the text: a lexical error after a syntax error is not reached', () => {
    expect(errorOf('{app="x"} foo "unterminated').message).toBe('parse error at line 1, col 11: syntax error: unexpected IDENTIFIER');
    expect(errorOf('{app="x"} "unterminated foo').message).toBe('parse error at line 1, col 11: literal not terminated');
  });

  it('reports syntax errors before the checks made on a parsed query', () => {
    expect(errorOf('sum_over_time({app="x"}[5m]) foo').message).toBe('parse error at line 1, col 30: syntax error: unexpected IDENTIFIER');
  });

  it('reports recorded errors in tree order, as Loki validates', () => {
    // The left operand's empty selector is checked before the right operand's missing unwrap.
    expect(errorOf('count_over_time({a=~".*"}[1m]) / sum_over_time({b="c"}[1m])').message).toMatch(/^parse error : queries require/);
    expect(errorOf('sum_over_time({b="c"}[1m]) / count_over_time({a=~".*"}[1m])').message).toBe(
      'parse error : invalid aggregation sum_over_time without unwrap',
    );
    // A parameter error on an aggregation comes before anything inside it.
    expect(errorOf('sum(3, rate({a=~".*"}[1m]))').message).toBe('parse error : unsupported parameter for operation sum(3,');
  });

  it('reports positions on later lines, at line 0 for tokens Loki reads ahead', () => {
    expect(errorOf('{app="x"}\n  | json\n  | foo').message).toBe('parse error at line 3, col 8: syntax error: unexpected $end');
    expect(errorOf('{app="x"}\n|= "a"\n|= 5').message).toBe('parse error at line 3, col 4: syntax error: unexpected NUMBER, expecting STRING or ip');
    expect(errorOf('{app="x"}\n  |= "a" != "b"\n  [5m]').message).toBe('parse error at line 0, col 3: syntax error: unexpected RANGE');
    expect(errorOf('{app="x"} |\n').message).toBe('parse error at line 2, col 1: syntax error: unexpected $end');
    expect(errorOf('{\n').message).toBe('parse error at line 2, col 1: syntax error: unexpected $end, expecting IDENTIFIER or }');
  });

  it('accepts the largest query Loki accepts', () => {
    const q = `{app="x"} |= "${'a'.repeat(131072 - 16)}"`;
    expect(Buffer.byteLength(q)).toBe(131071);
    expect(parseExpr(q).kind).toBe('log');
  });

  it('counts the input size in UTF-8 bytes', () => {
    const q = `{app="${'é'.repeat(65536)}"}`;
    expect(errorOf(q).message).toBe(`parse error : input size too long (${Buffer.byteLength(q)} > 131072)`);
  });
});

describe('label matchers', () => {
  it('anchor regexes and let . match newlines, as Prometheus does', () => {
    const e = parseExpr('{app=~"api", b=~"x.y", c!~"(?i)FOO"}') as LogSelectorExpr;
    const [api, b, c] = e.matchers;
    expect(api!.matches('api')).toBe(true);
    expect(api!.matches('api-gateway')).toBe(false);
    expect(b!.matches('x\ny')).toBe(true);
    expect(c!.matches('foo')).toBe(false);
    expect(c!.matches('bar')).toBe(true);
  });

  it('print in Prometheus form', () => {
    expect(m('=~', 'a', 'x"y\n').toString()).toBe('a=~"x\\"y\\n"');
  });
});

describe('parseMatchers', () => {
  it('returns the matchers of a stream selector', () => {
    expect(parseMatchers('{app="foo", env=~"prod|dev"}')).toEqual([m('=', 'app', 'foo'), m('=~', 'env', 'prod|dev')]);
  });

  it('refuses anything but a selector with Loki’s message', () => {
    expect(() => parseMatchers('{app="foo"} |= "x"')).toThrow('only label matchers are supported');
    expect(() => parseMatchers('count_over_time({app="foo"}[1m])')).toThrow('only label matchers are supported');
    expect(() => parseMatchers('{app=~".*"}')).toThrow(/^parse error : queries require/);
  });
});

describe('logSelectors', () => {
  it('lists the selectors of a query left to right', () => {
    const e = parseExpr('sum(count_over_time({a="1"}[1m])) / label_replace(rate({a="2"} |= "x"[1m]), "a", "b", "c", "d") + vector(1)');
    expect(logSelectors(e).map((s) => s.matchers[0]!.value)).toEqual(['1', '2']);
    expect(logSelectors(parseExpr('1 + 2'))).toEqual([]);
  });
});

describe('pattern parser checks', () => {
  it('follow Loki, including its check of only even-positioned capture pairs', () => {
    expect(patternParserError('<a> <b>')).toBeUndefined();
    expect(patternParserError('<_> foo')).toBe('at least one capture is required');
    expect(patternParserError('x<a><b>')).toBeUndefined();
    expect(patternParserError('<a><_>')).toBe('found consecutive capture: invalid expression');
    expect(patternParserError('<1a> <b>')).toBeUndefined();
  });
});

describe('deep nesting', () => {
  it('parses nesting of any reasonable depth and refuses absurd depth with a 400', () => {
    expect(parseExpr(`${'('.repeat(500)}1${')'.repeat(500)}`)).toEqual({ kind: 'literal', value: 1 });
    const err = errorOf(`${'('.repeat(60000)}1${')'.repeat(60000)}`);
    expect([err.message, err.status]).toEqual(['parse error : expression nested too deeply', 400]);
    expect(errorOf(`{a="b"} | ${'('.repeat(60000)}x="1"${')'.repeat(60000)}`).message).toBe('parse error : expression nested too deeply');
  });
});
