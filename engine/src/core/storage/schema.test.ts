import { NS_PER_MS } from '../model.js';
import { chunkFormatFor, DAY_MS, periodStartNs, SchemaConfig, type PeriodConfig } from './schema.js';

const DAY = BigInt(DAY_MS) * NS_PER_MS;
const at = (iso: string): bigint => BigInt(Date.parse(iso)) * NS_PER_MS;

function period(from: string, schema: PeriodConfig['schema'], extra: Partial<PeriodConfig> = {}): PeriodConfig {
  return { from, store: 'tsdb', objectStore: 'fs', schema, indexPrefix: 'index_', indexPeriodMs: DAY_MS, ...extra };
}

describe('periodStartNs', () => {
  it('is UTC midnight in nanoseconds', () => {
    expect(periodStartNs('2023-12-09')).toBe(1_702_080_000n * 1_000_000_000n);
    expect(periodStartNs('1970-01-01')).toBe(0n);
  });

  it('rejects malformed and impossible dates', () => {
    expect(() => periodStartNs('2023-1-09')).toThrow(/YYYY-MM-DD/);
    expect(() => periodStartNs('2023-02-30')).toThrow(/not a calendar date/);
    expect(() => periodStartNs('2023-13-01')).toThrow(/not a calendar date/);
  });
});

describe('SchemaConfig validation', () => {
  it('names the problem', () => {
    expect(() => new SchemaConfig([])).toThrow(/at least one period/);
    expect(() => new SchemaConfig([period('2023-01-02', 'v12'), period('2023-01-02', 'v13')])).toThrow(
      /period 1 \(from 2023-01-02\).*strictly increasing/,
    );
    expect(() => new SchemaConfig([period('2023-01-02', 'v12'), period('2023-01-01', 'v13')])).toThrow(
      /strictly increasing/,
    );
    expect(() => new SchemaConfig([period('2023-01-01', 'v12', { indexPeriodMs: 3_600_000 })])).toThrow(
      /multiple of 24h/,
    );
    expect(() => new SchemaConfig([period('2023-01-01', 'v12', { indexPeriodMs: 0 })])).toThrow(/multiple of 24h/);
    expect(() => new SchemaConfig([period('2023-01-01', 'v9' as PeriodConfig['schema'])])).toThrow(
      /unsupported schema "v9"/,
    );
    expect(() => new SchemaConfig([period('2023-01-01', 'v13', { indexPrefix: '' })])).toThrow(/index prefix/);
    expect(() => new SchemaConfig([period('2023-01-01', 'v13', { indexPrefix: 'a/b' })])).toThrow(/index prefix/);
    expect(() => new SchemaConfig([period('2023-01-01', 'v13', { store: '' })])).toThrow(/store is required/);
    expect(() => new SchemaConfig([period('2023-01-01', 'v13', { objectStore: '' })])).toThrow(
      /object_store is required/,
    );
    expect(() => new SchemaConfig([period('yesterday', 'v13')])).toThrow(/YYYY-MM-DD/);
  });
});

describe('SchemaConfig lookups', () => {
  const schema = new SchemaConfig([
    period('2020-01-01', 'v11', { indexPrefix: 'loki_' }),
    period('2023-12-09', 'v12'),
    period('2024-01-01', 'v13', { indexPrefix: 'tsdb_', indexPeriodMs: 2 * DAY_MS }),
  ]);

  it('picks the period in force, and the first one for earlier times', () => {
    expect(schema.periodFor(at('2019-06-01T00:00:00Z')).schema).toBe('v11');
    expect(schema.periodFor(at('2023-12-08T23:59:59.999Z') + 999_999n).schema).toBe('v11');
    expect(schema.periodFor(at('2023-12-09T00:00:00Z')).schema).toBe('v12');
    expect(schema.periodFor(at('2030-01-01T00:00:00Z')).schema).toBe('v13');
  });

  it('names tables as Loki does: prefix + floor(unix seconds / period seconds)', () => {
    expect(schema.tableFor(at('2023-12-09T00:00:00Z'))).toBe('index_19700');
    expect(schema.tableFor(at('2023-12-09T23:59:59.999Z') + 999_999n)).toBe('index_19700');
    expect(schema.tableFor(at('2023-12-08T12:00:00Z'))).toBe('loki_19699');
    // 48h tables: 2024-01-01 is day 19723, so table 9861 spans days 19722-19723.
    expect(schema.tableFor(at('2024-01-01T05:00:00Z'))).toBe('tsdb_9861');
    expect(schema.tableFor(-5n)).toBe('loki_0');
  });

  it('lists the tables of a range across period boundaries, clipped to each period', () => {
    const t = schema.tablesBetween(at('2023-12-08T10:00:00Z'), at('2024-01-01T23:00:00Z'));
    const names = t.map((x) => x.table);
    expect(names[0]).toBe('loki_19699');
    expect(names[1]).toBe('index_19700');
    expect(names.at(-2)).toBe('index_19722');
    expect(names.at(-1)).toBe('tsdb_9861');
    expect(names.length).toBe(1 + 23 + 1);
    expect(t[0]!.start).toBe(19699n * DAY);
    expect(t[0]!.end).toBe(19700n * DAY);
    expect(t[0]!.period.schema).toBe('v11');
    // 2024-01-01 is day 19723: table 9861 spans days 19722-19723 but the v13 period starts on day 19723.
    expect(t.at(-1)!.start).toBe(19723n * DAY);
    expect(t.at(-1)!.end).toBe(19724n * DAY);
    expect(t.at(-1)!.period.schema).toBe('v13');
  });

  it('treats through as inclusive and returns nothing for an empty range', () => {
    const d = at('2023-12-10T00:00:00Z');
    expect(schema.tablesBetween(d - 1n, d).map((x) => x.table)).toEqual(['index_19700', 'index_19701']);
    expect(schema.tablesBetween(d - 1n, d - 1n).map((x) => x.table)).toEqual(['index_19700']);
    expect(schema.tablesBetween(d, d - 1n)).toEqual([]);
  });

  it('lists a table once per period when a boundary cuts it and the prefix is shared', () => {
    const s = new SchemaConfig([
      period('2023-12-31', 'v12', { indexPeriodMs: 2 * DAY_MS }),
      period('2024-01-01', 'v13', { indexPeriodMs: 2 * DAY_MS }),
    ]);
    const t = s.tablesBetween(at('2023-12-31T00:00:00Z'), at('2024-01-01T12:00:00Z'));
    expect(t.map((x) => [x.table, x.period.schema, x.start, x.end])).toEqual([
      ['index_9861', 'v12', 19722n * DAY, 19723n * DAY],
      ['index_9861', 'v13', 19723n * DAY, 19724n * DAY],
    ]);
  });

  it('splits a range by period', () => {
    const from = at('2023-12-01T00:00:00Z');
    const through = at('2024-02-01T00:00:00Z');
    expect(schema.periodsBetween(from, through).map((p) => [p.period.schema, p.from, p.through])).toEqual([
      ['v11', from, 19700n * DAY - 1n],
      ['v12', 19700n * DAY, at('2024-01-01T00:00:00Z') - 1n],
      ['v13', at('2024-01-01T00:00:00Z'), through],
    ]);
    const early = schema.periodsBetween(at('2000-01-01T00:00:00Z'), at('2000-01-02T00:00:00Z'));
    expect(early.map((p) => p.period.schema)).toEqual(['v11']);
    expect(schema.periodsBetween(5n, 4n)).toEqual([]);
  });

  it('builds chunk keys with the layout of the period of the chunk start', () => {
    const ref = {
      tenant: 't',
      fingerprint: '00000000000000ff',
      checksum: 1,
      from: at('2023-12-08T23:00:00Z'),
      through: at('2023-12-09T01:00:00Z'),
    };
    expect(schema.chunkKey(ref)).toMatch(/^t\/00000000000000ff:/);
    expect(schema.chunkKey({ ...ref, from: at('2023-12-09T00:00:00Z') })).toMatch(/^t\/00000000000000ff\//);
  });

  it('maps schema versions to chunk formats', () => {
    expect(chunkFormatFor('v11')).toBe(3);
    expect(chunkFormatFor('v12')).toBe(3);
    expect(chunkFormatFor('v13')).toBe(4);
  });

  it('keeps its own frozen copy of the periods', () => {
    const p = period('2024-01-01', 'v13');
    const s = new SchemaConfig([p]);
    p.schema = 'v11';
    expect(s.periods[0]!.schema).toBe('v13');
    expect(Object.isFrozen(s.periods[0])).toBe(true);
  });
});
