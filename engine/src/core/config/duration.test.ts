import { formatDuration, parseDuration, UnitParseError } from './duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30 * S],
    ['10m', 10 * M],
    ['1h30m', 90 * M],
    ['2h0m0s', 2 * H], // Go's own String() form
    ['1d', D],
    ['1w', 7 * D],
    ['1y', 365 * D],
    ['30d1h', 721 * H], // Loki's default max_query_length as printed
    ['1.5h', 90 * M], // Go allows fractions
    ['.5s', 500],
    ['1000us', 1],
    ['1000000ns', 1],
    ['1000µs', 1],
    ['30m1h', 90 * M], // Go accepts components in any order
    ['-1s', -S],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /not a valid duration/],
    ['30', /missing unit/],
    ['1.5', /missing unit/],
    ['fast', /not a valid duration/],
    ['1h 30m', /not a valid duration/],
    ['5mo', /not a valid duration/],
    ['1x', /not a valid duration/],
    ['100us', /sub-millisecond/],
    ['-', /not a valid duration/],
  ])('rejects %j', (text, reason) => {
    expect(() => parseDuration(text)).toThrow(UnitParseError);
    expect(() => parseDuration(text)).toThrow(reason);
  });

  it('keeps the input and the reason apart for callers that build their own message', () => {
    try {
      parseDuration('10 minutes');
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toBeInstanceOf(UnitParseError);
      expect((e as UnitParseError).input).toBe('10 minutes');
      expect((e as UnitParseError).message).toBe(`invalid duration "10 minutes": ${(e as UnitParseError).reason}`);
    }
  });
});

describe('formatDuration (Prometheus model.Duration style)', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30 * S, '30s'],
    [90 * M, '1h30m'],
    [2 * H, '2h'],
    [D, '1d'],
    [7 * D, '1w'],
    [721 * H, '30d1h'],
    [90 * D, '90d'], // weeks only when exact: not 12w6d
    [365 * D, '1y'],
    [2 * 365 * D + D, '731d'],
    [M + 1, '1m1ms'],
    [-S, '-1s'],
  ])('%d ms = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 61_001, 3_600_000, 86_400_000 * 8 + 5, 31_536_000_000 * 2]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
