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
