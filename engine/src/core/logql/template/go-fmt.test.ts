import { sprintf } from './go-fmt.js';
import { int } from './values.js';

describe('fmt.Sprintf', () => {
  it('pads and signs numbers', () => {
    expect(sprintf('%08.3f|%+.1e|% d|%-6d|', [3.14159, 12345.678, int(5), int(-3)])).toBe('0003.142|+1.2e+04| 5|-3    |');
    expect(sprintf('%#x %#o %x', [int(255), int(8), int(-255)])).toBe('0xff 010 -ff');
    expect(sprintf('%.3d|%6.3d', [int(7), int(-7)])).toBe('007|  -007');
  });

  it('quotes strings and runes like strconv', () => {
    expect(sprintf('%q %+q %#q %q', ['x', 'é', 'a`b', int(97)])).toBe('"x" "\\u00e9" "a`b" \'a\'');
  });

  it('counts width in characters', () => {
    expect(sprintf('%5s|%-4s|', ['é', 'ü'])).toBe('    é|ü   |');
  });

  it('reports bad verbs, missing and extra arguments, bad indexes', () => {
    expect(sprintf('%d %s', ['x'])).toBe('%!d(string=x) %!s(MISSING)');
    expect(sprintf('%[3]d', [int(1)])).toBe('%!d(BADINDEX)');
    expect(sprintf('%*d', ['x', int(1)])).toBe('%!(BADWIDTH)1');
    expect(sprintf('%t', [int(1)])).toBe('%!t(int=1)');
    expect(sprintf('x', [int(1), 'y'])).toBe('x%!(EXTRA int=1, string=y)');
  });
});
