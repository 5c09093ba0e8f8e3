import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parser } from '@grafana/lezer-logql';
import ts from 'typescript';
import { parseExpr } from './parser.js';
import { printExpr } from './printer.js';
import { AST_CASES, ERROR_CASES, PRINT_CASES } from './queries.fixture.js';

/**
 * Every LogQL query of the test suite, run through Grafana's LogQL grammar (@grafana/lezer-logql, what Grafana's
 * editor uses) as a second opinion on our parser.
 *
 * The queries: the syntax fixtures (queries.fixture.ts, with the canonical text of each printed query), and every
 * string of the test suite — engine/src/**\/*.test.ts and test/**\/*.ts — read with the TypeScript compiler: string
 * literals, template literals and `+` concatenations whose parts are literals or string constants of the same file,
 * and the `query=` parameter of URLs. A string is a query when either parser accepts it.
 *
 * A disagreement is a query one parser accepts and the other refuses. Every one must be listed below with the reason;
 * an unlisted one fails the test (new tests that hit a difference must explain it here), and so does a listed one
 * that no longer disagrees or is no longer in the suite, so the lists cannot go stale. Queries our parser refuses
 * with one of the checks Loki makes on the parsed tree (not the grammar) are no disagreement: lezer only knows the
 * grammar. Those checks are listed too, and any other kind of refusal lezer accepts fails the test.
 */

const ROOT = resolve(import.meta.dirname, '../../../../..');
const SELF = resolve(import.meta.dirname, 'lezer-crosscheck.test.ts');

// ---------------------------------------------------------------------------------------------------------------
// The known, explained differences.

/** Queries Loki (and this parser) accept that the lezer grammar refuses, by reason. */
const LEZER_REJECTS_VALID: ReadonlyArray<{ reason: string; queries: readonly string[] }> = [
  {
    reason: 'Loki’s Go text/scanner skips // and /* */ comments; lezer knows only # comments',
    queries: [
      '{app="foo"} // Go comments too\n/* and block ones */ |= "x"',
      '{a="b"} # |= "c"\n| json // x\n/* y\n z */ |= "d"',
      'count_over_time({job="mysql"}[5m] offset 5m) // GOOD',
    ],
  },
  {
    reason: 'Loki’s scanner takes any Unicode letter in an identifier; lezer identifiers are ASCII',
    queries: ['{ünïcode_名="x"}', '{é="b"}'],
  },
  {
    reason: 'Loki’s lexer turns a character it has no token for into an IDENTIFIER (`@` is a label name to Loki)',
    queries: ['{a="b"\n, @="c"}'],
  },
  {
    reason: 'lezer bug: its keyword table is a plain object, so the identifier `__proto__` resolves to Object.prototype',
    queries: ['{__proto__="x", app="a"}'],
  },
  {
    reason: 'Loki’s grammar has `labelFilter labelFilter` (juxtaposition is and); lezer does not',
    queries: [
      '{app="foo"} | a="1" b="2" or c="3"',
      '{app="foo"} | foo="bar" buzz!="blip", blop=~"boop" or fuzz==5',
      '{job="http"} | logfmt | duration >= 20ms or size == 20KB  method!~"2.."',
    ],
  },
  {
    reason: 'go-humanize (Loki) reads `1k` as 1000 bytes; lezer’s byte unit needs a B',
    queries: ['{app="foo"} | size > 1KB | s <= 2.5KiB | t != 10MiB | u == 42B | v >= 1k'],
  },
  {
    reason: 'Loki lowercases keywords; lezer’s function and keyword names are case-sensitive',
    queries: ['SUM BY (level) (COUNT_OVER_TIME({app="foo"}[5m]))', 'Sum By (Level) (Count_Over_Time({App="x"} | Json | Level="ERROR" [5m]))'],
  },
  {
    reason: 'Loki’s lexer makes a function name a keyword only before `(` (or by/without), so `sum` can name a label; lezer reserves them',
    queries: ['{app="x"} | count_over_time="a" | sum="b" | vector > 1'],
  },
  {
    reason: 'Loki’s grammar has `( selector pipeline unwrap ) RANGE`; lezer lacks that form',
    queries: ['sum_over_time(({app="foo"} | json | unwrap x | x > 1)[5m])'],
  },
  {
    reason: 'Loki’s grammar has `selector pipeline unwrap RANGE offset`; lezer accepts offset after an unwrap only without pipeline stages before it',
    queries: [
      'sum by (a, b) (quantile_over_time(0.99, {app="foo"} |= "x" != "y" | json | unwrap duration(d) | __error__="" [5m] offset 1h) by (a)) / on (a) group_left (c) topk(3, count_over_time({app="bar"}[5m]))',
    ],
  },
  {
    reason: 'Loki’s scanner reads Go number literals (hex floats, `_` separators); lezer’s numbers are decimal',
    queries: [
      '0x1p-2',
      '0x1.8P1',
      '0x20000000000001p0',
      '0x20000000000003p0',
      '0x1p-1074',
      '0x1p-1075',
      '0x1.8p-1074',
      '0x1.fffffffffffffp1023',
      '0x0p+18446744073709551616',
      '1_0',
      '1_000',
      '0_1',
      '1_23.50_0_0e+1_2',
      '0x_1p4',
    ],
  },
];

/** Queries Loki refuses while reading them that the lezer grammar accepts (its tokens are looser), by reason. */
const LEZER_ACCEPTS_INVALID: ReadonlyArray<{ reason: string; queries: readonly string[] }> = [
  {
    reason: 'lezer does not check string escapes; Go’s unquoting refuses unknown escapes, \\\' in "…", bad hex, surrogates and code points past U+10FFFF, and octal escapes above 255',
    queries: [
      '{foo="a\\qb"}',
      '{app="\\q"}',
      '{a="x\\qy"}',
      '{a="x\\\'"}',
      '{a="\\xZZ"}',
      '{a="\\ud800"}',
      '{a="\\U00110000"}',
      '{foo="\\400"}',
      '{a="\\400"}',
    ],
  },
  {
    reason: 'lezer does not check number literals; Go’s scanner reads a leading 0 as octal and refuses 8 and 9 (dates such as 2025-09-01 are arithmetic to lezer)',
    queries: ['{app="foo"} | x > 09', '08', '2023-12-09', '2023-1-09', '2025-09-01', '2025-08-01'],
  },
  {
    reason: 'Loki’s lexer reads `-` and what follows as a negative duration when Go parses it as one, and Go parses "-0": a lone duration is no query',
    queries: ['-0'],
  },
];

/** Loki's checks on the parsed tree, which a grammar cannot make: our parser refuses these queries, lezer does not. */
const TREE_CHECKS: ReadonlyArray<{ reason: string; message: RegExp }> = [
  { reason: 'a selector must have a matcher that cannot match the empty value', message: /^parse error : queries require at least one regexp or equality matcher/ },
  { reason: 'regexes of matchers, line filters and label_replace must compile (Go syntax)', message: /^parse error : (invalid regex in label_replace: )?error parsing regexp: / },
  { reason: 'pattern and regexp parsers need valid expressions with captures', message: /^parse error : invalid (pattern|regexp) parser: / },
  { reason: 'numbers must be float64 values Go can parse', message: /^parse error : unable to parse literal as a float: / },
  {
    reason: 'parameters, grouping and unwrap must fit the aggregation',
    message: /^parse error : (unsupported parameter|invalid parameter|parameter required|parameter \S+ not supported|invalid aggregation|grouping not allowed|sort and sort_desc doesn't allow grouping)/,
  },
  {
    reason: 'operands of binary operations: no log query, and no literal beside and/or/unless',
    message: /^parse error : unexpected (type|literal) for (left|right) leg of (logical\/set )?binary operation/,
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The two parsers.

function lezerAccepts(query: string): boolean {
  let ok = true;
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.isError) ok = false;
    },
  });
  return ok;
}

type Verdict = { ok: true } | { ok: false; syntax: boolean; message: string };

/** Lexical and syntax errors are the grammar's; the other errors are checks Loki makes on a parsed tree. */
function ours(query: string): Verdict {
  try {
    parseExpr(query);
    return { ok: true };
  } catch (e) {
    const message = (e as Error).message;
    return { ok: false, syntax: /^parse error (at line|: syntax error)/.test(message), message };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The extractor.

function testFiles(): string[] {
  const out: string[] = [];
  for (const [dir, suffix] of [
    ['engine/src', '.test.ts'],
    ['test', '.ts'],
  ] as const) {
    for (const f of readdirSync(join(ROOT, dir), { recursive: true }) as string[]) {
      const path = join(ROOT, dir, f);
      if (f.endsWith(suffix) && !f.includes('node_modules') && path !== SELF) out.push(path);
    }
  }
  return out.sort();
}

/** Every string a test file spells out, with constant folding of template literals and `+` on strings. */
function stringsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const constants = new Map<string, string>();
  const out: string[] = [];
  const fold = (e: ts.Expression): string | undefined => {
    if (ts.isStringLiteral(e)) return e.text;
    if (ts.isNoSubstitutionTemplateLiteral(e)) return isStringRaw(e) ? e.rawText : e.text;
    if (ts.isParenthesizedExpression(e)) return fold(e.expression);
    if (ts.isIdentifier(e)) return constants.get(e.text);
    if (ts.isTemplateExpression(e)) {
      let s = e.head.text;
      for (const span of e.templateSpans) {
        const v = fold(span.expression);
        if (v === undefined) return undefined;
        s += v + span.literal.text;
      }
      return s;
    }
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const l = fold(e.left);
      const r = l === undefined ? undefined : fold(e.right);
      return l === undefined || r === undefined ? undefined : l + r;
    }
    return undefined;
  };
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer !== undefined && (n.parent.flags & ts.NodeFlags.Const) !== 0) {
      const v = fold(n.initializer);
      if (v !== undefined) constants.set(n.name.text, v);
    }
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n) || ts.isBinaryExpression(n)) {
      const v = fold(n as ts.Expression);
      if (v !== undefined) out.push(v, ...queryParams(v));
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

const isStringRaw = (n: ts.Node): boolean => ts.isTaggedTemplateExpression(n.parent) && n.parent.tag.getText() === 'String.raw';

/** The `query` parameters of a URL or query string. */
function queryParams(s: string): string[] {
  const at = s.indexOf('query=');
  if (at < 0) return [];
  const q = s.indexOf('?');
  try {
    return new URLSearchParams(q >= 0 && q < at ? s.slice(q + 1) : s.slice(at)).getAll('query');
  } catch {
    return [];
  }
}

/** Candidate strings and where each was first seen. */
function candidates(): Map<string, string> {
  const found = new Map<string, string>();
  const add = (s: string, where: string) => {
    if (!found.has(s)) found.set(s, where);
  };
  for (const [q] of AST_CASES) add(q, 'queries.fixture.ts AST_CASES');
  for (const [q] of ERROR_CASES) add(q, 'queries.fixture.ts ERROR_CASES');
  for (const [q] of PRINT_CASES) {
    add(q, 'queries.fixture.ts PRINT_CASES');
    const printed = printExpr(parseExpr(q));
    // Loki's printer has no text for NaN/Inf literals; those outputs are not queries.
    if (!/NaN|Inf/.test(printed)) add(printed, `printed form of ${JSON.stringify(q)}`);
  }
  for (const f of testFiles()) for (const s of stringsOf(f)) add(s, relative(ROOT, f));
  return found;
}

// ---------------------------------------------------------------------------------------------------------------

const strings = candidates();
interface Checked {
  query: string;
  where: string;
  ours: Verdict;
  lezer: boolean;
}
const checked: Checked[] = [];
for (const [query, where] of strings) {
  const verdict = ours(query);
  const lezer = lezerAccepts(query);
  if (verdict.ok || lezer) checked.push({ query, where, ours: verdict, lezer });
}
const listed = (lists: ReadonlyArray<{ queries: readonly string[] }>): Set<string> => new Set(lists.flatMap((l) => l.queries));
const rejectsValid = listed(LEZER_REJECTS_VALID);
const acceptsInvalid = listed(LEZER_ACCEPTS_INVALID);

describe('cross-check of every query of the test suite with @grafana/lezer-logql', () => {
  it('finds the queries of the whole suite (not just the syntax fixtures)', () => {
    const queries = checked.filter((c) => c.ours.ok);
    // Hundreds of queries with a stream selector, from dozens of test files.
    expect(queries.filter((c) => c.query.includes('{')).length).toBeGreaterThanOrEqual(700);
    expect(new Set(queries.map((c) => c.where)).size).toBeGreaterThanOrEqual(30);
    for (const file of ['test/logql-docs-log.e2e.test.ts', 'test/logql-docs-metric.e2e.test.ts', 'engine/src/core/logql/engine/evaluator.test.ts', 'test/tail.e2e.test.ts']) {
      expect([file, queries.some((c) => c.where === file)]).toEqual([file, true]);
    }
    // Folded templates and URL parameters are read too.
    expect(strings.has('vector(1)+vector(1)')).toBe(true);
  });

  it('agrees on every query, except the listed and explained differences', () => {
    const unexplained: string[] = [];
    for (const { query, where, ours: v, lezer } of checked) {
      const q = JSON.stringify(query);
      if (v.ok) {
        if (!lezer && !rejectsValid.has(query)) unexplained.push(`lezer refuses a query we accept: ${q} (${where})`);
      } else if (v.syntax) {
        if (!acceptsInvalid.has(query)) unexplained.push(`lezer accepts a query we refuse: ${q} (${where}): ${v.message}`);
      } else if (!TREE_CHECKS.some((t) => t.message.test(v.message))) {
        unexplained.push(`lezer accepts a query we refuse with an unlisted check: ${q} (${where}): ${v.message}`);
      }
    }
    expect(unexplained).toEqual([]);
  });

  it('lists only differences that still exist in the suite', () => {
    const byQuery = new Map(checked.map((c) => [c.query, c]));
    for (const q of rejectsValid) {
      const c = byQuery.get(q);
      expect([q, c?.ours.ok, c?.lezer]).toEqual([q, true, false]);
    }
    for (const q of acceptsInvalid) {
      const c = byQuery.get(q);
      expect([q, c?.ours.ok === false && c.ours.syntax, c?.lezer]).toEqual([q, true, true]);
    }
  });

  it('uses each check of the parsed tree it lists', () => {
    const messages = checked.flatMap((c) => (c.ours.ok ? [] : [c.ours.message]));
    for (const t of TREE_CHECKS) expect([t.reason, messages.some((m) => t.message.test(m))]).toEqual([t.reason, true]);
  });
});
