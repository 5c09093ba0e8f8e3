import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../engine/src/core/util/clock.js';
import { cleanup, entriesOf, pushJson, queryRange, startEngine, tempDir, testConfig, waitFor, type RunningEngine } from './support/engine.js';

// Time travel over HTTP: an engine with a hand-moved clock, per-tenant retention from the runtime overrides file,
// the compactor run on demand. Data past its retention disappears from queries at once and from the object store
// after retention_delete_delay.

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2024, 0, 10, 12);
const ns = (msv: number): string => (BigInt(msv) * 1_000_000n).toString();

const OVERRIDES = `
overrides:
  short:
    retention_period: 48h
    retention_stream:
      - selector: '{tier="gold"}'
        priority: 2
        period: 240h
      - selector: '{noise="high"}'
        priority: 1
        period: 24h
`;

describe('retention over HTTP (time travel)', () => {
  let dir: string;
  let e: RunningEngine;
  let runtimeFile: string;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    dir = tempDir();
    runtimeFile = join(dir, 'overrides.yaml');
    writeFileSync(runtimeFile, OVERRIDES);
    const cfg = testConfig(
      dir,
      `
runtime_config:
  file: ${runtimeFile}
  period: 100ms
compactor:
  retention_enabled: true
  delete_request_store: filesystem
  retention_delete_delay: 1h
limits_config:
  retention_period: 720h
  reject_old_samples: false
  discover_service_name: []
`,
    ).replace('auth_enabled: false', 'auth_enabled: true');
    e = await startEngine(cfg, { clock });
    // Data an hour before T0: every stream of two tenants, flushed to the store.
    for (const tenant of ['short', 'other']) {
      const streams = [
        { stream: { app: 'plain' }, values: [[ns(T0 - H), `${tenant} plain`]] },
        { stream: { app: 'kept', tier: 'gold' }, values: [[ns(T0 - H), `${tenant} kept`]] },
        { stream: { app: 'noisy', noise: 'high' }, values: [[ns(T0 - H), `${tenant} noisy`]] },
      ];
      expect((await pushJson(e.url, { streams }, { 'X-Scope-OrgID': tenant })).status).toBe(204);
    }
    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    await e.engine.compactor.runOnce(); // the startup run, then ours: nothing expired yet
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  async function lines(tenant: string): Promise<string[]> {
    const q = await queryRange(e.url, '{app=~".+"}', { start: ns(T0 - 2 * H), end: ns(T0), headers: { 'X-Scope-OrgID': tenant } });
    expect(q.status).toBe(200);
    return entriesOf(q.body)
      .map((x) => x.line)
      .sort();
  }
  // The filesystem store prunes empty directories: no directory, no chunks.
  const chunkFiles = (tenant: string): string[] =>
    existsSync(join(dir, 'chunks', tenant))
      ? readdirSync(join(dir, 'chunks', tenant), { recursive: true })
          .map(String)
          .filter((k) => k.includes(':'))
      : [];

  it('applies per-stream rules, the tenant period and the global period, at once and then in the store', async () => {
    expect(await lines('short')).toEqual(['short kept', 'short noisy', 'short plain']);
    expect(chunkFiles('short')).toHaveLength(3);

    // One day and a bit later: only the 24h rule has expired.
    clock.set(T0 + D);
    expect(await lines('short')).toEqual(['short kept', 'short plain']);
    expect(await lines('other')).toEqual(['other kept', 'other noisy', 'other plain']);

    // Three days later: the tenant's 48h period too; the 240h rule (higher priority) keeps its stream; the tenant
    // without overrides keeps everything for the global 30 days. Nothing is compacted yet: the querier hides it.
    clock.set(T0 + 3 * D);
    expect(await lines('short')).toEqual(['short kept']);
    expect(await lines('other')).toEqual(['other kept', 'other noisy', 'other plain']);
    expect(chunkFiles('short')).toHaveLength(3);

    const run = await e.engine.compactor.runOnce();
    expect(run.expiredChunks).toBe(2);
    expect(await lines('short')).toEqual(['short kept']);
    expect(chunkFiles('short')).toHaveLength(3); // marked, not yet deleted

    clock.advance(H);
    const later = await e.engine.compactor.runOnce();
    expect(later.swept.chunks).toBe(2);
    expect(chunkFiles('short')).toHaveLength(1);
    expect(chunkFiles('other')).toHaveLength(3);

    // Past the global period the tenant without overrides loses everything; past 240h the rule's stream goes too.
    clock.set(T0 + 31 * D);
    expect(await lines('other')).toEqual([]);
    expect(await lines('short')).toEqual([]);
    await e.engine.compactor.runOnce();
    clock.advance(H);
    await e.engine.compactor.runOnce();
    expect(chunkFiles('other')).toHaveLength(0);
    expect(chunkFiles('short')).toHaveLength(0);
  });

  it('follows a live reload of the runtime overrides', async () => {
    clock.set(T0 + 40 * D);
    const fresh = [{ stream: { app: 'late' }, values: [[ns(T0 + 40 * D - 3 * D), 'three days old']] }];
    expect((await pushJson(e.url, { streams: fresh }, { 'X-Scope-OrgID': 'reload' })).status).toBe(204);
    const q = async () =>
      entriesOf((await queryRange(e.url, '{app="late"}', { start: ns(T0 + 36 * D), end: ns(T0 + 40 * D), headers: { 'X-Scope-OrgID': 'reload' } })).body).map(
        (x) => x.line,
      );
    expect(await q()).toEqual(['three days old']);
    writeFileSync(runtimeFile, `${OVERRIDES}  reload:\n    retention_period: 48h\n`);
    await waitFor(async () => (await q()).length === 0, 5000);
    writeFileSync(runtimeFile, OVERRIDES);
    await waitFor(async () => (await q()).length === 1, 5000);
  });
});
