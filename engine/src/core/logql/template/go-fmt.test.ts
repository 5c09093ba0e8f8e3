import { formatFloat, goQuote, sprintf } from './go-fmt.js';
import { int } from './values.js';

describe('strconv.FormatFloat', () => {
  it.each([
    [3, 'g', -1, '3'],
    [1e6, 'g', -1, '1e+06'],
    [123456, 'g', -1, '123456'],
    [0.0001, 'g', -1, '0.0001'],
    [0.00001, 'g', -1, '1e-05'],
    [1 / 3, 'g', -1, '0.3333333333333333'],
    [3.8476190476190477, 'g', -1, '3.8476190476190477'],
    [0, 'g', -1, '0'],
    [-0, 'g', -1, '-0'],
    [NaN, 'g', -1, 'NaN'],
    [Infinity, 'g', -1, '+Inf'],
    [-Infinity, 'f', 2, '-Inf'],
    [0.125, 'f', 2, '0.12'],
    [0.375, 'f', 2, '0.38'],
    [2.5, 'f', 0, '2'],
    [1.005, 'f', 2, '1.00'],
    [123.456, 'e', 2, '1.23e+02'],
    [123.456, 'e', -1, '1.23456e+02'],
    [1e-7, 'G', -1, '1E-07'],
    [1234.5678, 'g', 3, '1.23e+03'],
    [1, 'g', 3, '1'],
    [100, 'g', 2, '1e+02'],
    [9.9999, 'f', 2, '10.00'],
    [1e21, 'f', -1, '1000000000000000000000'],
  ] as const)('%s %s %s → %s', (x, f, p, want) => {
    expect(formatFloat(x, f, p)).toBe(want);
  });
});

describe('fmt.Sprintf', () => {
  it('pads and signs numbers', () => {
    expect(sprintf('%08.3f|%+.1e|% d|%-6d|', [3.14159, 12345.678, int(5), int(-3)])).toBe('0003.142|+1.2e+04| 5|-3    |');
    expect(sprintf('%#x %#o %x', [int(255), int(8), int(-255)])).toBe('0xff 010 -ff');
    expect(sprintf('%.3d|%6.3d', [int(7), int(-7)])).toBe('007|  -007');
  });

  it('quotes strings and runes like strconv', () => {
    expect(goQuote('a"b\\c\n\t\u0001é\u00a0')).toBe('"a\\"b\\\\c\\n\\t\\x01é\\u00a0"');
    expect(goQuote('é😀', true)).toBe('"\\u00e9\\U0001f600"');
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
