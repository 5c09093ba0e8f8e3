import { matchesPattern, pattern, PatternMatcher } from './index.js';

const asObj = (r: { labels: [string, string][] }): Record<string, string> => Object.fromEntries(r.labels);

describe('pattern parser — docs "Parser expression / Pattern"', () => {
  it('parses the NGINX example', () => {
    const line =
      '0.191.12.2 - - [10/Jun/2021:09:14:29 +0000] "GET /api/plugins/versioncheck HTTP/1.1" 200 2 "-" "Go-http-client/2.0" "13.76.247.102, 34.120.177.193" "TLSv1.2" "US" ""';
    const r = pattern('<ip> - - <_> "<method> <uri> <_>" <status> <size> <_> "<agent>" <_>', line);
    expect(asObj(r)).toEqual({
      ip: '0.191.12.2',
      method: 'GET',
      uri: '/api/plugins/versioncheck',
      status: '200',
      size: '2',
      agent: 'Go-http-client/2.0',
    });
  });

  it('uses <_> to avoid anchoring at the start (docs example)', () => {
    const line =
      'level=debug ts=2021-06-10T09:24:13.472094048Z caller=logging.go:66 traceID=0568b66ad2d9294c msg="POST /loki/api/v1/push (204) 16.652862ms"';
    expect(asObj(pattern('<_> msg="<method> <path> (<status>) <latency>"', line))).toEqual({
      method: 'POST',
      path: '/loki/api/v1/push',
      status: '204',
      latency: '16.652862ms',
    });
  });

  it('is anchored at the start when it begins with a literal (docs)', () => {
    expect(asObj(pattern('GET <path>', 'POST /x'))).toEqual({});
    expect(asObj(pattern('GET <path>', 'GET /x'))).toEqual({ path: '/x' });
  });

  it('stops at a missing literal and gives the rest of the line to the current capture', () => {
    expect(pattern('<a> | <b> | <c>', 'x | y').labels).toEqual([
      ['a', 'x'],
      ['b', 'y'],
    ]);
  });

  it('matches UTF-8 literals and captures', () => {
    expect(asObj(pattern('unicode ▶ <what> end', 'unicode ▶ 🤷 end'))).toEqual({ what: '🤷' });
  });

  it('treats < not forming a capture as literal text', () => {
    expect(asObj(pattern('<a> <b <c>', 'x <b y'))).toEqual({ a: 'x', c: 'y' });
  });

  it('adds _extracted on a clash', () => {
    expect(asObj(pattern('<app> <x>', 'a b', new Set(['app'])))).toEqual({ app_extracted: 'a', x: 'b' });
  });

  it.each([
    ['<_>', 'at least one capture is required'],
    ['foo bar', 'at least one capture is required'],
    ['<a><b>', "found consecutive capture '<a><b>': invalid expression"],
    ['<a> x<b><_>', "found consecutive capture '<b><_>': invalid expression"],
    ['<a> <a>', 'duplicate capture name (a): invalid expression'],
    ['', 'parse error at line 1, col 1: syntax error: unexpected $end, expecting IDENTIFIER or LITERAL'],
  ])('rejects %j (docs: invalid patterns) with %s', (expr, msg) => {
    expect(() => PatternMatcher.compile(expr)).toThrow(msg);
  });
});

describe('pattern line filters |> and !>', () => {
  it('requires literals in order and non-empty captures', () => {
    expect(matchesPattern('<_> bar <_>', 'foo bar baz')).toBe(true);
    expect(matchesPattern('<_> bar <_>', ' bar ')).toBe(false);
    expect(matchesPattern('<_>bar<_>', ' bar ')).toBe(true);
    expect(matchesPattern('<_> bar', 'foo bar baz')).toBe(false);
    expect(matchesPattern('<_> baz', 'foo bar baz')).toBe(true);
    expect(matchesPattern('foo <_>', 'foo bar baz')).toBe(true);
    expect(matchesPattern('<_> msg="<_>"', 'level=info msg="hi"')).toBe(true);
  });

  it('the empty pattern matches only empty lines; <_> matches any non-empty line', () => {
    expect(matchesPattern('', '')).toBe(true);
    expect(matchesPattern('', 'x')).toBe(false);
    expect(matchesPattern('<_>', 'x')).toBe(true);
    expect(matchesPattern('<_>', '')).toBe(false);
  });

  it('rejects named captures', () => {
    expect(() => PatternMatcher.compileLineFilter('<foo> bar')).toThrow("named captures are not allowed: found '<foo>'");
  });
});
