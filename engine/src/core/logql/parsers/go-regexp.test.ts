import { compileGoRegexp, goExpand, goFindAll, goReplaceAll, translateGoRegexp } from './index.js';

const m = (re: string, s: string): string[] | null => {
  const r = compileGoRegexp(re).re.exec(s);
  return r === null ? null : Array.from(r, (x) => x ?? '');
};

describe('Go RE2 syntax on V8', () => {
  it('keeps group names by number, including names V8 rejects and duplicates', () => {
    expect(compileGoRegexp('(?P<a>x)(y)(?<b>z)').names).toEqual(['', 'a', '', 'b']);
    expect(compileGoRegexp('(?P<1a>x)(?P<1a>y)').names).toEqual(['', '1a', '1a']);
    expect(compileGoRegexp('(?:a)(b)').numSubexp).toBe(1);
  });

  it('. does not match \\n only; (?s) makes it match everything', () => {
    expect(m('a.b', 'a\rb')).toEqual(['a\rb']);
    expect(m('a.b', 'a\nb')).toBeNull();
    expect(m('(?s)a.b', 'a\nb')).toEqual(['a\nb']);
    expect(m('a(?s:.)b.', 'a\nbc')).toEqual(['a\nbc']);
  });

  it('\\s is ASCII whitespace; \\S its complement (also inside classes)', () => {
    expect(m('\\s', '\u00a0')).toBeNull();
    expect(m('[\\s]+', ' \t\n')).toEqual([' \t\n']);
    expect(m('[\\S]+', 'ab\u00a0 ')).toEqual(['ab\u00a0']);
  });

  it('inline flags are scoped to their group, across alternatives', () => {
    expect(m('a(?i)b|c', 'C')).toEqual(['C']);
    expect(m('a(?i)b|c', 'aB')).toEqual(['aB']);
    expect(m('a(?i)b|c', 'AB')).toBeNull();
    expect(m('(x(?i)y)z', 'xYz')).toEqual(['xYz', 'xY']);
    expect(m('(x(?i)y)z', 'xYZ')).toBeNull();
    expect(m('(?i:ab)c', 'ABc')).toEqual(['ABc']);
  });

  it('(?m) breaks lines only at \\n; \\A and \\z anchor the text', () => {
    expect(m('(?m)^b$', 'a\nb\nc')).toEqual(['b']);
    expect(m('(?m)^b$', 'a\rb\rc')).toBeNull();
    expect(m('\\Aab\\z', 'ab')).toEqual(['ab']);
    expect(m('^b', 'a\nb')).toBeNull();
  });

  it('(?U) swaps greedy and lazy', () => {
    expect(m('(?U)a+', 'aaa')).toEqual(['a']);
    expect(m('(?U)a+?', 'aaa')).toEqual(['aaa']);
    expect(m('a+?', 'aaa')).toEqual(['a']);
  });

  it('supports POSIX classes, \\p classes, \\Q..\\E, \\x{..}, octal and punctuation escapes', () => {
    expect(m('[[:alpha:]]+', 'ab1')).toEqual(['ab']);
    expect(m('[[:^digit:]]+', 'ab1')).toEqual(['ab']);
    expect(m('\\pL+', 'héllo!')).toEqual(['héllo']);
    expect(m('\\p{Greek}+', 'xαβ')).toEqual(['αβ']);
    expect(m('\\PL', 'a1')).toEqual(['1']);
    expect(m('\\Qa.b*\\E', 'a.b*')).toEqual(['a.b*']);
    expect(m('\\x{41}\\x42\\101', 'ABA')).toEqual(['ABA']);
    expect(m('\\#\\-\\"', '#-"')).toEqual(['#-"']);
    expect(m('[\\-\\]a]+', '-]a')).toEqual(['-]a']);
    expect(m('[]a]+', ']a')).toEqual([']a']);
  });

  it('treats braces that are not repetitions as literals', () => {
    expect(m('a{,2}', 'a{,2}')).toEqual(['a{,2}']);
    expect(m('a{2}', 'aa')).toEqual(['aa']);
    expect(m('x}', 'x}')).toEqual(['x}']);
    expect(m('x]', 'x]')).toEqual(['x]']);
  });

  it.each([
    ['(a', 'error parsing regexp: missing closing ): `(a`'],
    ['a)', 'error parsing regexp: unexpected ): `a)`'],
    ['[a', 'error parsing regexp: missing closing ]: `[a`'],
    ['a**', 'error parsing regexp: invalid nested repetition operator: `**`'],
    ['*a', 'error parsing regexp: missing argument to repetition operator: `*`'],
    ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
    ['\\q', 'error parsing regexp: invalid escape sequence: `\\q`'],
    ['[z-a]', 'error parsing regexp: invalid character class range: `z-a`'],
    ['(?=a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(?P<a-b>x)', 'error parsing regexp: invalid named capture: `(?P<a-b>`'],
    ['a\\', 'error parsing regexp: trailing backslash at end of expression: ``'],
  ])('rejects %s like Go', (re, msg) => {
    expect(() => compileGoRegexp(re)).toThrow(msg);
  });

  it('translates to a plain V8 source', () => {
    expect(translateGoRegexp('(?P<x>a)').source).toBe('(a)');
  });
});

describe('Go match iteration and expansion', () => {
  it('skips an empty match right after a previous match (Go FindAll)', () => {
    const re = compileGoRegexp('a*', 'g').re;
    const found: string[] = [];
    goFindAll(re, 'baaac', (x) => found.push(`${x.index}:${x[0]}`));
    expect(found).toEqual(['0:', '1:aaa', '5:']);
    expect(goReplaceAll(re, 'baaac', () => '-')).toBe('-b-c-');
  });

  it('expands $1, ${1}, $name, ${name} and $$ as Go does', () => {
    const g = compileGoRegexp('(?P<first>\\w+) (?P<second>\\w+)', 'g');
    const out = goReplaceAll(g.re, 'hello world', (x) => goExpand('${second}-$first $$ ${1}x $1x', x, g.names));
    expect(out).toBe('world-hello $ hellox ');
  });
});
