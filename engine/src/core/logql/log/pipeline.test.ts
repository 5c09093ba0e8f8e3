import { parseExpr } from '../syntax/parser.js';
import type { LogSelectorExpr } from '../syntax/ast.js';
import { compileLogSelector } from './pipeline.js';
import type { LabelPair } from '../../model.js';

/** Runs a log query's stages over lines of one stream; returns kept lines with their final labels. */
function run(query: string, lines: string[], metadata?: LabelPair[]) {
  const q = compileLogSelector(parseExpr(query) as LogSelectorExpr);
  const sp = q.pipeline?.forStream([['app', 'api'], ['env', 'prod']]);
  const out: Array<{ line: string; labels: Record<string, string> }> = [];
  lines.forEach((l, i) => {
    const buf = Buffer.from(l);
    if (q.prefilter && !q.prefilter(buf)) return;
    if (!sp) return out.push({ line: l, labels: { app: 'api', env: 'prod' } });
    const line = sp.process(BigInt(i), buf, metadata);
    if (line !== undefined) out.push({ line: line.toString(), labels: Object.fromEntries(sp.labels.all()) });
  });
  return out;
}

describe('log pipeline (LogQL docs: log queries)', () => {
  it('leading line filters run on bytes before any stage; later ones on the current line', () => {
    const q = compileLogSelector(parseExpr('{app="api"} |= "GET" != "health" | json | line_format "{{.path}}" |= "/v1"') as LogSelectorExpr);
    expect(q.prefilter!(Buffer.from('GET /x'))).toBe(true);
    expect(q.prefilter!(Buffer.from('GET /health'))).toBe(false);
    expect(run('{app="api"} |= "GET" | json | line_format "{{.path}}" |= "/v1"', ['{"m":"GET","path":"/v1/a"}', '{"m":"GET","path":"/v2/b"}']).map((e) => e.line)).toEqual(['/v1/a']);
  });

  it('json extracts nested fields; label filters compare strings, numbers, durations and bytes', () => {
    const lines = [
      '{"level":"error","status":500,"took":"1.5s","size":"2KB","req":{"method":"POST"}}',
      '{"level":"info","status":200,"took":"20ms","size":"100B","req":{"method":"GET"}}',
    ];
    const all = run('{app="api"} | json', lines);
    expect(all[0]!.labels).toEqual({ app: 'api', env: 'prod', level: 'error', status: '500', took: '1.5s', size: '2KB', req_method: 'POST' });
    expect(run('{app="api"} | json | status >= 500', lines)).toHaveLength(1);
    expect(run('{app="api"} | json | took > 1s', lines).map((e) => e.labels.level)).toEqual(['error']);
    expect(run('{app="api"} | json | size < 1KB', lines).map((e) => e.labels.level)).toEqual(['info']);
    expect(run('{app="api"} | json | level="info" or req_method="POST"', lines)).toHaveLength(2);
    expect(run('{app="api"} | json | level=~"err.*", status==500', lines)).toHaveLength(1);
    expect(run('{app="api"} | json | (level="info" and status=200) or status=404', lines)).toHaveLength(1);
  });

  it('logfmt, pattern and regexp extract labels; clashes with stream labels get _extracted', () => {
    expect(run('{app="api"} | logfmt', ['app=other level=warn msg="a b"'])[0]!.labels).toEqual({
      app: 'api',
      app_extracted: 'other',
      env: 'prod',
      level: 'warn',
      msg: 'a b',
    });
    const access = '10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /index.html HTTP/1.1" 200 512';
    expect(run('{app="api"} | pattern `<ip> - - [<_>] "<method> <path> <_>" <status> <size>`', [access])[0]!.labels).toMatchObject({
      ip: '10.0.0.1',
      method: 'GET',
      path: '/index.html',
      status: '200',
      size: '512',
    });
    expect(run('{app="api"} | regexp `(?P<method>[A-Z]+) (?P<path>\\S+)`', ['GET /a'])[0]!.labels).toMatchObject({ method: 'GET', path: '/a' });
  });

  it('a failed conversion keeps the line with __error__, which | __error__="" then removes', () => {
    expect(run('{app="api"} | json | status > 1', ['{"status":"abc"}'])[0]!.labels.__error__).toBe('LabelFilterErr');
    expect(run('{app="api"} | json | __error__=""', ['not json', '{"a":"b"}']).map((e) => e.line)).toEqual(['{"a":"b"}']);
    expect(run('{app="api"} | json', ['not json'])[0]!.labels.__error__).toBe('JSONParserErr');
  });

  it('line_format and label_format rewrite lines and labels; drop and keep remove labels', () => {
    const line = '{"level":"warn","user":"ann","code":"E1"}';
    expect(run('{app="api"} | json | line_format "{{.level | ToUpper}} {{.user}}"', [line])[0]!.line).toBe('WARN ann');
    const lf = run('{app="api"} | json | label_format who=user, tag="{{.level}}-{{.code}}"', [line])[0]!.labels;
    expect(lf).toMatchObject({ who: 'ann', tag: 'warn-E1' });
    expect(lf.user).toBeUndefined();
    expect(run('{app="api"} | json | drop user, level="warn"', [line])[0]!.labels).toEqual({ app: 'api', env: 'prod', code: 'E1' });
    expect(run('{app="api"} | json | keep app, level', [line])[0]!.labels).toEqual({ app: 'api', level: 'warn' });
  });

  it('pattern and ip line filters, decolorize, and structured metadata in label filters', () => {
    expect(run('{app="api"} |> "<_> 500 <_>"', ['GET 500 x', 'GET 200 x']).map((e) => e.line)).toEqual(['GET 500 x']);
    expect(run('{app="api"} != ip("10.0.0.0/8")', ['from 10.1.2.3', 'from 192.168.1.1']).map((e) => e.line)).toEqual(['from 192.168.1.1']);
    expect(run('{app="api"} |= ip("192.168.1.1-192.168.1.9")', ['from 192.168.1.5', 'from 192.168.1.10']).map((e) => e.line)).toEqual(['from 192.168.1.5']);
    expect(run('{app="api"} | decolorize', ['\u001b[31mred\u001b[0m text'])[0]!.line).toBe('red text');
    expect(run('{app="api"} | trace_id="t1"', ['x'], [['trace_id', 't1']])).toHaveLength(1);
    expect(run('{app="api"} | trace_id="t2"', ['x'], [['trace_id', 't1']])).toHaveLength(0);
    expect(run('{app="api"} | json | addr = ip("10.0.0.0/8")', ['{"addr":"10.9.9.9"}', '{"addr":"11.0.0.1"}'])).toHaveLength(1);
  });

  it('invalid patterns and templates are the query 400', () => {
    expect(() => run('{app="api"} | pattern "<_>"', ['x'])).toThrow(/pattern/);
    expect(() => run('{app="api"} | line_format "{{.a"', ['x'])).toThrow();
  });
});

/** The error a query gets while its pipeline is built. */
function buildError(query: string): string {
  try {
    compileLogSelector(parseExpr(query) as LogSelectorExpr);
  } catch (e) {
    expect([query, (e as { status?: number }).status]).toEqual([query, 400]);
    return (e as Error).message;
  }
  throw new Error(`expected ${query} to fail`);
}

describe("log pipeline: Loki's stage semantics (pkg/logql/log)", () => {
  it('numeric, duration and bytes filters drop an entry without the label; a bad value keeps it with Go’s error', () => {
    for (const f of ['n > 1', 'n > 1s', 'n > 1KB', 'n != 1', 'n != 1s', 'n != 1KB']) expect(run(`{app="api"} | logfmt | ${f}`, ['x=1'])).toEqual([]);
    expect(run('{app="api"} | logfmt | n > 1', ['n=abc'])[0]!.labels).toMatchObject({
      __error__: 'LabelFilterErr',
      __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax',
    });
    expect(run('{app="api"} | logfmt | n > 1s', ['n=abc'])[0]!.labels.__error_details__).toBe('time: invalid duration "abc"');
    expect(run('{app="api"} | logfmt | n > 1KB', ['n="3 parsecs"'])[0]!.labels.__error_details__).toBe('unhandled size name: parsecs');
    // An earlier error is kept, and does not stop the comparison on a value that converts.
    expect(run('{app="api"} | json | n > 1', ['{"n":5, bad', '{"n":0, bad']).map((e) => [e.line, e.labels.__error__])).toEqual([['{"n":5, bad', 'JSONParserErr']]);
    const kept = run('{app="api"} | logfmt | n > 1 | m > 1', ['n=abc m=zzz', 'n=abc m=0', 'n=abc m=2']);
    expect(kept.map((e) => [e.line, e.labels.__error_details__])).toEqual([
      ['n=abc m=zzz', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
      ['n=abc m=2', 'strconv.ParseFloat: parsing "abc": invalid syntax'],
    ]);
  });

  it('durations compare as exact nanoseconds', () => {
    expect(run('{app="api"} | logfmt | d > 9007199254740992ns', ['d=9007199254740993ns', 'd=9007199254740992ns']).map((e) => e.line)).toEqual([
      'd=9007199254740993ns',
    ]);
  });

  it('ip() searches text as Loki does: whole runs of address characters only', () => {
    const lines = ['a 10.0.0.1. b', 'a 10.0.0.1.5 b', 'to 10.0.0.1:8080', '(10.0.0.1)', 'x01.0.0.1', '010.0.0.1'];
    expect(run('{app="api"} |= ip("10.0.0.1")', lines).map((e) => e.line)).toEqual(['to 10.0.0.1:8080', '(10.0.0.1)']);
    // Loki only looks for an IPv6 address where five bytes remain: `::1` at the very end is not found.
    expect(run('{app="api"} |= ip("::1")', ['lo ::1 up', '::1', 'x ::1']).map((e) => e.line)).toEqual(['lo ::1 up']);
    expect(run('{app="api"} |= ip("::ffff:0:0/96")', ['m ::ffff:10.0.0.1 x', 'v4 10.0.0.1 x']).map((e) => e.line)).toEqual(['m ::ffff:10.0.0.1 x']);
    // As a label filter: a missing label drops the entry (for != too); an earlier error keeps it.
    expect(run('{app="api"} | logfmt | a != ip("10.0.0.0/8")', ['b=1', 'a=192.168.0.1', 'a=10.1.1.1']).map((e) => e.line)).toEqual(['a=192.168.0.1']);
    expect(run('{app="api"} | json | a = ip("10.0.0.0/8")', ['not json'])[0]!.labels.__error__).toBe('JSONParserErr');
    expect(run('{app="api"} | logfmt | a = ip("10.0.0.0/8")', ['a="from 10.2.3.4, ok"'])).toHaveLength(1);
  });

  it("keep never drops __error__ or __error_details__", () => {
    expect(run('{app="api"} | json | keep app', ['nope'])[0]!.labels).toEqual({
      __error__: 'JSONParserErr',
      __error_details__: "Value looks like object, but can't find closing '}' symbol",
      app: 'api',
    });
  });

  it('label_format applies renames in order, and every template reads the labels as the first template saw them', () => {
    const one = (q: string) => run(`{app="api"} | logfmt | ${q}`, ['a=1 b=2'])[0]!.labels;
    expect(one('label_format x=a, y="{{.x}}"')).toMatchObject({ x: '1', y: '1' });
    expect(one('label_format y="{{.x}}", x=a')).toMatchObject({ x: '1', y: '' });
    expect(one('label_format x="{{.a}}0", y="{{.x}}"')).toMatchObject({ x: '10', y: '' });
    expect(one('label_format x="{{.a}}0", b=a, y="{{.b}}"')).toMatchObject({ x: '10', b: '1', y: '2' });
    // `a=a` moves a onto itself, then deletes the source: the label is gone, as in Loki.
    expect(one('label_format a=a').a).toBeUndefined();
    // A missing source leaves the destination alone.
    expect(one('label_format b=zzz').b).toBe('2');
  });

  it("a stage that cannot be built fails with Loki's stage error", () => {
    expect(buildError('{app="a"} | label_format x="a", x="b"')).toBe(
      `parse error : stage '| label_format x="a",x="b"' : multiple label name 'x' not allowed in a single format operation`,
    );
    expect(buildError('{app="a"} | label_format __error__="a"')).toBe(`parse error : stage '| label_format __error__="a"' : __error__ cannot be formatted`);
    expect(buildError('{app="a"} | label_format x="{{ .pod"')).toBe(
      `parse error : stage '| label_format x="{{ .pod"' : invalid template for label 'x': template: label:1: unclosed action`,
    );
    expect(buildError('{app="a"} | line_format "{{ nofunc .pod }}"')).toBe(
      `parse error : stage '| line_format "{{ nofunc .pod }}"' : invalid line template: template: line:1: function "nofunc" not defined`,
    );
    expect(buildError('{app="a"} | json foo="a..b"')).toBe(
      `parse error : stage '| json foo="a..b"' : cannot parse expression [a..b]: syntax error: unexpected DOT, expecting FIELD`,
    );
    expect(buildError('{app="a"} |= ip("foo")')).toBe(`parse error : stage '|= ip("foo")' : ip: invalid pattern: "foo"`);
    expect(buildError('{app="a"} |~ ip("1.2.3.4")')).toBe(`parse error : stage '|~ ip("1.2.3.4")' : ip: invalid operation`);
    expect(buildError('{app="a"} | x = ip("10.0.0.5-10.0.0.1")')).toBe(`parse error : stage '| x=ip("10.0.0.5-10.0.0.1")' : ip: invalid pattern: "10.0.0.5-10.0.0.1"`);
  });

  it("decolorize removes what Loki's ANSI expression matches, byte for byte", () => {
    const out = (line: string) => run('{app="api"} | decolorize', [line])[0]!.line;
    expect(out('\u001b]0;title\u0007text')).toBe('text');
    // `S` is no final byte of Loki's expression: the match ends one character earlier.
    expect(out('a\u001b[1;2Sb')).toBe('aSb');
    expect(out('a\u009b31mb')).toBe('ab');
    expect(out('\u001b7saved\u001b8')).toBe('saved');
    expect(out('plain ✓ text')).toBe('plain ✓ text');
  });
});
