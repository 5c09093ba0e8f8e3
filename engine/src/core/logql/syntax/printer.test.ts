import { parseExpr } from './parser.js';
import { prettify, printExpr } from './printer.js';
import { AST_CASES, PRINT_CASES } from './queries.fixture.js';

/**
 * Queries whose printed form does not parse back to the same tree, because Loki's printer loses information:
 * byte sizes are printed with three significant digits (go-humanize), and NaN has no literal syntax.
 */
const LOSSY = new Set([
  '{app="foo"} | size > 1KB | s <= 2.5KiB | t != 10MiB | u == 42B | v >= 1k',
  '{app="foo"} | a > 1KB | b > 1MiB | c > 5 | d > 2.5KiB | e > 1000000',
  '{app="foo"} | a > 5B | b >= 12345B',
  '10 / 0',
  '5 % 0',
  '1/0',
]);

describe('printExpr', () => {
  it.each(PRINT_CASES)('prints %j as Loki does', (query, printed) => {
    expect(printExpr(parseExpr(query))).toBe(printed);
  });

  const roundTrip = [...AST_CASES.map(([q]) => q), ...PRINT_CASES.map(([q]) => q)].filter((q) => !LOSSY.has(q));

  it.each(roundTrip)('round-trips %j: parse(print(parse(q))) equals parse(q)', (query) => {
    const tree = parseExpr(query);
    const printed = printExpr(tree);
    expect(parseExpr(printed)).toEqual(tree);
    // Printing is a fixed point.
    expect(printExpr(parseExpr(printed))).toBe(printed);
  });

  it('loses precision on byte sizes exactly as Loki does', () => {
    expect(printExpr(parseExpr('{app="foo"} | s <= 2.5KiB | t != 10MiB'))).toBe('{app="foo"} | s<=2.6kB | t!=10MB');
  });

  it('prints NaN and infinities as Go does', () => {
    expect(printExpr(parseExpr('0/0'))).toBe('NaN');
    expect(printExpr(parseExpr('vector(1) * (1/0)'))).toBe('(vector(1.000000) * NaN)');
    expect(printExpr(parseExpr('2 ^ 10000'))).toBe('+Inf');
    expect(printExpr(parseExpr('-2 ^ 10001'))).toBe('-Inf');
  });
});

describe('prettify', () => {
  // Loki's own formatter tests, which use a 20 character line.
  it.each([
    ['{job="loki", instance="localhost"}', '{job="loki", instance="localhost"}'],
    ['{job="loki", instance="localhost"}|logfmt|level="error" ', '{job="loki", instance="localhost"}\n  | logfmt\n  | level="error"'],
    ['count_over_time({job="loki", instance="localhost"}|logfmt[1m])', 'count_over_time(\n  {job="loki", instance="localhost"}\n    | logfmt [1m]\n)'],
    [
      'count_over_time({job="loki", instance="localhost"}|= "error" != "memcached" |= ip("192.168.0.1") |logfmt[1m])',
      'count_over_time(\n  {job="loki", instance="localhost"}\n    |= "error"\n    != "memcached"\n    |= ip("192.168.0.1")\n    | logfmt [1m]\n)',
    ],
  ])('formats %j as Loki does', (query, pretty) => {
    expect(prettify(parseExpr(query), 20)).toBe(pretty);
  });

  it('keeps queries of up to 100 characters in their canonical form', () => {
    const q = 'sum by (level) (count_over_time({app="foo"} |= "x" | json [5m]))';
    expect(prettify(parseExpr(q))).toBe(printExpr(parseExpr(q)));
  });

  it('splits aggregations, operations and label_replace, indenting by two spaces', () => {
    const q =
      'sum by (a, b) (quantile_over_time(0.99, {app="foo"} |= "x" != "y" | json | unwrap duration(d) | __error__="" [5m] offset 1h) by (a)) / on (a) group_left (c) topk(3, count_over_time({app="bar"}[5m]))';
    expect(prettify(parseExpr(q), 40)).toBe(
      [
        '  sum by (a, b)(',
        '    quantile_over_time(',
        '      0.99,',
        '      {app="foo"} |= "x" != "y" | json',
        '        | unwrap duration(d)',
        '        | __error__="" [5m] offset 1h',
        '    ) by (a)',
        '  )',
        '/ on (a) group_left (c)',
        '  topk(3,count_over_time({app="bar"}[5m]))',
      ].join('\n'),
    );
    expect(prettify(parseExpr('topk(3, count_over_time({app="bar"} |= "something long" [5m]))'), 40)).toBe(
      'topk(\n  3,\n  count_over_time(\n    {app="bar"} |= "something long" [5m]\n  )\n)',
    );
    expect(prettify(parseExpr('label_replace(count_over_time({app="foo"}[5m]), "dst", "$1", "src", "(.*)")'), 35)).toBe(
      'label_replace(\n  count_over_time({app="foo"}[5m]),\n  "dst",\n  "$1",\n  "src",\n  "(.*)"\n)',
    );
  });

  it('keeps the meaning where Loki’s formatter would lose it', () => {
    const nested = 'count_over_time({app="foo"}[5m]) * (count_over_time({app="foo"}[5m]) + count_over_time({app="bar"}[5m]))';
    const pretty = prettify(parseExpr(nested), 40);
    expect(pretty).toContain('(\n');
    expect(parseExpr(pretty)).toEqual(parseExpr(nested));
    const noGroup = 'max_over_time({app="foo"} | unwrap x [5m]) without () > bool on () count_over_time({app="foo"}[5m])';
    expect(parseExpr(prettify(parseExpr(noGroup), 30))).toEqual(parseExpr(noGroup));
    const orChain = '{app="foo"} |= "aaaaaaaaaa" or "bbbbbbbbbb" |= "cccccccccc"';
    expect(parseExpr(prettify(parseExpr(orChain), 20))).toEqual(parseExpr(orChain));
  });

  it('parses back to the same tree for every query of the suite', () => {
    for (const [q] of [...AST_CASES, ...PRINT_CASES]) {
      if (LOSSY.has(q)) continue;
      for (const width of [20, 60]) expect(parseExpr(prettify(parseExpr(q), width))).toEqual(parseExpr(q));
    }
  });
});
