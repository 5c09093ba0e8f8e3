import { fixedZone, formatTime, loadLocation, parseTime, timeString, UTC } from './go-time.js';
import { GoTime } from './values.js';

// 2006-01-02T15:04:05.123456789Z, a Monday
const REF = new GoTime(1136214245123456789n, UTC);

describe('Go time layouts (docs "Template functions" link to time#pkg-constants)', () => {
  it.each([
    ['2006-01-02T15:04:05Z07:00', '2006-01-02T15:04:05Z'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2006-01-02T15:04:05.123456789Z'],
    ['2006-01-02 15:04:05.000', '2006-01-02 15:04:05.123'],
    ['2006-01-02 15:04:05.00Z-07:00', '2006-01-02 15:04:05.12Z+00:00'],
    ['Mon Jan _2 15:04:05 2006', 'Mon Jan  2 15:04:05 2006'],
    ['Monday, 02-Jan-06 15:04:05 MST', 'Monday, 02-Jan-06 15:04:05 UTC'],
    ['January 2, 2006 3:04PM', 'January 2, 2006 3:04PM'],
    ['02/01/06 03:04:05.9 pm', '02/01/06 03:04:05.1 pm'],
    ['2006.002 -0700 -07 Z07', '2006.002 +0000 +00 Z'],
    ['15h04m05s,000000', '15h04m05s,123456'],
  ])('formats %s', (layout, want) => {
    expect(formatTime(REF, layout)).toBe(want);
  });

  it('formats in fixed and named zones', () => {
    expect(formatTime(new GoTime(REF.ns, fixedZone('', -7 * 3600)), '2006-01-02 15:04:05 -07:00 MST')).toBe('2006-01-02 08:04:05 -07:00 -0700');
    const ny = loadLocation('America/New_York')!;
    expect(formatTime(new GoTime(REF.ns, ny), '2006-01-02 15:04 MST Z07:00')).toBe('2006-01-02 10:04 EST -05:00');
    expect(loadLocation('Not/AZone')).toBeUndefined();
  });

  it('prints Time.String()', () => {
    expect(timeString(REF)).toBe('2006-01-02 15:04:05.123456789 +0000 UTC');
    expect(timeString(new GoTime(0n, UTC))).toBe('1970-01-01 00:00:00 +0000 UTC');
    expect(timeString(new GoTime(-1n, UTC))).toBe('1969-12-31 23:59:59.999999999 +0000 UTC');
  });

  it.each([
    ['2006-01-02', '2021-11-02', 1635811200000000000n],
    ['2006-01-02T15:04:05Z07:00', '2021-11-02T10:20:30+02:00', 1635841230000000000n],
    ['2006-01-02T15:04:05.999999999Z', '2023-03-10T01:32:40.340485723Z', 1678411960340485723n],
    ['2006-01-02 15:04:05', '2021-11-02 10:20:30.5', 1635848430500000000n],
    ['02 Jan 06 15:04 MST', '02 Nov 21 10:20 UTC', 1635848400000000000n],
    ['Jan _2 3:04PM', 'Nov  2 1:05PM', -62140733700000000000n], // year 0 (a leap year) when the layout has none
    ['2006-002', '2021-306', 1635811200000000000n],
  ])('parses %s', (layout, value, ns) => {
    expect(parseTime(layout, value, UTC).ns).toBe(ns);
  });

  it('rejects values that do not fit the layout', () => {
    expect(() => parseTime('2006-01-02', '2021-13-02', UTC)).toThrow('month out of range');
    expect(() => parseTime('2006-01-02', '2021-02-30', UTC)).toThrow('day out of range');
    expect(() => parseTime('2006-01-02', 'x', UTC)).toThrow('cannot parse');
    expect(() => parseTime('2006-01-02', '2021-11-02 extra', UTC)).toThrow('extra text');
  });

  it('parses in a named zone', () => {
    const paris = loadLocation('Europe/Paris')!;
    expect(parseTime('2006-01-02 15:04', '2021-07-01 12:00', paris).ns).toBe(1625133600000000000n);
    expect(parseTime('2006-01-02 15:04', '2021-01-01 12:00', paris).ns).toBe(1609498800000000000n);
  });
});

