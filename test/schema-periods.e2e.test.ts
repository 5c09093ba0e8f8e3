import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, entriesOf, pushJson, queryRange, startEngine, tempDir, testConfig } from './support/engine.js';

// v12 until 2023-06-01, v13 from then on (a schema upgrade as users declare it).
function twoPeriods(dir: string): string {
  return testConfig(
    dir,
    `
limits_config:
  reject_old_samples: false
  discover_service_name: []
`,
  ).replace(
    '    - from: "2020-01-01"\n      store: tsdb\n      object_store: filesystem\n      schema: v13',
    '    - from: "2020-01-01"\n      store: tsdb\n      object_store: filesystem\n      schema: v12\n      index:\n        prefix: index_\n        period: 24h\n    - from: "2023-06-01"\n      store: tsdb\n      object_store: filesystem\n      schema: v13',
  );
}

describe('schema periods', () => {
  it('writes each entry to the period of its timestamp and reads across periods', async () => {
    const dir = tempDir();
    const e = await startEngine(twoPeriods(dir));
    try {
      const before = 1_685_577_599_000_000_000n; // 2023-05-31T23:59:59Z (v12)
      const after = 1_685_577_601_000_000_000n; // 2023-06-01T00:00:01Z (v13)
      const values = [[String(before), 'in v12'], [String(after), 'in v13']];
      expect((await pushJson(e.url, { streams: [{ stream: { app: 'periods' }, values }] })).status).toBe(204);
      expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);

      // One chunk per period, each with its schema's key layout, and an index file in each day's table.
      const tenantDir = join(dir, 'chunks', 'fake');
      const keys = readdirSync(tenantDir, { recursive: true }).map(String).filter((k) => k.includes(':'));
      expect(keys).toHaveLength(2);
      const tables = readdirSync(join(dir, 'chunks', 'index')).sort();
      expect(tables).toEqual(['index_19508', 'index_19509']);

      const q = await queryRange(e.url, '{app="periods"}', { start: String(before - 1n), end: String(after + 1n), direction: 'forward' });
      expect(entriesOf(q.body).map((x) => [x.ts, x.line])).toEqual(values);

      // Structured metadata needs v13: refused in the v12 period, accepted in the v13 one.
      const sm = await pushJson(e.url, { streams: [{ stream: { app: 'periods' }, values: [[String(before + 1n), 'x', { k: 'v' }]] }] });
      expect(sm.status).toBe(400);
      expect(await sm.text()).toMatch(/structured metadata .* v13/);
      const ok = await pushJson(e.url, { streams: [{ stream: { app: 'periods' }, values: [[String(after + 1n), 'x', { k: 'v' }]] }] });
      expect(ok.status).toBe(204);
    } finally {
      await e.stop();
      cleanup(dir);
    }
  });
});
