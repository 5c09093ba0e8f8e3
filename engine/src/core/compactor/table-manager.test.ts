import { ConfigError, parseConfig } from '../config/config.js';
import { SchemaConfig } from '../storage/schema.js';
import { ManualClock } from '../util/clock.js';
import { ChunkMarker } from './markers.js';
import { TableManager, tableRetentionProblem, type TableManagerOptions } from './table-manager.js';
import { DAY_MS, flushChunk, HOUR_MS, ms, testSchema } from './testing/fixtures.js';
import { MemoryObjectClient } from './testing/memory-store.js';

const MIN = 60_000;
// 2024-01-10 is table index_19732 with 24h tables.
const JAN10 = Date.UTC(2024, 0, 10);

function manager(store: MemoryObjectClient, clock: ManualClock, over: Partial<TableManagerOptions> = {}): TableManager {
  return new TableManager({
    store,
    schema: testSchema(),
    clock,
    retentionDeletesEnabled: false,
    retentionPeriodMs: 0,
    creationGracePeriodMs: 10 * MIN,
    marker: new ChunkMarker(store, clock, HOUR_MS, 4),
    ...over,
  });
}

describe('table manager: creation ahead of time', () => {
  it('creates the current table, and the next one creation_grace_period before it starts', async () => {
    const store = new MemoryObjectClient();
    const clock = new ManualClock(JAN10 + 12 * HOUR_MS);
    const tm = manager(store, clock);
    expect(await tm.sync()).toEqual({ created: ['index_19732'], deleted: [] });
    expect(await tm.listTables()).toEqual(['index_19732']);
    expect(JSON.parse((await store.get('tables/index_19732.json')).toString())).toEqual({
      format: 1,
      table: 'index_19732',
      start: '2024-01-10T00:00:00Z',
      end: '2024-01-11T00:00:00Z',
      created_at_ms: JAN10 + 12 * HOUR_MS,
    });

    clock.set(JAN10 + DAY_MS - 10 * MIN - 1); // just before the grace period of tomorrow's table
    expect((await tm.sync()).created).toEqual([]);
    clock.advance(1);
    expect((await tm.sync()).created).toEqual(['index_19733']);
    expect(await tm.listTables()).toEqual(['index_19732', 'index_19733']);
    expect((await tm.sync()).created).toEqual([]); // idempotent
  });

  it('creates the first table of an upcoming schema period within the grace period, with its own prefix and length', async () => {
    const schema = new SchemaConfig([
      { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v12', indexPrefix: 'index_', indexPeriodMs: DAY_MS },
      { from: '2024-01-11', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'weekly_', indexPeriodMs: 7 * DAY_MS },
    ]);
    const store = new MemoryObjectClient();
    const clock = new ManualClock(JAN10 + DAY_MS - 30 * MIN);
    const tm = manager(store, clock, { schema, creationGracePeriodMs: HOUR_MS });
    // 2024-01-11 (day 19733 since the epoch) begins week 2819.
    expect((await tm.sync()).created).toEqual(['index_19732', 'weekly_2819']);
  });
});

describe('table manager: retention deletes', () => {
  it('keeps floor(retention / table period) + 1 tables and deletes older ones whole, chunks included', async () => {
    const store = new MemoryObjectClient();
    const schema = testSchema();
    const clock = new ManualClock(JAN10 + 12 * HOUR_MS);
    // One chunk per day for the ten days up to today, and one across the midnight that starts the oldest kept table.
    for (let d = 9; d >= 0; d--) {
      await flushChunk(store, schema, 't', [['app', 'a']], [{ ts: ms(JAN10 - d * DAY_MS + HOUR_MS), line: `day -${d}` }], { seq: d });
    }
    const keptStart = JAN10 - 3 * DAY_MS;
    await flushChunk(
      store,
      schema,
      't',
      [['app', 'b']],
      [
        { ts: ms(keptStart - MIN), line: 'before' },
        { ts: ms(keptStart + MIN), line: 'after' },
      ],
      { seq: 100 },
    );
    const tm = manager(store, clock, { retentionDeletesEnabled: true, retentionPeriodMs: 72 * HOUR_MS });
    expect(tm.tablesToKeep()).toBe(4);
    const r = await tm.sync();
    expect(r.deleted).toEqual(['index_19723', 'index_19724', 'index_19725', 'index_19726', 'index_19727', 'index_19728']);
    expect(await tm.listTables()).toEqual(['index_19729', 'index_19730', 'index_19731', 'index_19732']);
    expect(store.keys().filter((k) => k.startsWith('index/')).every((k) => !r.deleted.some((t) => k.startsWith(`index/${t}/`)))).toBe(true);

    // The chunks only deleted tables named are marked, then swept after the delay; the one still indexed stays.
    const marker = new ChunkMarker(store, clock, HOUR_MS, 4);
    clock.advance(HOUR_MS);
    expect((await marker.sweep()).chunks).toBe(6);
    const chunks = store.keys().filter((k) => k.startsWith('t/'));
    expect(chunks).toHaveLength(5);
    expect((await tm.sync()).deleted).toEqual([]);
  });

  it('counts tables of the period in force: weekly tables with 14 days keep 3', async () => {
    const schema = new SchemaConfig([{ from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'w_', indexPeriodMs: 7 * DAY_MS }]);
    const store = new MemoryObjectClient();
    const clock = new ManualClock(JAN10);
    for (let w = 0; w < 6; w++) {
      await flushChunk(store, schema, 't', [['app', 'a']], [{ ts: ms(JAN10 - w * 7 * DAY_MS), line: `week -${w}` }], { seq: w });
    }
    const tm = manager(store, clock, { schema, retentionDeletesEnabled: true, retentionPeriodMs: 14 * DAY_MS });
    expect(tm.tablesToKeep()).toBe(3);
    await tm.sync();
    expect(await tm.listTables()).toEqual(['w_2816', 'w_2817', 'w_2818']);
  });

  it('never deletes without retention_deletes_enabled or with a zero period', async () => {
    const store = new MemoryObjectClient();
    const schema = testSchema();
    const clock = new ManualClock(JAN10);
    await flushChunk(store, schema, 't', [['app', 'a']], [{ ts: ms(JAN10 - 400 * DAY_MS), line: 'old' }], { seq: 0 });
    expect((await manager(store, clock, { retentionPeriodMs: 24 * HOUR_MS }).sync()).deleted).toEqual([]);
    expect((await manager(store, clock, { retentionDeletesEnabled: true }).sync()).deleted).toEqual([]);
    expect(store.keys().some((k) => k.startsWith('index/'))).toBe(true);
  });
});

describe('table manager: retention_period validation', () => {
  it('needs whole days and whole tables, as a startup error naming the key', () => {
    expect(tableRetentionProblem(true, 25 * HOUR_MS, DAY_MS)).toBe('table_manager.retention_period must be a multiple of 24h, got 25h');
    expect(tableRetentionProblem(true, 48 * HOUR_MS, 7 * DAY_MS)).toMatch(/retention period should now be a multiple of periodic table duration/);
    expect(tableRetentionProblem(true, 14 * DAY_MS, 7 * DAY_MS)).toBeUndefined();
    expect(tableRetentionProblem(false, 25 * HOUR_MS, DAY_MS)).toBeUndefined();
    expect(tableRetentionProblem(true, 0, DAY_MS)).toBeUndefined();
    expect(() => manager(new MemoryObjectClient(), new ManualClock(JAN10), { retentionDeletesEnabled: true, retentionPeriodMs: 30 * HOUR_MS })).toThrow(
      'table_manager.retention_period must be a multiple of 24h',
    );

    const cfg = (tm: string): string => `
schema_config:
  configs:
    - from: 2020-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 168h
table_manager:
${tm}`;
    let err: unknown;
    try {
      parseConfig(cfg('  retention_deletes_enabled: true\n  retention_period: 36h\n'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['table_manager.retention_period']);
    expect((err as ConfigError).message).toContain('table_manager.retention_period must be a multiple of 24h, got 1d12h');
    expect(() => parseConfig(cfg('  retention_deletes_enabled: true\n  retention_period: 48h\n'))).toThrow(
      'retention period should now be a multiple of periodic table duration (the schema\'s index period is 1w)',
    );
    const ok = parseConfig(cfg('  retention_deletes_enabled: true\n  retention_period: 336h\n  creation_grace_period: 1h\n  poll_interval: 30s\n'));
    expect(ok.table_manager).toEqual({ retention_deletes_enabled: true, retention_period: 14 * DAY_MS, poll_interval: 30_000, creation_grace_period: HOUR_MS });
  });
});
