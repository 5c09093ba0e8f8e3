import { regexp, RegexpParser } from './index.js';

const asObj = (r: { labels: [string, string][] }): Record<string, string> => Object.fromEntries(r.labels);

describe('regexp parser — docs "Parser expression / Regular expression"', () => {
  it('extracts named groups (docs example)', () => {
    const r = regexp('(?P<method>\\w+) (?P<path>[\\w|/]+) \\((?P<status>\\d+?)\\) (?P<duration>.*)', 'POST /api/prom/api/v1/query_range (200) 1.5s');
    expect(asObj(r)).toEqual({ method: 'POST', path: '/api/prom/api/v1/query_range', status: '200', duration: '1.5s' });
  });

  it('extracts nothing from a line that does not match', () => {
    expect(regexp('(?P<a>x+)y', 'zzz').labels).toEqual([]);
  });

  it('an unmatched optional group gives ""', () => {
    expect(asObj(regexp('(?P<a>a)|(?P<b>b)', 'b'))).toEqual({ a: '', b: 'b' });
  });

  it('uses Go semantics: `.` matches \\r, \\s is ASCII', () => {
    expect(asObj(regexp('a(?P<x>.)b', 'a\rb'))).toEqual({ x: '\r' });
    expect(regexp('(?P<x>\\s)', '\u00a0').labels).toEqual([]);
  });

  it('adds _extracted on a clash', () => {
    expect(asObj(regexp('(?P<bar>bar)', 'bar', new Set(['bar'])))).toEqual({ bar_extracted: 'bar' });
  });

  it.each([
    ['w.*', 'at least one named capture must be supplied'],
    ['f(.*) (foo|bar)', 'at least one named capture must be supplied'],
    ['(?P<1a>x)', "invalid extracted label name '1a'"],
    ['(?P<a>x)(?P<a>y)', "duplicate extracted label name 'a'"],
    ['(?P<foo$>x)', 'error parsing regexp: invalid named capture: `(?P<foo$>`'],
    ['(?P<a>x', 'error parsing regexp: missing closing ): `(?P<a>x`'],
  ])('rejects %s', (re, msg) => {
    expect(() => new RegexpParser(re)).toThrow(msg);
  });
});
