import { EngineError } from '../errors.js';
import { LabelsCache, labelsString, parseLabels } from './labels.js';

function parseError(s: string): string {
  try {
    parseLabels(s);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('bad_request');
    return (e as EngineError).message;
  }
  throw new Error(`expected ${s} not to parse`);
}

describe('parseLabels', () => {
  it('parses pairs and sorts them by name', () => {
    expect(parseLabels('{env="prod", app="api"}')).toEqual([
      ['app', 'api'],
      ['env', 'prod'],
    ]);
  });

  it('tolerates whitespace anywhere between tokens and a trailing comma', () => {
    expect(parseLabels(' \t{\n a = "1" ,\r\n b="2", } \n')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(parseLabels('{}')).toEqual([]);
    expect(parseLabels('{ }')).toEqual([]);
  });

  it('keeps duplicate names, adjacent and in input order, for the validator to report', () => {
    expect(parseLabels('{b="1", a="x", b="2", a="y"}')).toEqual([
      ['a', 'x'],
      ['a', 'y'],
      ['b', '1'],
      ['b', '2'],
    ]);
  });

  it('drops pairs with an empty value, as Loki does (empty means absent)', () => {
    expect(parseLabels('{a="", b="x", c=``}')).toEqual([['b', 'x']]);
  });

  it('reads a metric name before the braces as __name__, like the Prometheus parser', () => {
    expect(parseLabels('up{job="x"}')).toEqual([
      ['__name__', 'up'],
      ['job', 'x'],
    ]);
    expect(parseLabels('http:requests_total')).toEqual([['__name__', 'http:requests_total']]);
  });

  it('accepts identifiers with underscores and digits', () => {
    expect(parseLabels('{_a1="x", B_2="y"}')).toEqual([
      ['B_2', 'y'],
      ['_a1', 'x'],
    ]);
  });

  it('unquotes Go string literals: escapes, single quotes, raw strings and UTF-8', () => {
    expect(parseLabels(String.raw`{a="x\"y\\z\n\t\a\b\f\r\v"}`)).toEqual([['a', 'x"y\\z\n\t\x07\b\f\r\v']]);
    expect(parseLabels(String.raw`{a="\x41\101\u00e9\U0001F600"}`)).toEqual([['a', 'AAé😀']]);
    expect(parseLabels(String.raw`{a='it\'s "quoted"'}`)).toEqual([['a', `it's "quoted"`]]);
    expect(parseLabels('{a=`raw \\n "string"\nwith newline`}')).toEqual([['a', 'raw \\n "string"\nwith newline']]);
    expect(parseLabels('{a="ünïcödé ✓"}')).toEqual([['a', 'ünïcödé ✓']]);
    // \x and octal escapes are bytes; an invalid UTF-8 sequence decodes to U+FFFD.
    expect(parseLabels(String.raw`{a="\xc3\xa9 \xff"}`)).toEqual([['a', 'é \ufffd']]);
  });

  it.each([
    ['{', '1:2: parse error: unexpected end of input inside braces'],
    ['', '1:1: parse error: unexpected end of input'],
    ['}', "1:1: parse error: unexpected character: '}'"],
    ['some}', '1:5: parse error: could not parse remaining input "}"...'],
    ['{a="b"', '1:7: parse error: unexpected end of input inside braces'],
    ['{a="b"} x', '1:9: parse error: could not parse remaining input "x"...'],
    ['{a=b}', '1:4: parse error: unexpected identifier "b" in label set, expected string'],
    ['{a!="b"}', '1:3: parse error: unexpected "!=" in label set, expected "="'],
    ['{a=~"b"}', '1:3: parse error: unexpected "=~" in label set, expected "="'],
    ['{a="b" c="d"}', '1:8: parse error: unexpected identifier "c" in label set, expected "," or "}"'],
    ['{1a="b"}', '1:2: parse error: unexpected number in label set, expected identifier or "}"'],
    ['{a="b",,}', '1:8: parse error: unexpected "," in label set, expected identifier or "}"'],
    ['{"a"="b"}', '1:2: parse error: unexpected string in label set, expected identifier or "}"'],
    ['{a="b"\n, @="c"}', "2:3: parse error: unexpected character '@' in label set, expected identifier or \"}\""],
    ['{a="x\\qy"}', "1:4: parse error: unknown escape sequence U+0071 'q'"],
    ['{a="x\\\'"}', "1:4: parse error: unknown escape sequence U+0027 '''"],
    ['{a="\\xZZ"}', "1:4: parse error: illegal character U+005A 'Z' in escape sequence"],
    ['{a="\\ud800"}', '1:4: parse error: escape sequence is an invalid Unicode code point'],
    ['{a="\\U00110000"}', '1:4: parse error: escape sequence is an invalid Unicode code point'],
    ['{a="\\400"}', '1:4: parse error: escape sequence is an invalid Unicode code point'],
    ['{a="\\x4', '1:4: parse error: escape sequence not terminated'],
    ['{a="b\nc"}', '1:4: parse error: unterminated quoted string'],
    ['{a="b', '1:4: parse error: unterminated quoted string'],
    ['{a=`b', '1:4: parse error: unterminated raw string'],
    ['{é="b"}', "1:2: parse error: unexpected character 'é' in label set, expected identifier or \"}\""],
    ['{ä="b", a=}', "1:2: parse error: unexpected character 'ä' in label set, expected identifier or \"}\""],
    ['{a="é", b=}', '1:12: parse error: unexpected "}" in label set, expected string'],
  ])('rejects %j with the Prometheus parser message', (input, message) => {
    expect(parseError(input)).toBe(message);
  });
});

describe('labelsString', () => {
  it('prints the canonical form with Go quoting', () => {
    expect(labelsString([])).toBe('{}');
    expect(
      labelsString([
        ['app', 'api'],
        ['msg', 'say "hi"\n'],
      ]),
    ).toBe('{app="api", msg="say \\"hi\\"\\n"}');
  });

  it('round-trips through parseLabels', () => {
    const pairs = parseLabels('{z="\\u00a0\\x01\\"", a="é\\\\", m="\\U0001F600 x"}');
    expect(parseLabels(labelsString(pairs))).toEqual(pairs);
    expect(labelsString(parseLabels(labelsString(pairs)))).toBe(labelsString(pairs));
  });

  it('makes the client key order irrelevant', () => {
    expect(labelsString(parseLabels('{b="2",a="1"}'))).toBe(labelsString(parseLabels('{ a = "1" , b = "2" }')));
  });
});

describe('LabelsCache', () => {
  it('returns the same frozen entry for the same raw string', () => {
    const cache = new LabelsCache();
    const a = cache.get('{b="2", a="1"}');
    expect(a.pairs).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(a.canonical).toBe('{a="1", b="2"}');
    expect(cache.get('{b="2", a="1"}')).toBe(a);
    expect(Object.isFrozen(a.pairs)).toBe(true);
    expect(Object.isFrozen(a.pairs[0])).toBe(true);
  });

  it('throws for bad input and does not cache it', () => {
    const cache = new LabelsCache();
    expect(() => cache.get('{a=b}')).toThrow(EngineError);
    expect(cache.size).toBe(0);
  });

  it('stays bounded and keeps recently used entries', () => {
    const cache = new LabelsCache(100);
    const hot = cache.get('{hot="1"}');
    for (let i = 0; i < 1000; i++) {
      cache.get(`{i="${i}"}`);
      if (i % 10 === 0) expect(cache.get('{hot="1"}')).toBe(hot); // promoted on use, never evicted
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get('{hot="1"}')).toBe(hot);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
