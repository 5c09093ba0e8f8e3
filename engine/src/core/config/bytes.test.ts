import { formatBytes, parseBytes } from './bytes.js';
import { UnitParseError } from './duration.js';

describe('parseBytes (Loki flagext.ByteSize: datasize, 1KB = 1024)', () => {
  it.each([
    ['0', 0],
    ['1024', 1024],
    ['256KB', 262_144],
    ['256kb', 262_144],
    ['64kB', 65_536],
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['1MB', 1_048_576],
    ['3MB', 3 * 1_048_576],
    ['15MB', 15 * 1_048_576],
    ['1536KB', 1_572_864],
    ['4GB', 4 * 1024 ** 3],
    ['1TB', 1024 ** 4],
    ['10B', 10],
    ['1 MB', 1_048_576], // datasize trims the unit
    ['2k', 2048],
    ['1megabyte', 1_048_576],
  ])('%s = %d', (text, n) => {
    expect(parseBytes(text)).toBe(n);
  });

  it.each([
    ['', /not a valid byte size/],
    ['MB', /not a valid byte size/],
    ['1.5MB', /unknown unit/],
    ['-1KB', /not a valid byte size/],
    ['10XB', /unknown unit "XB"/],
    ['99999999EB', /out of range/],
  ])('rejects %j', (text, reason) => {
    expect(() => parseBytes(text)).toThrow(UnitParseError);
    expect(() => parseBytes(text)).toThrow(reason);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0B'],
    [1000, '1000B'],
    [1024, '1KB'],
    [262_144, '256KB'],
    [1_572_864, '1536KB'],
    [3 * 1_048_576, '3MB'],
    [4 * 1024 ** 3, '4GB'],
  ])('%d = %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
    expect(parseBytes(text)).toBe(n);
  });
});
