/**
 * The LogQL queries the syntax tests use, in one place so that the cross-check against @grafana/lezer-logql runs
 * every one of them. Expected trees, canonical texts and error messages follow Loki's parser (pkg/logql/syntax):
 * the error cases marked (loki) are taken from Loki's own parser tests.
 */
import type {
  Expr,
  Grouping,
  LabelFilter,
  LineFilterOp,
  LineFilterStage,
  LogRange,
  LogSelectorExpr,
  SampleExpr,
  Stage,
  VectorMatching,
} from './ast.js';
import { LabelMatcher, type MatchType } from './matcher.js';

// -- builders ---------------------------------------------------------------------------------------------------

export const m = (type: MatchType, name: string, value: string): LabelMatcher => new LabelMatcher(type, name, value);
export const sel = (matchers: LabelMatcher[], stages: Stage[] = []): LogSelectorExpr => ({ kind: 'log', matchers, stages });
const app = (v = 'foo'): LabelMatcher[] => [m('=', 'app', v)];
const lf = (op: LineFilterOp, ...values: Array<string | { ip: string }>): LineFilterStage => ({
  kind: 'line_filter',
  op,
  values: values.map((v) => (typeof v === 'string' ? { value: v, ip: false } : { value: v.ip, ip: true })),
});
const and = (left: LabelFilter, right: LabelFilter): LabelFilter => ({ kind: 'and', left, right });
const or = (left: LabelFilter, right: LabelFilter): LabelFilter => ({ kind: 'or', left, right });
const str = (type: MatchType, name: string, value: string): LabelFilter => ({ kind: 'string', matcher: m(type, name, value) });
const num = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', value: number): LabelFilter => ({
  kind: 'number',
  name,
  op,
  value,
});
const lfs = (filter: LabelFilter): Stage => ({ kind: 'label_filter', filter });
const MIN = 60_000_000_000n;
const range = (selector: LogSelectorExpr, interval: bigint, extra: Partial<LogRange> = {}): LogRange => ({
  selector,
  interval,
  offset: 0n,
  ...extra,
});
const count = (r: LogRange): SampleExpr => ({ kind: 'range_aggregation', op: 'count_over_time', range: r });
const countFoo = (minutes = 5n): SampleExpr => count(range(sel(app()), minutes * MIN));
const by = (...labels: string[]): Grouping => ({ without: false, labels });
const without = (...labels: string[]): Grouping => ({ without: true, labels });
const ONE_TO_ONE: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
const bin = (op: string, lhs: SampleExpr, rhs: SampleExpr, extra: Partial<{ returnBool: boolean; matching: VectorMatching }> = {}): SampleExpr =>
  ({ kind: 'binary', op, lhs, rhs, returnBool: false, matching: ONE_TO_ONE, ...extra }) as SampleExpr;
const lit = (value: number): SampleExpr => ({ kind: 'literal', value });
const sum = (inner: SampleExpr, grouping: Grouping = by()): SampleExpr => ({ kind: 'vector_aggregation', op: 'sum', inner, grouping });

// -- queries and the trees they parse to -------------------------------------------------------------------------

export const AST_CASES: Array<[string, Expr]> = [
  // Stream selectors: all four matchers, spacing, escapes, raw strings, unicode names.
  ['{app="foo"}', sel(app())],
  ['{ foo = "bar", bar != "baz", a=~"x.+", b!~"y" }', sel([m('=', 'foo', 'bar'), m('!=', 'bar', 'baz'), m('=~', 'a', 'x.+'), m('!~', 'b', 'y')])],
  ['{app="foo", level=""}', sel([m('=', 'app', 'foo'), m('=', 'level', '')])],
  ['{app="a\\"b\\\\c\\n\\t\\u00e9\\x41\\101"}', sel(app('a"b\\c\n\té' + 'AA'))],
  ['{app="\\xc3\\xa9"}', sel(app('é'))],
  ['{app=`raw\\d+"`}', sel(app('raw\\d+"'))],
  ['{ünïcode_名="x"}', sel([m('=', 'ünïcode_名', 'x')])],
  ['{app="foo"} # a comment |= "bar"', sel(app())],
  ['{app="foo"}\n# |= "bar"\n| json', sel(app(), [{ kind: 'json', params: [] }])],
  ['{app="foo"} // Go comments too\n/* and block ones */ |= "x"', sel(app(), [lf('|=', 'x')])],
  ['({app="foo"} |= "x")', sel(app(), [lf('|=', 'x')])],

  // Line filters, `or` chains (negative chains split as Loki does), ip(), pattern filters.
  ['{app="foo"} |= "a" != "b" |~ "c.+" !~ "d" |> "<_> e" !> "f <_>"', sel(app(), [lf('|=', 'a'), lf('!=', 'b'), lf('|~', 'c.+'), lf('!~', 'd'), lf('|>', '<_> e'), lf('!>', 'f <_>')])],
  ['{app="foo"} |= "a" or "b" or ip("10.0.0.1")', sel(app(), [lf('|=', 'a', 'b', { ip: '10.0.0.1' })])],
  ['{app="foo"} |~ "a" or "b"', sel(app(), [lf('|~', 'a', 'b')])],
  ['{app="foo"} != "a" or "b"', sel(app(), [lf('!=', 'a'), lf('!=', 'b')])],
  ['{app="foo"} !~ "a" or "b" |= "c"', sel(app(), [lf('!~', 'a'), lf('!~', 'b'), lf('|=', 'c')])],
  ['{app="foo"} != ip("192.168.0.0/16") |= ""', sel(app(), [lf('!=', { ip: '192.168.0.0/16' }), lf('|=', '')])],
  ['{app="foo"}|="x"!="y"', sel(app(), [lf('|=', 'x'), lf('!=', 'y')])],

  // Parsers.
  ['{app="foo"} | json', sel(app(), [{ kind: 'json', params: [] }])],
  [
    '{app="foo"} | json first="servers[0]", ua="request.headers[\\"User-Agent\\"]", status',
    sel(app(), [
      {
        kind: 'json',
        params: [
          { label: 'first', expression: 'servers[0]' },
          { label: 'ua', expression: 'request.headers["User-Agent"]' },
          { label: 'status', expression: 'status' },
        ],
      },
    ]),
  ],
  ['{app="foo"} | logfmt', sel(app(), [{ kind: 'logfmt', strict: false, keepEmpty: false, params: [] }])],
  ['{app="foo"} | logfmt --strict --keep-empty', sel(app(), [{ kind: 'logfmt', strict: true, keepEmpty: true, params: [] }])],
  [
    '{app="foo"} | logfmt --keep-empty msg, err="error"',
    sel(app(), [{ kind: 'logfmt', strict: false, keepEmpty: true, params: [{ label: 'msg', expression: 'msg' }, { label: 'err', expression: 'error' }] }]),
  ],
  ['{app="foo"} | regexp "(?P<method>\\\\w+) (?P<path>\\\\S+)"', sel(app(), [{ kind: 'regexp', pattern: '(?P<method>\\w+) (?P<path>\\S+)' }])],
  ['{app="foo"} | pattern "<ip> - <_> \\"<method> <path>\\""', sel(app(), [{ kind: 'pattern', pattern: '<ip> - <_> "<method> <path>"' }])],
  ['{app="foo"} | unpack', sel(app(), [{ kind: 'unpack' }])],
  ['{app="foo"} | JSON | Logfmt | UNPACK', sel(app(), [{ kind: 'json', params: [] }, { kind: 'logfmt', strict: false, keepEmpty: false, params: [] }, { kind: 'unpack' }])],

  // Label filters on strings, numbers, durations, bytes and IPs.
  ['{app="foo"} | level="error"', sel(app(), [lfs(str('=', 'level', 'error'))])],
  ['{app="foo"} | a!="b" | c=~"d.*" | e!~"f"', sel(app(), [lfs(str('!=', 'a', 'b')), lfs(str('=~', 'c', 'd.*')), lfs(str('!~', 'e', 'f'))])],
  [
    '{app="foo"} | x=1 | x==2 | x!=3 | x>4 | x>=-5 | x<+6.5 | x<=1e3',
    sel(app(), [num('x', '==', 1), num('x', '==', 2), num('x', '!=', 3), num('x', '>', 4), num('x', '>=', -5), num('x', '<', 6.5), num('x', '<=', 1000)].map(lfs)),
  ],
  [
    '{app="foo"} | latency >= 250ms | d > 1h30m | e=-5s | f < 1.5h',
    sel(app(), [
      lfs({ kind: 'duration', name: 'latency', op: '>=', value: 250_000_000n }),
      lfs({ kind: 'duration', name: 'd', op: '>', value: 90n * MIN }),
      lfs({ kind: 'duration', name: 'e', op: '==', value: -5_000_000_000n }),
      lfs({ kind: 'duration', name: 'f', op: '<', value: 90n * MIN }),
    ]),
  ],
  [
    '{app="foo"} | size > 1KB | s <= 2.5KiB | t != 10MiB | u == 42B | v >= 1k',
    sel(app(), [
      lfs({ kind: 'bytes', name: 'size', op: '>', value: 1000 }),
      lfs({ kind: 'bytes', name: 's', op: '<=', value: 2560 }),
      lfs({ kind: 'bytes', name: 't', op: '!=', value: 10 * 1024 * 1024 }),
      lfs({ kind: 'bytes', name: 'u', op: '==', value: 42 }),
      lfs({ kind: 'bytes', name: 'v', op: '>=', value: 1000 }),
    ]),
  ],
  [
    '{app="foo"} | addr = ip("10.0.0.0/8") | other != ip("::1") | ip="not a function"',
    sel(app(), [
      lfs({ kind: 'ip', name: 'addr', op: '==', pattern: '10.0.0.0/8' }),
      lfs({ kind: 'ip', name: 'other', op: '!=', pattern: '::1' }),
      lfs(str('=', 'ip', 'not a function')),
    ]),
  ],
  ['{app="foo"} | rate="a" | duration > 1s', sel(app(), [lfs(str('=', 'rate', 'a')), lfs({ kind: 'duration', name: 'duration', op: '>', value: 1_000_000_000n })])],

  // Label filter precedence: `and` over `or`, `,` and juxtaposition take the rest, parentheses group.
  ['{app="foo"} | a="1" and b="2" or c="3"', sel(app(), [lfs(or(and(str('=', 'a', '1'), str('=', 'b', '2')), str('=', 'c', '3')))])],
  ['{app="foo"} | a="1" or b="2" and c="3"', sel(app(), [lfs(or(str('=', 'a', '1'), and(str('=', 'b', '2'), str('=', 'c', '3'))))])],
  ['{app="foo"} | a="1" or b="2" or c="3"', sel(app(), [lfs(or(or(str('=', 'a', '1'), str('=', 'b', '2')), str('=', 'c', '3')))])],
  ['{app="foo"} | a="1", b="2" or c="3"', sel(app(), [lfs(and(str('=', 'a', '1'), or(str('=', 'b', '2'), str('=', 'c', '3'))))])],
  ['{app="foo"} | a="1" or b="2", c="3"', sel(app(), [lfs(or(str('=', 'a', '1'), and(str('=', 'b', '2'), str('=', 'c', '3'))))])],
  ['{app="foo"} | a="1" b="2" or c="3"', sel(app(), [lfs(and(str('=', 'a', '1'), or(str('=', 'b', '2'), str('=', 'c', '3'))))])],
  ['{app="foo"} | (a="1" or b="2") and c="3"', sel(app(), [lfs(and(or(str('=', 'a', '1'), str('=', 'b', '2')), str('=', 'c', '3')))])],
  [
    '{app="foo"} | foo="bar" buzz!="blip", blop=~"boop" or fuzz==5',
    sel(app(), [lfs(and(str('=', 'foo', 'bar'), and(str('!=', 'buzz', 'blip'), or(str('=~', 'blop', 'boop'), num('fuzz', '==', 5)))))]),
  ],
  [
    '{app="foo"} |= "bar" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)',
    sel(app(), [
      lf('|=', 'bar'),
      { kind: 'json', params: [] },
      lfs(or({ kind: 'duration', name: 'latency', op: '>=', value: 250_000_000n }, and(num('status_code', '<', 500), num('status_code', '>', 200)))),
    ]),
  ],
  ['{app="foo"} | x="1" != "line"', sel(app(), [lfs(str('=', 'x', '1')), lf('!=', 'line')])],

  // Formatting and label stages.
  ['{app="foo"} | line_format "{{.status}} {{ .msg | upper }}"', sel(app(), [{ kind: 'line_format', template: '{{.status}} {{ .msg | upper }}' }])],
  [
    '{app="foo"} | label_format dst=src, tpl="{{.a}}-{{.b}}"',
    sel(app(), [{ kind: 'label_format', formats: [{ kind: 'rename', dst: 'dst', src: 'src' }, { kind: 'template', dst: 'tpl', template: '{{.a}}-{{.b}}' }] }]),
  ],
  ['{app="foo"} | decolorize', sel(app(), [{ kind: 'decolorize' }])],
  [
    '{app="foo"} | drop a, b="x", c!~"y.*" | keep d, e="z"',
    sel(app(), [
      { kind: 'drop', labels: [{ name: 'a' }, { name: 'b', matcher: m('=', 'b', 'x') }, { name: 'c', matcher: m('!~', 'c', 'y.*') }] },
      { kind: 'keep', labels: [{ name: 'd' }, { name: 'e', matcher: m('=', 'e', 'z') }] },
    ]),
  ],
  ['{app="foo"} | drop a != "b"', sel(app(), [{ kind: 'drop', labels: [{ name: 'a', matcher: m('!=', 'a', 'b') }] }])],

  // Range aggregations; unwrap with conversions and post filters; offset.
  ['count_over_time({app="foo"}[5m])', countFoo()],
  ['rate({app="foo"}[1h30m])', { kind: 'range_aggregation', op: 'rate', range: range(sel(app()), 90n * MIN) }],
  ['bytes_rate({app="foo"}[1d])', { kind: 'range_aggregation', op: 'bytes_rate', range: range(sel(app()), 1440n * MIN) }],
  ['bytes_over_time({app="foo"}[1w])', { kind: 'range_aggregation', op: 'bytes_over_time', range: range(sel(app()), 7n * 1440n * MIN) }],
  ['absent_over_time({app="foo"}[1y])', { kind: 'range_aggregation', op: 'absent_over_time', range: range(sel(app()), 365n * 1440n * MIN) }],
  ['count_over_time({app="foo"}[500ms] offset 1h)', count(range(sel(app()), 500_000_000n, { offset: 60n * MIN }))],
  ['count_over_time({app="foo"}[5m] offset -5m)', count(range(sel(app()), 5n * MIN, { offset: -5n * MIN }))],
  [
    'sum_over_time({app="foo"} | json | unwrap latency [5m])',
    { kind: 'range_aggregation', op: 'sum_over_time', range: range(sel(app(), [{ kind: 'json', params: [] }]), 5n * MIN, { unwrap: { label: 'latency', postFilters: [] } }) },
  ],
  [
    'avg_over_time({app="foo"} | unwrap duration(took) | __error__="" [1m]) by (host)',
    {
      kind: 'range_aggregation',
      op: 'avg_over_time',
      range: range(sel(app()), MIN, { unwrap: { label: 'took', conversion: 'duration', postFilters: [str('=', '__error__', '')] } }),
      grouping: by('host'),
    },
  ],
  [
    'max_over_time({app="foo"} | unwrap bytes(size) [1m]) without ()',
    { kind: 'range_aggregation', op: 'max_over_time', range: range(sel(app()), MIN, { unwrap: { label: 'size', conversion: 'bytes', postFilters: [] } }), grouping: without() },
  ],
  [
    'min_over_time({app="foo"} | unwrap duration_seconds(d) [1m])',
    { kind: 'range_aggregation', op: 'min_over_time', range: range(sel(app()), MIN, { unwrap: { label: 'd', conversion: 'duration_seconds', postFilters: [] } }) },
  ],
  [
    'quantile_over_time(0.99, {app="foo"} | unwrap bytes [5m]) by (a, b)',
    { kind: 'range_aggregation', op: 'quantile_over_time', param: 0.99, range: range(sel(app()), 5n * MIN, { unwrap: { label: 'bytes', postFilters: [] } }), grouping: by('a', 'b') },
  ],
  ['quantile_over_time(.5,{app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'quantile_over_time', param: 0.5, range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['first_over_time({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'first_over_time', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['last_over_time({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'last_over_time', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['stddev_over_time({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'stddev_over_time', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['stdvar_over_time({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'stdvar_over_time', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['rate_counter({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'rate_counter', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],
  ['rate({app="foo"} | unwrap x [5m])', { kind: 'range_aggregation', op: 'rate', range: range(sel(app()), 5n * MIN, { unwrap: { label: 'x', postFilters: [] } }) }],

  // Vector aggregations: grouping before or after, parameters, case-insensitive names.
  ['sum(count_over_time({app="foo"}[5m]))', sum(countFoo())],
  ['sum by (level) (count_over_time({app="foo"}[5m]))', sum(countFoo(), by('level'))],
  ['sum(count_over_time({app="foo"}[5m])) by (level)', sum(countFoo(), by('level'))],
  ['sum without (a,b) (count_over_time({app="foo"}[5m]))', sum(countFoo(), without('a', 'b'))],
  ['SUM BY (level) (COUNT_OVER_TIME({app="foo"}[5m]))', sum(countFoo(), by('level'))],
  ['topk(10, count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'topk', param: 10, inner: countFoo(), grouping: by() }],
  ['bottomk by (x) (3, count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'bottomk', param: 3, inner: countFoo(), grouping: by('x') }],
  ['approx_topk(5, count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'approx_topk', param: 5, inner: countFoo(), grouping: by() }],
  ['avg(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'avg', inner: countFoo(), grouping: by() }],
  ['min(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'min', inner: countFoo(), grouping: by() }],
  ['max(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'max', inner: countFoo(), grouping: by() }],
  ['count(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'count', inner: countFoo(), grouping: by() }],
  ['stddev(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'stddev', inner: countFoo(), grouping: by() }],
  ['stdvar(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'stdvar', inner: countFoo(), grouping: by() }],
  ['sort(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'sort', inner: countFoo(), grouping: by() }],
  ['sort_desc(count_over_time({app="foo"}[5m]))', { kind: 'vector_aggregation', op: 'sort_desc', inner: countFoo(), grouping: by() }],
  ['sum(vector(0))', sum({ kind: 'vector', value: 0 })],

  // Binary operators: precedence, associativity, modifiers, folding of literals.
  ['count_over_time({app="foo"}[5m]) + count_over_time({app="foo"}[5m]) * 2', bin('+', countFoo(), bin('*', countFoo(), lit(2)))],
  ['count_over_time({app="foo"}[5m]) - count_over_time({app="foo"}[5m]) - 1', bin('-', bin('-', countFoo(), countFoo()), lit(1))],
  ['count_over_time({app="foo"}[5m]) ^ 2 ^ 3', bin('^', countFoo(), lit(8))],
  ['2 ^ count_over_time({app="foo"}[5m]) ^ 3', bin('^', lit(2), bin('^', countFoo(), lit(3)))],
  ['count_over_time({app="foo"}[5m]) % 3 / 2', bin('/', bin('%', countFoo(), lit(3)), lit(2))],
  [
    'count_over_time({app="foo"}[5m]) > 1 and count_over_time({app="foo"}[5m]) < 10 or vector(0)',
    bin('or', bin('and', bin('>', countFoo(), lit(1)), bin('<', countFoo(), lit(10))), { kind: 'vector', value: 0 }),
  ],
  ['count_over_time({app="foo"}[5m]) unless count_over_time({app="foo"}[5m]) == bool 1', bin('unless', countFoo(), bin('==', countFoo(), lit(1), { returnBool: true }))],
  ['count_over_time({app="foo"}[5m]) != 0', bin('!=', countFoo(), lit(0))],
  ['count_over_time({app="foo"}[5m]) >= bool 0 <= 1', bin('<=', bin('>=', countFoo(), lit(0), { returnBool: true }), lit(1))],
  [
    'sum by (a) (count_over_time({app="foo"}[5m])) / on (a) group_left (b, c) count_over_time({app="foo"}[5m])',
    bin('/', sum(countFoo(), by('a')), countFoo(), { matching: { card: 'many-to-one', on: true, labels: ['a'], include: ['b', 'c'] } }),
  ],
  [
    'count_over_time({app="foo"}[5m]) * ignoring (x) group_right count_over_time({app="foo"}[5m])',
    bin('*', countFoo(), countFoo(), { matching: { card: 'one-to-many', on: false, labels: ['x'], include: [] } }),
  ],
  ['count_over_time({app="foo"}[5m]) > bool on () count_over_time({app="foo"}[5m])', bin('>', countFoo(), countFoo(), { returnBool: true, matching: { card: 'one-to-one', on: true, labels: [], include: [] } })],
  ['(count_over_time({app="foo"}[5m]) + 1) * 2', bin('*', bin('+', countFoo(), lit(1)), lit(2))],
  ['1 + 2 * 3', lit(7)],
  ['(1 + 2) * 3', lit(9)],
  ['2 ^ 3 ^ 2', lit(512)],
  ['1 + -2 / 1', lit(-1)],
  ['1 + 1 - -1', lit(3)],
  ['1 > 1 < 1', lit(1)],
  ['1 > 1 > bool 1', lit(0)],
  ['-2 ^ 2', lit(4)],
  ['10 / 0', lit(NaN)],
  ['5 % 0', lit(NaN)],
  ['1.5e3', lit(1500)],
  ['-0.25', lit(-0.25)],
  ['+7', lit(7)],
  ['vector(1) + vector(1)', bin('+', { kind: 'vector', value: 1 }, { kind: 'vector', value: 1 })],
  ['vector(1.5)', { kind: 'vector', value: 1.5 }],
  ['label_replace(count_over_time({app="foo"}[5m]), "dst", "$1", "src", "(.*)")', { kind: 'label_replace', inner: countFoo(), dst: 'dst', replacement: '$1', src: 'src', regex: '(.*)' }],

  // Every spelling of a range vector gives the same tree.
  ...[
    'count_over_time({app="foo"} |= "x" [5m] offset 1m)',
    'count_over_time({app="foo"}[5m] offset 1m |= "x")',
    'count_over_time(({app="foo"} |= "x")[5m] offset 1m)',
    'count_over_time((({app="foo"} |= "x")[5m] offset 1m))',
    'count_over_time(({app="foo"}[5m] offset 1m |= "x"))',
  ].map((q): [string, Expr] => [q, count(range(sel(app(), [lf('|=', 'x')]), 5n * MIN, { offset: MIN }))]),
  ...[
    'sum_over_time({app="foo"} | unwrap x [5m] offset 1m)',
    'sum_over_time({app="foo"}[5m] offset 1m | unwrap x)',
    'sum_over_time(({app="foo"})[5m] offset 1m | unwrap x)',
    'sum_over_time(({app="foo"} | unwrap x)[5m] offset 1m)',
  ].map((q): [string, Expr] => [
    q,
    { kind: 'range_aggregation', op: 'sum_over_time', range: range(sel(app()), 5n * MIN, { offset: MIN, unwrap: { label: 'x', postFilters: [] } }) },
  ]),
  ...[
    'sum_over_time({app="foo"} | json | unwrap x | x > 1 [5m])',
    'sum_over_time({app="foo"}[5m] | json | unwrap x | x > 1)',
    'sum_over_time(({app="foo"} | json | unwrap x | x > 1)[5m])',
  ].map((q): [string, Expr] => [
    q,
    {
      kind: 'range_aggregation',
      op: 'sum_over_time',
      range: range(sel(app(), [{ kind: 'json', params: [] }]), 5n * MIN, { unwrap: { label: 'x', postFilters: [num('x', '>', 1)] } }),
    },
  ]),
];

// -- queries and Loki's canonical text of them (String()) --------------------------------------------------------

export const PRINT_CASES: Array<[string, string]> = [
  ['{app="foo"} |= "bar" | json | level="error"', '{app="foo"} |= "bar" | json | level="error"'],
  ['{ foo = "bar" ,bar!= "baz" }', '{foo="bar", bar!="baz"}'],
  ['{app="tab\\there"}', '{app="tab\\there"}'],
  ['{app=`a"b`}', '{app="a\\"b"}'],
  ['{app="\\u00a0\\x01é"}', '{app="\\u00a0\\x01é"}'],
  ['sum by (level) (count_over_time({app="foo"}[5m]))', 'sum by (level)(count_over_time({app="foo"}[5m]))'],
  ['sum(count_over_time({app="foo"}[5m])) by ()', 'sum(count_over_time({app="foo"}[5m]))'],
  ['sum without () (count_over_time({app="foo"}[5m]))', 'sum without ()(count_over_time({app="foo"}[5m]))'],
  ['topk by (name)(10,sum(rate({region="us-east1"}[5m])))', 'topk by (name)(10,sum(rate({region="us-east1"}[5m])))'],
  ['topk(10, sum(rate({region="us-east1"}[5m])) by (name))', 'topk(10,sum by (name)(rate({region="us-east1"}[5m])))'],
  [
    '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)" | ( ( foo<5.01 , bar>20ms ) or foo="bar" ) | line_format "blip{{.boop}}bap" | label_format foo=bar,bar="blip{{.blop}}"',
    '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)" | ( ( foo<5.01 , bar>20ms ) or foo="bar" ) | line_format "blip{{.boop}}bap" | label_format foo=bar,bar="blip{{.blop}}"',
  ],
  ['{foo="bar"} | logfmt | counter>-1 | counter>=-1 | counter<-1 | counter<=-1 | counter!=-1 | counter==-1', '{foo="bar"} | logfmt | counter>-1 | counter>=-1 | counter<-1 | counter<=-1 | counter!=-1 | counter==-1'],
  ['{foo="bar"} |= "baz" |~ "blip" |> "qux" !> "waldo" != "flip" !~ "flap"', '{foo="bar"} |= "baz" |~ "blip" |> "qux" !> "waldo" != "flip" !~ "flap"'],
  ['{foo="bar"} | logfmt | b>=10GB', '{foo="bar"} | logfmt | b>=10GB'],
  ['{foo="bar"} | logfmt --strict --keep-empty b="foo" | b=ip("127.0.0.1") | level="error"', '{foo="bar"} | logfmt --strict --keep-empty b="foo" | b=ip("127.0.0.1") | level="error"'],
  ['{foo="bar"} |= "" |= ip("::1") != ip("127.0.0.1")', '{foo="bar"} |= "" |= ip("::1") != ip("127.0.0.1")'],
  ['{app="foo"} |= "a" or "b" != "c" or "d"', '{app="foo"} |= "a" or "b" != "c" != "d"'],
  ['{app="foo"} | json a, b="x.y"', '{app="foo"} | json a="a",b="x.y"'],
  ['{app="foo"} | logfmt a', '{app="foo"} | logfmt a="a"'],
  ['{app="foo"} | pattern `<a> <_>` | unpack | decolorize', '{app="foo"} | pattern "<a> <_>" | unpack | decolorize'],
  ['{app="foo"} | drop a, b="x" | keep c!~"y"', '{app="foo"} | drop a,b="x" | keep c!~"y"'],
  ['{app="foo"} | x=1 | y>=1.50 | z<1e21', '{app="foo"} | x==1 | y>=1.5 | z<1000000000000000000000'],
  ['{app="foo"} | d > 90s | e < 1h | f >= 1.5s | g <= 500ms | h == 1us', '{app="foo"} | d>1m30s | e<1h0m0s | f>=1.5s | g<=500ms | h==1µs'],
  ['{app="foo"} | a > 1KB | b > 1MiB | c > 5 | d > 2.5KiB | e > 1000000', '{app="foo"} | a>1.0kB | b>1.0MB | c>5 | d>2.6kB | e>1000000'],
  ['{app="foo"} | a > 5B | b >= 12345B', '{app="foo"} | a>5B | b>=12kB'],
  ['{app="foo"} | a="1" b="2" or c="3"', '{app="foo"} | ( a="1" , ( b="2" or c="3" ) )'],
  ['{app="foo"} | a="1" and b="2" or c="3"', '{app="foo"} | ( ( a="1" , b="2" ) or c="3" )'],
  ['count_over_time({app="foo"}[90m])', 'count_over_time({app="foo"}[1h30m])'],
  ['count_over_time({app="foo"}[7d])', 'count_over_time({app="foo"}[1w])'],
  ['count_over_time({app="foo"}[365d])', 'count_over_time({app="foo"}[1y])'],
  ['count_over_time({app="foo"}[1500ms])', 'count_over_time({app="foo"}[1s500ms])'],
  ['count_over_time({app="foo"}[5m] offset 1h)', 'count_over_time({app="foo"}[5m] offset 1h0m0s)'],
  ['count_over_time({app="foo"}[5m] offset -90s)', 'count_over_time({app="foo"}[5m] offset -1m30s)'],
  ['count_over_time({app="foo"}[5m] |= "x")', 'count_over_time({app="foo"} |= "x"[5m])'],
  ['sum_over_time({app="foo"} | json | unwrap duration(x) | __error__="" [5m]) ', 'sum_over_time({app="foo"} | json | unwrap duration(x) | __error__=""[5m])'],
  ['quantile_over_time(0.990, {app="foo"} | unwrap x [5m]) by (a,b)', 'quantile_over_time(0.99,{app="foo"} | unwrap x[5m]) by (a,b)'],
  ['max_over_time({app="foo"} | unwrap x [5m]) without ()', 'max_over_time({app="foo"} | unwrap x[5m]) without ()'],
  ['count_over_time({app="foo"}[5m]) / count_over_time({app="foo"}[5m]) * 2', '((count_over_time({app="foo"}[5m]) / count_over_time({app="foo"}[5m])) * 2)'],
  ['count_over_time({app="foo"}[5m]) > bool 1', '(count_over_time({app="foo"}[5m]) > bool 1)'],
  ['count_over_time({app="foo"}[5m]) / on (a, b) count_over_time({app="foo"}[5m])', '(count_over_time({app="foo"}[5m]) / on (a,b)  count_over_time({app="foo"}[5m]))'],
  ['count_over_time({app="foo"}[5m]) / ignoring (a) group_left (c) count_over_time({app="foo"}[5m])', '(count_over_time({app="foo"}[5m]) / ignoring (a) group_left (c) count_over_time({app="foo"}[5m]))'],
  ['count_over_time({app="foo"}[5m]) > bool on () group_right (app) count_over_time({app="foo"}[5m])', '(count_over_time({app="foo"}[5m]) > bool on () group_right (app) count_over_time({app="foo"}[5m]))'],
  ['count_over_time({app="foo"}[5m]) or vector(0)', '(count_over_time({app="foo"}[5m]) or vector(0.000000))'],
  ['vector(1)+vector(1)', '(vector(1.000000) + vector(1.000000))'],
  ['10 / (5/2)', '4'],
  ['1e6', '1e+06'],
  ['123456', '123456'],
  ['0.00001', '1e-05'],
  ['-0.5', '-0.5'],
  ['1/0', 'NaN'],
  ['label_replace(rate({app="foo"}[1m]), "dst", "$1", "src", "(.*)")', 'label_replace(rate({app="foo"}[1m]),"dst","$1","src","(.*)")'],
];

// -- queries Loki refuses, and its exact messages ----------------------------------------------------------------

export const ERROR_CASES: Array<[string, string]> = [
  // Lexical errors.
  ['{foo="bar}', 'parse error at line 1, col 6: literal not terminated'], // (loki)
  ['{foo=`bar}', 'parse error at line 1, col 6: literal not terminated'],
  ['{foo="a\\qb"}', 'parse error at line 1, col 6: invalid char escape'],
  ['{foo="\\400"}', 'parse error at line 1, col 6: invalid syntax'],
  ['{foo="a\nb"}', 'parse error at line 1, col 6: literal not terminated'],
  ["{foo='ab'}", "parse error at line 1, col 6: invalid char literal"],
  ['rate({ foo = "bar" }[5minutes])', 'parse error at line 0, col 21: unknown unit "minutes" in duration "5minutes"'], // (loki)
  ['rate({ foo = "bar" }[5)', "parse error at line 0, col 21: missing closing ']' in duration"], // (loki)
  ['rate({ foo = "bar" }[1h1d])', 'parse error at line 0, col 21: not a valid duration string: "1h1d"'],
  ['rate({ foo = "bar" }[])', 'parse error at line 0, col 21: empty duration string'],
  ['{app="foo"} /* unterminated', 'parse error at line 1, col 13: comment not terminated'],
  ['{app="foo"} | x > 1e', 'parse error at line 1, col 19: exponent has no digits'],
  ['{app="foo"} | x > 09', "parse error at line 1, col 19: invalid digit '9' in octal literal"],

  // Syntax errors: Loki names the unexpected token and, where its parser has few choices, the expected ones.
  ['', 'parse error : syntax error: unexpected $end'],
  ['   ', 'parse error at line 1, col 4: syntax error: unexpected $end'],
  ['#{app="foo"} | json', 'parse error at line 1, col 20: syntax error: unexpected $end'], // (loki)
  ['unk({ foo = "bar" }[5m])', 'parse error at line 1, col 1: syntax error: unexpected IDENTIFIER'], // (loki)
  ['|= "foo"', 'parse error at line 0, col 1: syntax error: unexpected |='],
  ['{app=}', 'parse error at line 1, col 6: syntax error: unexpected }, expecting STRING'],
  ['{app}', 'parse error at line 1, col 5: syntax error: unexpected }, expecting = or =~ or !~ or !='],
  ['{=', 'parse error at line 1, col 2: syntax error: unexpected =, expecting IDENTIFIER or }'],
  ['{app="foo",}', 'parse error at line 1, col 12: syntax error: unexpected }, expecting IDENTIFIER'],
  ['{foo="bar"', 'parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,'], // (loki)
  ['{on="x"}', 'parse error at line 1, col 2: syntax error: unexpected on, expecting IDENTIFIER or }'],
  ['{foo="bar"} |~', 'parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING or ip'], // (loki)
  ['{foo="bar"} |= "a" or 5', 'parse error at line 1, col 23: syntax error: unexpected NUMBER, expecting STRING or ip'],
  ['{foo="bar"} |= ip(1)', 'parse error at line 1, col 19: syntax error: unexpected NUMBER, expecting STRING'],
  ['{foo="bar"} "foo"', 'parse error at line 1, col 13: syntax error: unexpected STRING'], // (loki)
  ['{foo="bar"} foo', 'parse error at line 1, col 13: syntax error: unexpected IDENTIFIER'], // (loki)
  ['{foo="bar"} @', 'parse error at line 1, col 13: syntax error: unexpected IDENTIFIER'],
  ['{foo="bar"} != 1', 'parse error at line 1, col 16: syntax error: unexpected NUMBER, expecting STRING or ip'],
  ['{ foo = "bar" }|logfmt|addr>=ip("1.2.3.4")', 'parse error at line 1, col 30: syntax error: unexpected ip'], // (loki)
  ['{ foo = "bar" }|logfmt|addr>ip("1.2.3.4")', 'parse error at line 1, col 29: syntax error: unexpected ip'], // (loki)
  ['{app="foo"} | x == "a"', 'parse error at line 1, col 20: syntax error: unexpected STRING'],
  ['{app="foo"} | x =~ 1', 'parse error at line 1, col 20: syntax error: unexpected NUMBER, expecting STRING'],
  ['{app="foo"} | x > -', 'parse error at line 1, col 20: syntax error: unexpected $end, expecting NUMBER'],
  ['{app="foo"} | x="1" and', 'parse error at line 1, col 24: syntax error: unexpected $end, expecting IDENTIFIER or ('],
  ['{app="foo"} | x="1" or json', 'parse error at line 1, col 24: syntax error: unexpected json, expecting IDENTIFIER or ('],
  ['{app="foo"} | x', 'parse error at line 1, col 16: syntax error: unexpected $end'],
  ['{app="foo"} |', 'parse error at line 1, col 14: syntax error: unexpected $end'],
  ['{app="foo"} | line_format', 'parse error at line 1, col 26: syntax error: unexpected $end, expecting STRING'],
  ['{app="foo"} | regexp 5', 'parse error at line 1, col 22: syntax error: unexpected NUMBER, expecting STRING'],
  ['{app="foo"} | label_format a', 'parse error at line 1, col 29: syntax error: unexpected $end, expecting ='],
  ['{app="foo"} | label_format a=5', 'parse error at line 1, col 30: syntax error: unexpected NUMBER, expecting IDENTIFIER or STRING'],
  ['{app="foo"} | json a=b', 'parse error at line 1, col 22: syntax error: unexpected IDENTIFIER, expecting STRING'],
  ['{app="foo"} | json --strict', 'parse error at line 0, col 20: syntax error: unexpected FUNCTION_FLAG'],
  ['{app="foo"} | drop', 'parse error at line 1, col 19: syntax error: unexpected $end, expecting IDENTIFIER'],
  ['{app="foo"} | unwrap x', 'parse error at line 1, col 15: syntax error: unexpected unwrap'],
  ['{app="foo"} | json | unwrap x', 'parse error at line 1, col 22: syntax error: unexpected unwrap'],
  ['min({ foo = "bar" }[5m])', 'parse error at line 0, col 20: syntax error: unexpected RANGE'], // (loki)
  ['stddev({ foo = "bar" })', 'parse error at line 1, col 23: syntax error: unexpected )'], // (loki)
  ['bottomk(he,count_over_time({ foo = "bar" }[5h]))', 'parse error at line 1, col 9: syntax error: unexpected IDENTIFIER'], // (loki)
  ['label_replace(rate({ foo = "bar" }[5m]),"")', 'parse error at line 1, col 43: syntax error: unexpected ), expecting ,'], // (loki)
  ['quantile_over_time(foo,{namespace="tns"} | unwrap latency [5m])', 'parse error at line 1, col 20: syntax error: unexpected IDENTIFIER, expecting NUMBER or { or ('], // (loki)
  ['vector(abc)', 'parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting NUMBER'], // (loki)
  ['bool 1 > 1 > bool 1', 'parse error at line 1, col 1: syntax error: unexpected bool'], // (loki)
  ['count_over_time({app="foo"})', 'parse error at line 1, col 28: syntax error: unexpected )'],
  ['count_over_time({app="foo"} | unwrap x)', 'parse error at line 1, col 39: syntax error: unexpected ), expecting RANGE or |'],
  ['count_over_time(({app="foo"} | unwrap x]))', 'parse error at line 1, col 40: syntax error: unexpected ], expecting RANGE or ) or |'],
  ['count_over_time(({app="foo"}))', 'parse error at line 1, col 30: syntax error: unexpected ), expecting RANGE'],
  ['count_over_time(5 {app="foo"}[5m])', 'parse error at line 1, col 19: syntax error: unexpected {, expecting ,'],
  ['count_over_time(5, {app="foo"}[5m])', 'parse error : parameter 5 not supported for operation count_over_time'],
  ['count_over_time({app="foo"}[5m] offset)', 'parse error at line 1, col 39: syntax error: unexpected ), expecting DURATION'],
  ['sum_over_time({app="foo"} | unwrap 5 [5m])', 'parse error at line 1, col 36: syntax error: unexpected NUMBER, expecting IDENTIFIER or BYTES_CONV or DURATION_CONV or DURATION_SECONDS_CONV'],
  ['sum_over_time({app="foo"} | unwrap x | json [5m])', 'parse error at line 1, col 40: syntax error: unexpected json, expecting IDENTIFIER or ('],
  ['sum by (a rate({app="foo"}[5m]))', 'parse error at line 1, col 11: syntax error: unexpected RATE, expecting , or )'],
  ['sum by (, a) (rate({app="foo"}[5m]))', 'parse error at line 1, col 9: syntax error: unexpected ,, expecting IDENTIFIER or )'],
  ['sum by (a) rate({app="foo"}[5m])', 'parse error at line 1, col 12: syntax error: unexpected RATE, expecting ('],
  ['sum by (a) (rate({app="foo"}[5m])) by (b)', 'parse error at line 1, col 36: syntax error: unexpected by'],
  ['rate({app="foo"}[5m]) + on rate({app="foo"}[5m])', 'parse error at line 1, col 28: syntax error: unexpected RATE, expecting ('],
  ['rate({app="foo"}[5m]) + group_left rate({app="foo"}[5m])', 'parse error at line 1, col 25: syntax error: unexpected group_left'],
  ['-rate({app="foo"}[5m])', 'parse error at line 1, col 2: syntax error: unexpected RATE, expecting NUMBER'],

  // Checks Loki makes once the query parsed.
  ['{}', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['{app=~".*", x!="y"}', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['count_over_time({app=""}[5m])', 'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will'],
  ['sum_over_time({app="foo"}[5m])', 'parse error : invalid aggregation sum_over_time without unwrap'],
  ['rate_counter({app="foo"}[5m])', 'parse error : invalid aggregation rate_counter without unwrap'],
  ['count_over_time({app="foo"} |= "foo" | json | unwrap foo [5m])', 'parse error : invalid aggregation count_over_time with unwrap'], // (loki)
  ['bytes_rate({app="foo"} | unwrap foo [5m])', 'parse error : invalid aggregation bytes_rate with unwrap'],
  ['absent_over_time({ foo = "bar" }[5h]) by (foo)', 'parse error : grouping not allowed for absent_over_time aggregation'], // (loki)
  ['sum_over_time({namespace="tns"} | json | unwrap latency [5m]) by (foo)', 'parse error : grouping not allowed for sum_over_time aggregation'], // (loki)
  ['sum_over_time(50,{namespace="tns"} | unwrap latency [5m])', 'parse error : parameter 50 not supported for operation sum_over_time'], // (loki)
  ['quantile_over_time({namespace="tns"} | unwrap latency [5m])', 'parse error : parameter required for operation quantile_over_time'], // (loki)
  ['sum(3 ,count_over_time({ foo = "bar" }[5h]))', 'parse error : unsupported parameter for operation sum(3,'], // (loki)
  ['topk(count_over_time({ foo = "bar" }[5h]))', 'parse error : parameter required for operation topk'], // (loki)
  ['bottomk(1.2,count_over_time({ foo = "bar" }[5h]))', 'parse error : invalid parameter bottomk(1.2,'], // (loki)
  ['topk(0, sum(rate({region="us-east1"}[5m])) by (name))', 'parse error : invalid parameter (must be greater than 0) topk(0'], // (loki)
  ['approx_topk(2, count_over_time({ foo = "bar" }[5h])) by (foo)', 'parse error : grouping not allowed for approx_topk aggregation'], // (loki)
  ['approx_topk(count_over_time({ foo = "bar" }[5h]))', 'parse error : parameter required for operation approx_topk'],
  ['sort(sum by(a) (rate({job="mysql"}[10s]))) by (app)', "parse error : sort and sort_desc doesn't allow grouping by "], // (loki)
  ['sort_desc by (app) (rate({job="mysql"}[10s]))', "parse error : sort and sort_desc doesn't allow grouping by "],
  ['{foo="bar"} + {foo="bar"}', 'parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr'], // (loki)
  ['sum(count_over_time({foo="bar"}[5m])) by (foo) - {foo="bar"}', 'parse error : unexpected type for right leg of binary operation (-): *syntax.MatchersExpr'], // (loki)
  ['count_over_time({ foo = "bar" }[12m]) > { foo = "bar" } |= "x"', 'parse error : unexpected type for right leg of binary operation (>): *syntax.PipelineExpr'],
  ['sum(count_over_time({foo="bar"}[5m])) by (foo) or 1', 'parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000'], // (loki)
  ['1 unless sum(count_over_time({foo="bar"}[5m])) by (foo)', 'parse error : unexpected literal for left leg of logical/set binary operation (unless): 1.000000'], // (loki)
  ['sum(count_over_time({foo="bar"}[5m])) by (foo) + 1 or 1', 'parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000'], // (loki)
  ['label_replace(rate({ foo = "bar" }[5m]),"foo","$1","bar","^^^^x43\\\\q")', 'parse error : invalid regex in label_replace: error parsing regexp: invalid escape sequence: `\\q`'], // (loki)
  ['label_replace(rate({ foo = "bar" }[5m]),"foo","$1","bar","(")', 'parse error : invalid regex in label_replace: error parsing regexp: missing closing ): `^(?:()$`'],
  ['{app=~"("}', 'parse error : error parsing regexp: missing closing ): `(`'],
  ['{app="foo"} | x=~"a**"', 'parse error : error parsing regexp: invalid nested repetition operator: `**`'],
  ['{app="foo"} | drop x=~"[z-a]"', 'parse error : error parsing regexp: invalid character class range: `z-a`'],
  ['{app="foo"} |~ "(?!x)"', 'parse error : error parsing regexp: invalid or unsupported Perl syntax: `(?!`'],
  ['{app="foo"} != "a" !~ "\\\\1"', 'parse error : error parsing regexp: invalid escape sequence: `\\1`'],
  ['{app="foo"} | regexp "("', 'parse error : invalid regexp parser: error parsing regexp: missing closing ): `(`'],
  ['{app="foo"} | regexp "(a)"', 'parse error : invalid regexp parser: at least one named capture must be supplied'],
  ['{app="foo"} | regexp "(?P<a>x)(?P<a>y)"', "parse error : invalid regexp parser: duplicate extracted label name 'a'"],
  ['{app="foo"} | pattern "foo"', 'parse error : invalid pattern parser: at least one capture is required'],
  ['{app="foo"} | pattern "<a><b>"', 'parse error : invalid pattern parser: found consecutive capture: invalid expression'],
  ['{app="foo"} | pattern "<a> <a>"', 'parse error : invalid pattern parser: duplicate capture name (a): invalid expression'],
  ['{app="foo"} | pattern ""', 'parse error : invalid pattern parser: parse error at line 1, col 1: syntax error: unexpected $end, expecting IDENTIFIER or LITERAL'],
  ['x'.repeat(131072), 'parse error : input size too long (131072 > 131072)'],
];
