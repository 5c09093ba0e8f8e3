import { logfmt } from './index.js';
import { LogfmtExpressionParser, parseLogfmtExpression } from './logfmt.js';

const asObj = (r: { labels: [string, string][] }): Record<string, string> => Object.fromEntries(r.labels);
const docLine = 'at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" service=8ms status=200';

describe('logfmt — docs "Parser expression / logfmt" without parameters', () => {
  it('extracts every key (docs example)', () => {
    expect(asObj(logfmt(docLine))).toEqual({
      at: 'info',
      method: 'GET',
      path: '/',
      host: 'grafana.net',
      fwd: '124.133.124.161',
      service: '8ms',
      status: '200',
    });
  });

  it('unquotes values with escapes and keeps literal control characters', () => {
    expect(asObj(logfmt('msg="say \\"hi\\"\\n\\tnow" u="\\u00e9" raw="a\nb" bs="a\\\\b"'))).toEqual({
      msg: 'say "hi"\n\tnow',
      u: 'é',
      raw: 'a\nb',
      bs: 'a\\b',
    });
  });

  it('sanitizes keys and adds _extracted on a clash (docs "Parser expression")', () => {
    expect(asObj(logfmt('app=x foo.bar=1 test-dash=2 9lives=3', {}, undefined, new Set(['app'])))).toEqual({
      app_extracted: 'x',
      foo_bar: '1',
      test_dash: '2',
      _9lives: '3',
    });
  });

  it('the last duplicate wins', () => {
    expect(asObj(logfmt('a=1 a=2'))).toEqual({ a: '2' });
  });

  it('drops standalone keys and empty values unless --keep-empty (docs flags)', () => {
    expect(asObj(logfmt('standalone a= b="" c=1'))).toEqual({ c: '1' });
    expect(asObj(logfmt('standalone a= b="" c=1', { keepEmpty: true }))).toEqual({
      standalone: '',
      a: '',
      b: '',
      c: '1',
    });
  });

  it('skips malformed pairs and goes on without --strict (docs flags)', () => {
    expect(asObj(logfmt('a=1 =value b=2'))).toEqual({ a: '1', b: '2' });
    expect(asObj(logfmt('a=1 foo=bar=buzz b=2'))).toEqual({ a: '1', b: '2' });
    expect(asObj(logfmt('a=1 fo"o=bar b=2'))).toEqual({ a: '1', b: '2' });
    expect(logfmt('a=1 =value').error).toBeUndefined();
  });

  it('maps invalid UTF-8 and U+FFFD in values to spaces', () => {
    expect(asObj(logfmt('a=x\ufffdy'))).toEqual({ a: 'x y' });
    const line = Buffer.concat([Buffer.from('a=x'), Buffer.from([0xc3]), Buffer.from('y b=1')]);
    expect(asObj(logfmt(line))).toEqual({ a: 'x y', b: '1' });
  });
});

describe('logfmt --strict — docs "Parser expression / logfmt" flags', () => {
  it.each([
    ['=value', 'logfmt syntax error at pos 1 : unexpected \'=\'', {}],
    ['a=1 foo=bar=buzz', 'logfmt syntax error at pos 12 : unexpected \'=\'', { a: '1' }],
    ['a=1 fo"o=bar', 'logfmt syntax error at pos 7 : unexpected \'"\'', { a: '1' }],
    ['a="open', 'logfmt syntax error at pos 8 : unterminated quoted value', {}],
    ['a="bad\\q"', 'logfmt syntax error at pos 10 : invalid quoted value', {}],
  ])('%s → %s', (line, details, labels) => {
    const r = logfmt(line, { strict: true });
    expect(r.error).toBe('LogfmtParserErr');
    expect(r.errorDetails).toBe(details);
    expect(asObj(r)).toEqual(labels);
  });

  it('reports an invalid key at its byte position', () => {
    const line = Buffer.concat([Buffer.from('a=1 b'), Buffer.from([0xff]), Buffer.from('c=2')]);
    const r = logfmt(line, { strict: true });
    expect(r.errorDetails).toBe('logfmt syntax error at pos 8 : invalid key');
    expect(asObj(r)).toEqual({ a: '1' });
  });

  it('accepts well-formed lines (docs: key=value key="value in double quotes")', () => {
    const r = logfmt('key=value key2="value in double quotes"', { strict: true });
    expect(r.error).toBeUndefined();
    expect(asObj(r)).toEqual({ key: 'value', key2: 'value in double quotes' });
  });
});

describe('logfmt with parameters — docs "Parser expression / logfmt" with parameters', () => {
  it('| logfmt host, fwd_ip="fwd" extracts and renames (docs example)', () => {
    const r = logfmt(docLine, {}, [
      { name: 'host', expr: 'host' },
      { name: 'fwd_ip', expr: 'fwd' },
    ]);
    expect(asObj(r)).toEqual({ host: 'grafana.net', fwd_ip: '124.133.124.161' });
  });

  it('creates requested labels that are absent, with an empty value', () => {
    expect(asObj(logfmt('a=1', {}, [{ name: 'b', expr: 'b' }]))).toEqual({ b: '' });
  });

  it('keeps a standalone requested key without --keep-empty (docs)', () => {
    expect(asObj(logfmt('flag a=1', {}, [{ name: 'flag', expr: 'flag' }]))).toEqual({ flag: '' });
  });

  it('adds _extracted when the stream has the label', () => {
    expect(asObj(logfmt('host=h', {}, [{ name: 'host', expr: 'host' }], new Set(['host'])))).toEqual({
      host_extracted: 'h',
    });
  });

  it('sets __error__ in strict mode', () => {
    const r = logfmt('host=h =x', { strict: true }, [{ name: 'host', expr: 'host' }]);
    expect(r.error).toBe('LogfmtParserErr');
    expect(asObj(r)).toEqual({ host: 'h' });
  });
});

describe('logfmt parameter expressions (Loki’s logfmt expression grammar)', () => {
  const error = (expr: string): string => {
    try {
      new LogfmtExpressionParser([{ name: 'foo', expr }]);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`expected ${expr} to be refused`);
  };

  it("refuses what Loki refuses, with Loki's messages", () => {
    expect(error('bar[')).toBe('cannot parse expression [bar[]: unexpected char [');
    expect(error('a.b')).toBe('cannot parse expression [a.b]: unexpected char .');
    expect(error('')).toBe('cannot parse expression []: syntax error: unexpected $end, expecting STRING or KEY');
    expect(error('a b')).toBe('cannot parse expression [a b]: syntax error: unexpected KEY');
    expect(error('[a')).toBe('cannot parse expression [[a]: syntax error: unexpected $end, expecting STRING or KEY');
    expect(error('"x" k')).toBe('cannot parse expression ["x" k]: syntax error: unexpected KEY');
  });

  it('reads a key, or quoted strings, as the key to extract', () => {
    expect(parseLogfmtExpression(' host ')).toEqual(['host']);
    expect(parseLogfmtExpression('"a b"')).toEqual(['a b']);
    expect(parseLogfmtExpression('k "x" "y')).toEqual(['k', 'x', 'y']);
    expect(asObj(logfmt('"a b"=1 c=2', {}, [{ name: 'ab', expr: '"a b"' }]))).toEqual({ ab: '' });
    expect(asObj(logfmt('x=1 c=2', {}, [{ name: 'c', expr: '"c"' }]))).toEqual({ c: '2' });
  });
});
