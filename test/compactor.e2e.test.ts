import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CrashingObjectClient } from '../engine/src/core/compactor/testing/memory-store.js';
import { FilesystemObjectClient } from '../engine/src/core/storage/filesystem-client.js';
import { ManualClock } from '../engine/src/core/util/clock.js';
import { cleanup, entriesOf, pushJson, queryRange, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// The compactor inside the single binary: compaction of many flushes into one index file per table and tenant, a
// compactor killed in the middle of a run and restarted, its HTTP surface.

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 10, 23); // an hour before midnight: flushes land in two tables
const ns = (msv: number): string => (BigInt(msv) * 1_000_000n).toString();

const EXTRA = `
compactor:
  retention_enabled: true
  delete_request_store: filesystem
limits_config:
  reject_old_samples: false
  discover_service_name: []
`;

describe('compactor in the single binary', () => {
  let dir: string;
  const clock = new ManualClock(T0 + 3 * H);

  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => cleanup(dir));

  const indexFiles = (): string[] =>
    readdirSync(join(dir, 'chunks', 'index'), { recursive: true })
      .map(String)
      .filter((k) => k.endsWith('.cbor'))
      .sort();
  const query = async (e: RunningEngine, q: string, tenant: string): Promise<string[]> => {
    const r = await queryRange(e.url, q, { start: ns(T0 - H), end: ns(T0 + 3 * H), limit: 5000, direction: 'forward', headers: { 'X-Scope-OrgID': tenant } });
    expect(r.status).toBe(200);
    return entriesOf(r.body).map((x) => `${JSON.stringify(x.labels)} ${x.ts} ${x.line}`);
  };
  const QUERIES = ['{app=~".+"}', '{app="api"} |= "3"', 'sum by (app) (count_over_time({app=~".+"}[1h]))'];

  it('a compactor killed mid-run and restarted leaves queries equal to the uncompacted store', async () => {
    const store = new CrashingObjectClient(new FilesystemObjectClient(join(dir, 'chunks')));
    const cfg = testConfig(dir, EXTRA)
      .replace('auth_enabled: false', 'auth_enabled: true')
      .replace('common:\n', 'common:\n  ring:\n    instance_id: compactor-e2e\n');
    let e = await startEngine(cfg, { clock, store });
    const expected: Record<string, string[]> = {};
    try {
      await e.engine.compactor.runOnce();
      // Ten flushes of two tenants and three streams, across midnight: many index files per table and tenant.
      for (let f = 0; f < 10; f++) {
        for (const tenant of ['a', 'b']) {
          const streams = ['api', 'web', 'db'].map((app) => ({
            stream: { app },
            values: Array.from({ length: 5 }, (_, i) => [ns(T0 + f * 12 * 60_000 + i * 1000), `${tenant} ${app} f${f} #${i}`]),
          }));
          expect((await pushJson(e.url, { streams }, { 'X-Scope-OrgID': tenant })).status).toBe(204);
        }
        expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
      }
      const before = indexFiles();
      expect(before.length).toBe(20); // 10 flushes × 2 tenants, five flushes in each day's table
      for (const t of ['a', 'b']) for (const q of QUERIES) expected[`${t} ${q}`] = await query(e, q, t);
      expect(expected['a {app=~".+"}']).toHaveLength(150);

      // Kill it after a few writes of the run: some tables are compacted, one is half done, the rest untouched.
      store.budget = 3;
      await e.engine.compactor.runOnce().catch(() => undefined);
      store.budget = Infinity;
      for (const t of ['a', 'b']) for (const q of QUERIES) expect(await query(e, q, t)).toEqual(expected[`${t} ${q}`]);
      const mid = indexFiles();
      expect(mid.some((k) => k.includes('compactor-'))).toBe(true);
      expect(mid.length).toBeGreaterThan(4);
    } finally {
      store.budget = Infinity;
      await e.stop();
    }

    // A restarted process (same instance ID) finishes the job.
    e = await startEngine(cfg, { clock });
    try {
      await e.engine.compactor.runOnce();
      const after = indexFiles();
      expect(after).toHaveLength(4); // one per table and tenant
      expect(after.every((k) => /\/compactor-\d+-\d+\.cbor$/.test(k))).toBe(true);
      for (const t of ['a', 'b']) for (const q of QUERIES) expect(await query(e, q, t)).toEqual(expected[`${t} ${q}`]);

      // The status page and the metrics say this instance is the active compactor.
      const ring = await fetch(`${e.url}/compactor/ring`, { headers: { accept: 'application/json' } });
      expect(await ring.json()).toMatchObject({ instance: 'compactor-e2e', active: true, holder: 'compactor-e2e' });
      expect((await fetch(`${e.url}/compactor/ring`)).headers.get('content-type')).toMatch(/text\/html/);
      const metrics = await (await fetch(`${e.url}/metrics`)).text();
      expect(metrics).toMatch(/^loki_compactor_running 1$/m);
      expect(metrics).toMatch(/^loki_compactor_compact_tables_operation_total\{status="success"\} [1-9]/m);
    } finally {
      await e.stop();
    }
  });

  it('serves no delete API without retention_enabled (404), as Loki registers it only then', async () => {
    const d = tempDir();
    const e = await startEngine(testConfig(d));
    try {
      const r = await fetch(`${e.url}/loki/api/v1/delete?query={a="b"}&start=1704844800`, { method: 'POST' });
      expect(r.status).toBe(404);
      expect(await e.engine.compactor.readFilter.forTenant('fake')).toBeUndefined(); // and queries pay nothing
    } finally {
      await e.stop();
      cleanup(d);
    }
  });
});
