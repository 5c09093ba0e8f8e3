import { formatFloat, NumError, parseGoFloat, parseGoInt } from './strconv.js';

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

  it('prints %v (shortest %g, %e from exponent 6 or below -4)', () => {
    const cases: Array<[number, string]> = [
      [1, '1'],
      [0.5, '0.5'],
      [-3.25, '-3.25'],
      [1234567, '1.234567e+06'],
      [1.5e-7, '1.5e-07'],
      [1e100, '1e+100'],
      [0.1 + 0.2, '0.30000000000000004'],
      [-Infinity, '-Inf'],
    ];
    for (const [v, s] of cases) expect(formatFloat(v, 'g', -1)).toBe(s);
  });

  it('prints FormatFloat(f, -1) and %f', () => {
    expect([0.99, 1.5e-7, -2, 5].map((v) => formatFloat(v, 'f', -1))).toEqual(['0.99', '0.00000015', '-2', '5']);
    expect([1, 1.5, 123.4567891, 1e21, NaN].map((v) => formatFloat(v, 'f', 6))).toEqual([
      '1.000000',
      '1.500000',
      '123.456789',
      '1000000000000000000000.000000',
      'NaN',
    ]);
    // Go rounds an exact half to even.
    expect([10.5, 11.5, 2.5].map((v) => formatFloat(v, 'f', 0))).toEqual(['10', '12', '2']);
  });

  it('rounds the exact binary value half to even at any precision, not only at 0 decimals', () => {
    // The two earlier implementations disagreed: one used toFixed, which rounds these exact ties up.
    expect(formatFloat(0.125, 'f', 2)).toBe('0.12');
    expect(formatFloat(0.625, 'f', 2)).toBe('0.62');
    expect(formatFloat(-0.125, 'f', 2)).toBe('-0.12');
    expect(formatFloat(1e22, 'f', 1)).toBe('10000000000000000000000.0');
  });
});

describe('strconv.ParseFloat', () => {
  it('parses Go float syntax', () => {
    expect(parseGoFloat('1.5e3')).toBe(1500);
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat('5.')).toBe(5);
    expect(parseGoFloat('-0')).toBe(-0);
    expect(parseGoFloat('+1E-2')).toBe(0.01);
    expect(parseGoFloat('1e-400')).toBe(0);
    expect(parseGoFloat('0x1p-2')).toBe(0.25);
    expect(parseGoFloat('0x1.8P1')).toBe(3);
    expect(parseGoFloat('-0x.8p0')).toBe(-0.5);
    expect(parseGoFloat('Inf')).toBe(Infinity);
    expect(parseGoFloat('-infinity')).toBe(-Infinity);
    expect(parseGoFloat('NaN')).toBeNaN();
  });

  it('rounds long hexadecimal mantissas correctly, subnormals included', () => {
    // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: to even.
    expect(parseGoFloat('0x20000000000001p0')).toBe(2 ** 53);
    expect(parseGoFloat('0x20000000000003p0')).toBe(2 ** 53 + 4);
    expect(parseGoFloat('0x1p-1074')).toBe(5e-324);
    expect(parseGoFloat('0x1p-1075')).toBe(0);
    expect(parseGoFloat('0x1.8p-1074')).toBe(1e-323);
    expect(parseGoFloat('0x1.fffffffffffffp1023')).toBe(Number.MAX_VALUE);
    expect(parseGoFloat('0x0p+18446744073709551616')).toBe(0);
  });

  it('accepts _ between digits, as Go float literals do', () => {
    // The two earlier implementations disagreed: Go's ParseFloat takes Go's literal syntax, separators included.
    expect(parseGoFloat('1_0')).toBe(10);
    expect(parseGoFloat('1_23.50_0_0e+1_2')).toBe(1.235e14);
    expect(parseGoFloat('0x_1p4')).toBe(16);
    for (const bad of ['_1', '1_', '1__0', '1_.5', '1._5', '1e_1', '-_1']) {
      expect((parseGoFloat(bad) as NumError).message).toBe(`strconv.ParseFloat: parsing "${bad}": invalid syntax`);
    }
  });

  it('reports syntax and range errors with Go’s messages', () => {
    expect((parseGoFloat('0x1F') as NumError).message).toBe('strconv.ParseFloat: parsing "0x1F": invalid syntax');
    expect((parseGoFloat('') as NumError).message).toBe('strconv.ParseFloat: parsing "": invalid syntax');
    expect((parseGoFloat('+nan') as NumError).message).toBe('strconv.ParseFloat: parsing "+nan": invalid syntax');
    expect((parseGoFloat(' 1') as NumError).message).toBe('strconv.ParseFloat: parsing " 1": invalid syntax');
    const big = parseGoFloat('1e999') as NumError;
    expect(big).toBeInstanceOf(NumError);
    expect(big.range).toBe(true);
    expect(big.message).toBe('strconv.ParseFloat: parsing "1e999": value out of range');
    expect((parseGoFloat('0x1p1024') as NumError).range).toBe(true);
  });
});

describe('strconv.ParseInt and ParseUint with base 0', () => {
  it('reads base prefixes, octal and separators', () => {
    expect(parseGoInt('42')).toBe(42n);
    expect(parseGoInt('-42')).toBe(-42n);
    expect(parseGoInt('0x1F')).toBe(31n);
    expect(parseGoInt('0b101')).toBe(5n);
    expect(parseGoInt('0o17')).toBe(15n);
    expect(parseGoInt('017')).toBe(15n);
    expect(parseGoInt('1_000')).toBe(1000n);
    expect(parseGoInt('0_1')).toBe(1n);
    expect(parseGoInt('-9223372036854775808')).toBe(-(2n ** 63n));
    expect(parseGoInt('18446744073709551615', true)).toBe(2n ** 64n - 1n);
  });

  it('reports syntax and range errors with Go’s messages', () => {
    expect((parseGoInt('08') as NumError).message).toBe('strconv.ParseInt: parsing "08": invalid syntax');
    expect((parseGoInt('1.5') as NumError).message).toBe('strconv.ParseInt: parsing "1.5": invalid syntax');
    expect((parseGoInt('1__0') as NumError).message).toBe('strconv.ParseInt: parsing "1__0": invalid syntax');
    expect((parseGoInt('-1', true) as NumError).message).toBe('strconv.ParseUint: parsing "-1": invalid syntax');
    expect((parseGoInt('9223372036854775808') as NumError).message).toBe(
      'strconv.ParseInt: parsing "9223372036854775808": value out of range',
    );
    expect((parseGoInt('0x10000000000000000', true) as NumError).range).toBe(true);
  });
});
