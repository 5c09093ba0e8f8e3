import { compileGoRegexp, GoRegexpError, translateGoRegexp } from './regexp.js';

const matches = (pattern: string, input: string, dotNL = false): boolean => compileGoRegexp(pattern, { dotNL }).test(input);

function goError(pattern: string): string {
  try {
    translateGoRegexp(pattern);
  } catch (e) {
    if (e instanceof GoRegexpError) return e.message;
    throw e;
  }
  return 'compiled';
}

describe('Go regexps in JavaScript', () => {
  it('support Go’s flags, whole-pattern and scoped', () => {
    expect(matches('(?i)error', 'ERROR here')).toBe(true);
    expect(translateGoRegexp('(?i)error').flags).toBe('vi');
    expect(matches('foo(?i)bar', 'fooBAR')).toBe(true);
    expect(matches('foo(?i)bar', 'FOObar')).toBe(false);
    expect(matches('(?i:a)b', 'Ab')).toBe(true);
    expect(matches('(?i:a)b', 'AB')).toBe(false);
    expect(matches('(?i)a(?-i)b', 'Ab')).toBe(true);
    expect(matches('(?i)a(?-i)b', 'AB')).toBe(false);
    expect(matches('(a(?i)b)c', 'aBc')).toBe(true);
    expect(matches('(a(?i)b)c', 'aBC')).toBe(false);
  });

  it('do not let . match a newline unless (?s) or dotNL', () => {
    expect(matches('a.b', 'a\nb')).toBe(false);
    expect(matches('(?s)a.b', 'a\nb')).toBe(true);
    expect(matches('a.b', 'a\nb', true)).toBe(true);
    expect(matches('a.b', 'a😀b')).toBe(true);
  });

  it('anchor ^ and $ at the text, or at lines with (?m) (\\n only)', () => {
    expect(matches('^b', 'a\nb')).toBe(false);
    expect(matches('(?m)^b$', 'a\nb\nc')).toBe(true);
    expect(matches('(?m)^b$', 'a\rb\rc')).toBe(false);
    expect(matches('a$', 'a\n')).toBe(false);
    expect(matches('\\Aa\\z', 'a')).toBe(true);
    expect(matches('^*a', 'a')).toBe(true);
  });

  it('use Go’s ASCII classes and POSIX and Unicode classes', () => {
    expect(matches('^\\s$', '\u00a0')).toBe(false);
    expect(matches('^\\s$', '\f')).toBe(true);
    expect(matches('^\\S$', '\u00a0')).toBe(true);
    expect(matches('^[[:alpha:]]+[[:digit:]]$', 'abc1')).toBe(true);
    expect(matches('^[[:^space:]]$', 'x')).toBe(true);
    expect(matches('^\\pL+$', 'héllo')).toBe(true);
    expect(matches('^\\p{Greek}+$', 'αβγ')).toBe(true);
    expect(matches('^\\P{Greek}$', 'a')).toBe(true);
    expect(matches('^[\\p{Lu}\\d]+$', 'AB12')).toBe(true);
    expect(matches('^[^\\d\\s]$', 'a')).toBe(true);
    expect(matches('^[^\\d\\s]$', '1')).toBe(false);
    expect(matches('^\\w+$', 'a_1')).toBe(true);
  });

  it('read escapes, literal braces and brackets as Go does', () => {
    expect(matches('^\\x41\\x{1F600}\\101\\.\\-\\/$', 'A😀A.-/')).toBe(true);
    expect(matches('^a{,2}}$', 'a{,2}}')).toBe(true);
    expect(matches('^]$', ']')).toBe(true);
    expect(matches('^[]a-]+$', ']a-')).toBe(true);
    expect(matches('^\\Q.*+\\E$', '.*+')).toBe(true);
    expect(matches('^a{2,3}$', 'aaa')).toBe(true);
    expect(matches('^a{2,}?$', 'aaaa')).toBe(true);
  });

  it('swap greediness under (?U)', () => {
    expect(compileGoRegexp('(?U)a+').exec('aaa')![0]).toBe('a');
    expect(compileGoRegexp('(?U)a+?').exec('aaa')![0]).toBe('aaa');
  });

  it('keep group numbers and return Go names, duplicates included', () => {
    const t = translateGoRegexp('(?P<a>x)(y)(?<b>z)(?:w)(?P<a>v)');
    expect(t.names).toEqual(['a', undefined, 'b', 'a']);
    expect(new RegExp(t.source, t.flags).exec('xyzwv')!.slice(1)).toEqual(['x', 'y', 'z', 'v']);
  });

  it('refuse what Go refuses, with Go’s messages', () => {
    const cases: Array<[string, string]> = [
      ['(', 'missing closing ): `(`'],
      ['a(b|c', 'missing closing ): `a(b|c`'],
      [')', 'unexpected ): `)`'],
      ['a**', 'invalid nested repetition operator: `**`'],
      ['a*+', 'invalid nested repetition operator: `*+`'],
      ['a*??', 'invalid nested repetition operator: `*??`'],
      ['a{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
      ['*', 'missing argument to repetition operator: `*`'],
      ['a|+', 'missing argument to repetition operator: `+`'],
      ['(?)?', 'missing argument to repetition operator: `?`'],
      ['{2}', 'missing argument to repetition operator: `{2}`'],
      ['a{1001}', 'invalid repeat count: `{1001}`'],
      ['a{3,2}', 'invalid repeat count: `{3,2}`'],
      ['(?=x)', 'invalid or unsupported Perl syntax: `(?=`'],
      ['(?!x)', 'invalid or unsupported Perl syntax: `(?!`'],
      ['(?x)', 'invalid or unsupported Perl syntax: `(?x`'],
      ['(?i', 'invalid or unsupported Perl syntax: `(?i`'],
      ['(?<=a)b', 'invalid named capture: `(?<=a)b`'],
      ['(?P<>x)', 'invalid named capture: `(?P<>`'],
      ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
      ['[a', 'missing closing ]: `[a`'],
      ['x[^', 'missing closing ]: `[^`'],
      ['[z-a]', 'invalid character class range: `z-a`'],
      ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
      ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
      ['\\q', 'invalid escape sequence: `\\q`'],
      ['\\1', 'invalid escape sequence: `\\1`'],
      ['\\8', 'invalid escape sequence: `\\8`'],
      ['\\Z', 'invalid escape sequence: `\\Z`'],
      ['\\C', 'invalid escape sequence: `\\C`'],
      ['\\xZ1', 'invalid escape sequence: `\\xZ1`'],
      ['[a-\\d]', 'invalid escape sequence: `\\d`'],
      ['[\\b]', 'invalid escape sequence: `\\b`'],
      ['a\\', 'trailing backslash at end of expression: ``'],
    ];
    for (const [pattern, message] of cases) expect(goError(pattern)).toBe(`error parsing regexp: ${message}`);
  });

  it('accept what Go accepts and JavaScript would not', () => {
    for (const p of ['\\_', '\\12', '\\0', 'a{,', '}', ']', '(?i)(?-i)', '(?s-m:x)', '[\\-]', '\\"', '\\#']) {
      expect(goError(p)).toBe('compiled');
    }
  });
});
