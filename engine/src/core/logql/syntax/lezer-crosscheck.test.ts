import { parser } from '@grafana/lezer-logql';
import { parseExpr } from './parser.js';
import { printExpr } from './printer.js';
import { AST_CASES, ERROR_CASES, PRINT_CASES } from './queries.fixture.js';

/**
 * Every query of the syntax tests, run through Grafana's LogQL grammar (@grafana/lezer-logql, what Grafana's
 * editor uses) as a second opinion. Where the two disagree the reason is listed here; each listed case is asserted
 * to still disagree, so the list cannot go stale.
 */

function lezerAccepts(query: string): boolean {
  let ok = true;
  parser.parse(query).iterate({
    enter: (n) => {
      if (n.type.isError) ok = false;
    },
  });
  return ok;
}

/** Queries Loki (and this parser) accept that the lezer grammar rejects. */
const LEZER_REJECTS_VALID: Record<string, string> = {
  '{ünïcode_名="x"}': 'lezer identifiers are ASCII; Loki’s Go scanner takes any Unicode letter',
  '{app="foo"} // Go comments too\n/* and block ones */ |= "x"':
    'lezer knows only # comments; Loki’s Go text/scanner also skips // and /* */ comments',
  '{app="foo"} | size > 1KB | s <= 2.5KiB | t != 10MiB | u == 42B | v >= 1k':
    'go-humanize (Loki) reads `1k` as 1000 bytes; lezer’s byte unit needs a B',
  '{app="foo"} | a="1" b="2" or c="3"': 'Loki’s grammar has `labelFilter labelFilter` (juxtaposition is and); lezer does not',
  '{app="foo"} | foo="bar" buzz!="blip", blop=~"boop" or fuzz==5': 'juxtaposed label filters, as above',
  'SUM BY (level) (COUNT_OVER_TIME({app="foo"}[5m]))': 'lezer’s range function names are case-sensitive; Loki lowercases all keywords',
  'sum_over_time(({app="foo"} | json | unwrap x | x > 1)[5m])':
    'Loki’s grammar has `( selector pipeline unwrap ) RANGE`; lezer lacks that form',
};

/** Queries Loki refuses while lexing that the lezer grammar accepts (its tokens are looser). */
const LEZER_ACCEPTS_INVALID: Record<string, string> = {
  '{foo="a\\qb"}': 'lezer does not check string escapes; Go’s scanner refuses \\q',
  '{foo="\\400"}': 'lezer does not check octal escapes; Go’s unquoting refuses \\400 (> 255)',
  '{app="foo"} | x > 09': 'lezer does not check number literals; Go’s scanner refuses 9 in an octal literal',
};

const valid = new Set<string>();
for (const [q] of AST_CASES) valid.add(q);
for (const [q] of PRINT_CASES) {
  valid.add(q);
  const printed = printExpr(parseExpr(q));
  // Loki's printer has no text for NaN/Inf literals; those outputs are not queries.
  if (!/NaN|Inf/.test(printed)) valid.add(printed);
}

/** Errors found by the grammar (syntax and lexical); the other errors are checks Loki makes on a parsed tree. */
const syntaxErrors = ERROR_CASES.filter(([, message]) => /^parse error (at line|: syntax error)/.test(message));

describe('cross-check with @grafana/lezer-logql', () => {
  it.each([...valid])('lezer agrees %j is valid LogQL', (query) => {
    expect(() => parseExpr(query)).not.toThrow();
    expect(lezerAccepts(query)).toBe(!(query in LEZER_REJECTS_VALID));
  });

  it.each(syntaxErrors)('lezer agrees %j is not valid LogQL', (query) => {
    expect(lezerAccepts(query)).toBe(query in LEZER_ACCEPTS_INVALID);
  });

  it('lists only queries that are part of the suite', () => {
    for (const q of Object.keys(LEZER_REJECTS_VALID)) expect(valid.has(q)).toBe(true);
    for (const q of Object.keys(LEZER_ACCEPTS_INVALID)) expect(syntaxErrors.some(([e]) => e === q)).toBe(true);
  });
});
