import { formatHumanBytes, parseHumanBytes } from './bytes.js';
import { GoSyntaxError } from './errors.js';

const message = (v: number | GoSyntaxError): string => (v instanceof GoSyntaxError ? v.message : `ok ${v}`);

describe('humanize.ParseBytes', () => {
  it('parses SI and IEC sizes, any case, with separators and spaces', () => {
    const texts = ['10KB', '10kb', '10KiB', '1.5MiB', '42B', '42', '1k', '1M', '1Gi', '2TB', '1,000B', '5 mb ', '1.5', '1EiB'];
    expect(texts.map(parseHumanBytes)).toEqual([
      10_000, 10_000, 10_240, 1_572_864, 42, 42, 1000, 1_000_000, 1024 ** 3, 2e12, 1000, 5e6, 1, 2 ** 60,
    ]);
  });

  it('reports go-humanize’s errors', () => {
    expect(message(parseHumanBytes('10x'))).toBe('unhandled size name: x');
    expect(message(parseHumanBytes('10 XB'))).toBe('unhandled size name: xb');
    expect(message(parseHumanBytes('KB'))).toBe('strconv.ParseFloat: parsing "": invalid syntax');
    expect(message(parseHumanBytes('1.2.3KB'))).toBe('strconv.ParseFloat: parsing "1.2.3": invalid syntax');
    expect(message(parseHumanBytes('20EB'))).toBe('too large: 20EB');
  });

  it('trims Go’s white space around the unit, not JavaScript’s', () => {
    expect(parseHumanBytes('1\u0085KB')).toBe(1000);
    expect(message(parseHumanBytes('1\ufeffKB'))).toBe('unhandled size name: \ufeffkb');
  });
});

describe('humanize.Bytes', () => {
  it('formats with SI units, the space removed as Loki prints it', () => {
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
