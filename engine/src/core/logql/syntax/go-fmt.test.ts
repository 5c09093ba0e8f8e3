import {
  formatFixed,
  formatFloatF,
  formatGoDuration,
  formatGoFloat,
  formatHumanBytes,
  formatPromDuration,
  goBackquote,
  goQuote,
  GoSyntaxError,
  parseGoDuration,
  parseGoFloat,
  parseHumanBytes,
  parseLokiDuration,
  parsePromDuration,
} from './go-fmt.js';

const S = 1_000_000_000n;

describe('Go quoting', () => {
  it('quotes as strconv.Quote', () => {
    expect(goQuote('plain')).toBe('"plain"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('\x07\b\f\n\r\t\v')).toBe('"\\a\\b\\f\\n\\r\\t\\v"');
    expect(goQuote('\x00\x1b\x7f')).toBe('"\\x00\\x1b\\x7f"');
    expect(goQuote('é☺😀')).toBe('"é☺😀"');
    expect(goQuote('\u00a0\u200b\u2028')).toBe('"\\u00a0\\u200b\\u2028"');
    expect(goQuote('\u{e0001}')).toBe('"\\U000e0001"');
  });

  it('backquotes as %#q when it can', () => {
    expect(goBackquote('\\q')).toBe('`\\q`');
    expect(goBackquote('a\tb')).toBe('`a\tb`');
    expect(goBackquote('a`b')).toBe('"a`b"');
    expect(goBackquote('a\nb')).toBe('"a\\nb"');
  });
});

describe('Go floats', () => {
  it('format as %v', () => {
    const cases: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [0.5, '0.5'],
      [-3.25, '-3.25'],
      [123456, '123456'],
      [1e6, '1e+06'],
      [1234567, '1.234567e+06'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [1e100, '1e+100'],
      [0.1 + 0.2, '0.30000000000000004'],
      [NaN, 'NaN'],
      [Infinity, '+Inf'],
      [-Infinity, '-Inf'],
    ];
    for (const [v, s] of cases) expect(formatGoFloat(v)).toBe(s);
  });

  it('format as FormatFloat(f, -1) and %f', () => {
    expect([0.99, 1e21, 1.5e-7, -2, 5].map(formatFloatF)).toEqual(['0.99', '1000000000000000000000', '0.00000015', '-2', '5']);
    expect([1, 1.5, 123.4567891, 1e21, NaN].map((v) => formatFixed(v, 6))).toEqual([
      '1.000000',
      '1.500000',
      '123.456789',
      '1000000000000000000000.000000',
      'NaN',
    ]);
    // Go rounds an exact half to even.
    expect([10.5, 11.5, 2.5].map((v) => formatFixed(v, 0))).toEqual(['10', '12', '2']);
  });

  it('parse as strconv.ParseFloat', () => {
    expect(parseGoFloat('1.5e3')).toBe(1500);
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat('5.')).toBe(5);
    expect((parseGoFloat('0x1F') as GoSyntaxError).message).toBe('strconv.ParseFloat: parsing "0x1F": invalid syntax');
    expect((parseGoFloat('1_0') as GoSyntaxError).message).toBe('strconv.ParseFloat: parsing "1_0": invalid syntax');
    expect((parseGoFloat('1e999') as GoSyntaxError).message).toBe('strconv.ParseFloat: parsing "1e999": value out of range');
  });
});

describe('durations', () => {
  it('parse as Prometheus does', () => {
    expect(parsePromDuration('1y2w3d4h5m6s7ms')).toBe(
      365n * 86400n * S + 14n * 86400n * S + 3n * 86400n * S + 4n * 3600n * S + 5n * 60n * S + 6n * S + 7_000_000n,
    );
    expect(parsePromDuration('0')).toBe(0n);
    const err = (s: string): string => {
      try {
        parsePromDuration(s);
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err('')).toBe('empty duration string');
    expect(err('5')).toBe('not a valid duration string: "5"');
    expect(err('1m1h')).toBe('not a valid duration string: "1m1h"');
    expect(err('m')).toBe('not a valid duration string: "m"');
    expect(err('5x')).toBe('unknown unit "x" in duration "5x"');
    expect(err('1.5h')).toBe('unknown unit "." in duration "1.5h"');
    expect(err('300y')).toBe('duration out of range');
  });

  it('parse as Go does', () => {
    expect(parseGoDuration('1.5h')).toBe(5400n * S);
    expect(parseGoDuration('-1m30s')).toBe(-90n * S);
    expect(parseGoDuration('1h1h')).toBe(7200n * S);
    expect(parseGoDuration('2us')).toBe(2000n);
    expect(parseGoDuration('2µs')).toBe(2000n);
    expect(parseGoDuration('.5s')).toBe(S / 2n);
    expect(parseGoDuration('-0')).toBe(0n);
    for (const bad of ['', '1', '1d', '.s', 'h', '1.h2']) expect(parseGoDuration(bad)).toBeUndefined();
  });

  it('parse in Loki’s order: Prometheus first, then Go', () => {
    expect(parseLokiDuration('1d')).toBe(86400n * S);
    expect(parseLokiDuration('1.5h')).toBe(5400n * S);
    expect(parseLokiDuration('-5m')).toBe(-300n * S);
    expect(parseLokiDuration('5x')).toBeUndefined();
  });

  it('format as model.Duration and time.Duration', () => {
    expect([90n * 60n * S, 7n * 86400n * S, 365n * 86400n * S, 8n * 86400n * S, 1500_000_000n, 0n, 999_999n, -90n * S].map(formatPromDuration)).toEqual([
      '1h30m',
      '1w',
      '1y',
      '8d',
      '1s500ms',
      '0s',
      '0s',
      '-1m30s',
    ]);
    expect([3600n * S, 90n * S, 1500_000_000n, 500_000_000n, 1_500_000n, 1000n, 5n, 0n, -300n * S, 26n * 3600n * S].map(formatGoDuration)).toEqual([
      '1h0m0s',
      '1m30s',
      '1.5s',
      '500ms',
      '1.5ms',
      '1µs',
      '5ns',
      '0s',
      '-5m0s',
      '26h0m0s',
    ]);
  });
});

describe('byte sizes', () => {
  it('parse as go-humanize', () => {
    expect(['10KB', '10kb', '10KiB', '1.5MiB', '42B', '42', '1k', '1M', '1Gi', '2TB', '1,000B'].map(parseHumanBytes)).toEqual([
      10_000, 10_000, 10_240, 1_572_864, 42, 42, 1000, 1_000_000, 1024 ** 3, 2e12, 1000,
    ]);
    expect(parseHumanBytes('10x')).toBeUndefined();
    expect(parseHumanBytes('KB')).toBeUndefined();
  });

  it('format as go-humanize with the space removed', () => {
    expect([5, 42, 1000, 1024, 2560, 12345, 999_999, 1e9, 10e9].map(formatHumanBytes)).toEqual([
      '5B',
      '42B',
      '1.0kB',
      '1.0kB',
      '2.6kB',
      '12kB',
      '1000kB',
      '1.0GB',
      '10GB',
    ]);
  });
});
