import { compileGoRegexp, goExpand, goFindAll, goReplaceAll, GoRegexpError, translateGoRegexp } from './regexp.js';

const matches = (pattern: string, input: string, dotNL = false): boolean => compileGoRegexp(pattern, { dotNL }).re.test(input);

/** The match and its groups ("" for a group that did not take part), or null. */
const m = (re: string, s: string): string[] | null => {
  const r = compileGoRegexp(re).re.exec(s);
  return r === null ? null : Array.from(r, (x) => x ?? '');
};

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
    expect(m('(?i:ab)c', 'ABc')).toEqual(['ABc']);
    expect(matches('(?i)a(?-i)b', 'Ab')).toBe(true);
    expect(matches('(?i)a(?-i)b', 'AB')).toBe(false);
    expect(m('(x(?i)y)z', 'xYz')).toEqual(['xYz', 'xY']);
    expect(m('(x(?i)y)z', 'xYZ')).toBeNull();
  });

  it('scope inline flags to their group, across alternatives', () => {
    expect(m('a(?i)b|c', 'C')).toEqual(['C']);
    expect(m('a(?i)b|c', 'aB')).toEqual(['aB']);
    expect(m('a(?i)b|c', 'AB')).toBeNull();
  });

  it('do not let . match a newline unless (?s) or dotNL', () => {
    expect(m('a.b', 'a\rb')).toEqual(['a\rb']);
    expect(matches('a.b', 'a\u2028b')).toBe(true);
    expect(matches('a.b', 'a\nb')).toBe(false);
    expect(matches('(?s)a.b', 'a\nb')).toBe(true);
    expect(m('a(?s:.)b.', 'a\nbc')).toEqual(['a\nbc']);
    expect(matches('a.b', 'a\nb', true)).toBe(true);
    expect(matches('a.b', 'a😀b')).toBe(true);
  });

  it('anchor ^ and $ at the text, or at lines with (?m) (\\n only)', () => {
    expect(matches('^b', 'a\nb')).toBe(false);
    expect(m('(?m)^b$', 'a\nb\nc')).toEqual(['b']);
    expect(matches('(?m)^b$', 'a\rb\rc')).toBe(false);
    expect(matches('a$', 'a\n')).toBe(false);
    expect(matches('\\Aa\\z', 'a')).toBe(true);
    expect(matches('^*a', 'a')).toBe(true);
  });

  it('use Go’s ASCII classes and POSIX and Unicode classes', () => {
    expect(matches('^\\s$', '\u00a0')).toBe(false);
    expect(matches('^\\s$', '\f')).toBe(true);
    expect(matches('^\\S$', '\u00a0')).toBe(true);
    expect(m('[\\s]+', ' \t\n')).toEqual([' \t\n']);
    expect(m('[\\S]+', 'ab\u00a0 ')).toEqual(['ab\u00a0']);
    expect(matches('^[[:alpha:]]+[[:digit:]]$', 'abc1')).toBe(true);
    expect(matches('^[[:^space:]]$', 'x')).toBe(true);
    expect(m('[[:^digit:]]+', 'ab1')).toEqual(['ab']);
    expect(matches('^\\pL+$', 'héllo')).toBe(true);
    expect(m('\\PL', 'a1')).toEqual(['1']);
    expect(matches('^\\p{Greek}+$', 'αβγ')).toBe(true);
    expect(matches('^\\P{Greek}$', 'a')).toBe(true);
    expect(matches('^[\\p{Lu}\\d]+$', 'AB12')).toBe(true);
    expect(matches('^[^\\d\\s]$', 'a')).toBe(true);
    expect(matches('^[^\\d\\s]$', '1')).toBe(false);
    expect(matches('^\\w+$', 'a_1')).toBe(true);
    expect(matches('^\\d$', '\u0663')).toBe(false);
  });

  it('keep \\b ASCII under (?i), where V8’s would count K (Kelvin sign) and ſ as word characters', () => {
    // Go's \b looks at ASCII word characters only, whatever the flags; (?i)k still matches the Kelvin sign.
    expect(matches('(?i)k', '\u212a')).toBe(true);
    expect(matches('(?i)\\bk', '\u212a')).toBe(false);
    expect(matches('(?i)\\bk', 'x k')).toBe(true);
    expect(matches('(?i)x\\B', 'x\u017f')).toBe(false);
  });

  it('read escapes, literal braces and brackets as Go does', () => {
    expect(matches('^\\x41\\x{1F600}\\101\\.\\-\\/$', 'A😀A.-/')).toBe(true);
    expect(m('\\#\\-\\"', '#-"')).toEqual(['#-"']);
    expect(m('[\\-\\]a]+', '-]a')).toEqual(['-]a']);
    expect(matches('^a{,2}}$', 'a{,2}}')).toBe(true);
    expect(m('a{01}', 'a{01}')).toEqual(['a{01}']);
    expect(m('x}', 'x}')).toEqual(['x}']);
    expect(matches('^]$', ']')).toBe(true);
    expect(matches('^[]a-]+$', ']a-')).toBe(true);
    expect(matches('^\\Q.*+\\E$', '.*+')).toBe(true);
    expect(m('\\Qa.b*', 'a.b*')).toEqual(['a.b*']);
    expect(matches('^a{2,3}$', 'aaa')).toBe(true);
    expect(m('a{2}', 'aaa')).toEqual(['aa']);
    expect(matches('^a{2,}?$', 'aaaa')).toBe(true);
  });

  it('swap greediness under (?U)', () => {
    expect(m('(?U)a+', 'aaa')).toEqual(['a']);
    expect(m('(?U)a+?', 'aaa')).toEqual(['aaa']);
    expect(m('a+?', 'aaa')).toEqual(['a']);
  });

  it('keep group numbers and return Go’s SubexpNames, duplicates and V8-invalid names included', () => {
    const t = translateGoRegexp('(?P<a>x)(y)(?<b>z)(?:w)(?P<a>v)');
    expect(t.names).toEqual(['', 'a', '', 'b', 'a']);
    expect(new RegExp(t.source, t.flags).exec('xyzwv')!.slice(1)).toEqual(['x', 'y', 'z', 'v']);
    expect(compileGoRegexp('(?P<1a>x)(?P<1a>y)').names).toEqual(['', '1a', '1a']);
    expect(compileGoRegexp('(?:a)(b)').numSubexp).toBe(1);
    expect(translateGoRegexp('(?P<x>a)').source).toBe('(a)');
  });

  it('add the extra JavaScript flags asked for', () => {
    const g = compileGoRegexp('(?i)a', { flags: 'gd' });
    expect(g.re.flags).toBe('dgiv');
    expect('aA'.match(g.re)).toEqual(['a', 'A']);
  });

  it.each<[string, string]>([
    ['(', 'missing closing ): `(`'],
    ['a(b|c', 'missing closing ): `a(b|c`'],
    [')', 'unexpected ): `)`'],
    ['a)', 'unexpected ): `a)`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a*+', 'invalid nested repetition operator: `*+`'],
    ['a*??', 'invalid nested repetition operator: `*??`'],
    ['a{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
    ['*', 'missing argument to repetition operator: `*`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a|+', 'missing argument to repetition operator: `+`'],
    ['(?)?', 'missing argument to repetition operator: `?`'],
    ['{2}', 'missing argument to repetition operator: `{2}`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['a{3,2}', 'invalid repeat count: `{3,2}`'],
    ['(?=x)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?!x)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?x)', 'invalid or unsupported Perl syntax: `(?x`'],
    ['(?i', 'invalid or unsupported Perl syntax: `(?i`'],
    ['(?i-)', 'invalid or unsupported Perl syntax: `(?i-)`'],
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
  ])('refuse %s as Go does, with Go’s message', (pattern, message) => {
    expect(goError(pattern)).toBe(`error parsing regexp: ${message}`);
    expect(() => compileGoRegexp(pattern)).toThrow(GoRegexpError);
  });

  it('put the expression between plain backquotes, newlines and backquotes included', () => {
    // The two earlier implementations disagreed: one quoted the expression as %#q ("a\n(" here). Go's
    // syntax.Error.Error() concatenates the backquotes.
    expect(goError('a\n(')).toBe('error parsing regexp: missing closing ): `a\n(`');
    expect(goError('`(')).toBe('error parsing regexp: missing closing ): ``(`');
  });

  it('quote the rest of the pattern from the group, as Go does, when a named group has no >', () => {
    // The two earlier translations disagreed here; Go's parsePerlFlags reports the text from the `(`.
    expect(goError('ab(?P<x')).toBe('error parsing regexp: invalid named capture: `(?P<x`');
  });

  it('accept what Go accepts and JavaScript would not', () => {
    // `(?)` is an empty flag group in Go (one earlier translation refused it); `a*(?i)*` repeats a repetition,
    // which Go allows once something stands between the operators.
    const accepted = ['\\_', '\\12', '\\0', 'a{,', '}', ']', '(?i)(?-i)', '(?s-m:x)', '[\\-]', '\\"', '\\#', '(?)', 'a*(?i)*'];
    for (const p of accepted) expect(goError(p)).toBe('compiled');
    expect(m('a(?)b', 'ab')).toEqual(['ab']);
    expect(m('a*(?i)*b', 'aab')).toEqual(['aab']);
  });
});

describe('Go match iteration and expansion', () => {
  it('skips an empty match right after a previous match (Go FindAll)', () => {
    const re = compileGoRegexp('a*', { flags: 'g' }).re;
    const found: string[] = [];
    goFindAll(re, 'baaac', (x) => found.push(`${x.index}:${x[0]}`));
    expect(found).toEqual(['0:', '1:aaa', '5:']);
    expect(goReplaceAll(re, 'baaac', () => '-')).toBe('-b-c-');
    const limited: string[] = [];
    goFindAll(re, 'baaac', (x) => limited.push(x[0]), 2);
    expect(limited).toEqual(['', 'aaa']);
  });

  it('steps over a whole astral character after an empty match', () => {
    const re = compileGoRegexp('x*', { flags: 'g' }).re;
    expect(goReplaceAll(re, 'a😀', () => '-')).toBe('-a-😀-');
  });

  it('expands $1, ${1}, $name, ${name} and $$ as Go does', () => {
    const g = compileGoRegexp('(?P<first>\\w+) (?P<second>\\w+)', { flags: 'g' });
    const out = goReplaceAll(g.re, 'hello world', (x) => goExpand('${second}-$first $$ ${1}x $1x', x, g.names));
    expect(out).toBe('world-hello $ hellox ');
  });

  it('reads up to nine digits as a group number, longer or zero-led digit runs as names', () => {
    const g = compileGoRegexp('(?P<123456789>a)(?P<1234567890>b)(?P<01>c)', { flags: 'g' });
    const x = g.re.exec('abc')!;
    expect(goExpand('[$123456789][$1234567890][$01][${2}][$x][${1]', x, g.names)).toBe('[][b][c][b][][${1]');
  });
});
