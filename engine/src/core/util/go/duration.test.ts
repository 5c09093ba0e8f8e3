import { GoSyntaxError } from './errors.js';
import {
  durationSeconds,
  formatGoDuration,
  formatPromDuration,
  parseGoDuration,
  parseLokiDuration,
  parsePromDuration,
} from './duration.js';

const S = 1_000_000_000n;

const message = (v: bigint | GoSyntaxError): string => (v instanceof GoSyntaxError ? v.message : `ok ${v}`);

describe('model.ParseDuration (Prometheus)', () => {
  it('parses integer amounts, biggest unit first', () => {
    expect(parsePromDuration('1y2w3d4h5m6s7ms')).toBe(
      365n * 86400n * S + 14n * 86400n * S + 3n * 86400n * S + 4n * 3600n * S + 5n * 60n * S + 6n * S + 7_000_000n,
    );
    expect(parsePromDuration('0')).toBe(0n);
  });

  it('reports Prometheus’ messages', () => {
    const err = (s: string): string => message(parsePromDuration(s));
    expect(err('')).toBe('empty duration string');
    expect(err('5')).toBe('not a valid duration string: "5"');
    expect(err('1m1h')).toBe('not a valid duration string: "1m1h"');
    expect(err('m')).toBe('not a valid duration string: "m"');
    expect(err('5x')).toBe('unknown unit "x" in duration "5x"');
    expect(err('1.5h')).toBe('unknown unit "." in duration "1.5h"');
    expect(err('300y')).toBe('duration out of range');
  });
});

describe('time.ParseDuration', () => {
  it.each([
    ['0', 0n],
    ['-0', 0n],
    ['1h30m', 5400n * S],
    ['1.5h', 5400n * S],
    ['-1m30s', -90n * S],
    ['1h1h', 7200n * S],
    ['-3ms', -3000000n],
    ['100us', 100000n],
    ['100µs', 100000n],
    ['100μs', 100000n],
    ['2m0.5s', 120500000000n],
    ['.5s', 500000000n],
    ['1.s', S],
    ['-9223372036854775808ns', -(2n ** 63n)],
  ])('%s', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });

  it('adds a fraction in float64 and truncates, as Go does', () => {
    // The two earlier implementations disagreed: one computed the fraction exactly (…883ns). Go multiplies the
    // fraction digits by unit/scale in float64, which gives …884ns here.
    expect(parseGoDuration('0.9538482096899999h')).toBe(3433853554884n);
    expect(parseGoDuration('0.1h')).toBe(360n * S);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['abc', 'time: invalid duration "abc"'],
    ['1', 'time: missing unit in duration "1"'],
    ['1x', 'time: unknown unit "x" in duration "1x"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['.s', 'time: invalid duration ".s"'],
    ['h', 'time: invalid duration "h"'],
    ['1.h2', 'time: missing unit in duration "1.h2"'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
    // The time package quotes other than printable ASCII as the \x escapes of its UTF-8 bytes.
    ['1µx', 'time: unknown unit "\\xc2\\xb5x" in duration "1\\xc2\\xb5x"'],
    ['"1"', 'time: invalid duration "\\"1\\""'],
  ])('rejects %j', (s, msg) => {
    expect(message(parseGoDuration(s))).toBe(msg);
  });

  it('converts to seconds like Duration.Seconds()', () => {
    expect(durationSeconds(parseGoDuration('3m10s') as bigint)).toBe(190);
    expect(durationSeconds(parseGoDuration('1ms') as bigint)).toBe(0.001);
    expect(durationSeconds(-1500_000_000n)).toBe(-1.5);
  });
});

describe('Loki’s duration literals', () => {
  it('parse as Prometheus first, then Go', () => {
    expect(parseLokiDuration('1d')).toBe(86400n * S);
    expect(parseLokiDuration('1.5h')).toBe(5400n * S);
    expect(parseLokiDuration('-5m')).toBe(-300n * S);
    expect(parseLokiDuration('5x')).toBeUndefined();
    for (const bad of ['', '1', '.s', 'h']) expect(parseLokiDuration(bad)).toBeUndefined();
  });
});

describe('Duration.String', () => {
  it('formats as model.Duration and time.Duration', () => {
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
