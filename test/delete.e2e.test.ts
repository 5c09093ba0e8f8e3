import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeChunk } from '../engine/src/core/chunk/mem-chunk.js';
import { ManualClock } from '../engine/src/core/util/clock.js';
import { cleanup, entriesOf, pushJson, queryRange, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// Loki's delete request API over HTTP, with a hand-moved clock: requests hide their lines from queries at once,
// can be cancelled inside delete_request_cancel_period, and are then carried out on the chunks themselves.

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2024, 0, 10, 12);
const sec = (msv: number): string => String(Math.floor(msv / 1000));
const ns = (msv: number): string => (BigInt(msv) * 1_000_000n).toString();

const OVERRIDES = `
overrides:
  nodelete:
    deletion_mode: disabled
  filteronly:
    deletion_mode: filter-only
`;

// Tenant "t": three streams, one entry a minute for 30 minutes from T0 − 2h; every third line holds a password.
const streams = ['api', 'web', 'db'].map((app) => ({
  stream: { app },
  values: Array.from({ length: 30 }, (_, i) => [ns(T0 - 2 * H + i * 60_000), `${app} line ${i}${i % 3 === 0 ? ' password=hunter2' : ''}`]),
}));

describe('delete requests over HTTP', () => {
  let dir: string;
  let e: RunningEngine;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    dir = tempDir();
    const runtimeFile = join(dir, 'overrides.yaml');
    writeFileSync(runtimeFile, OVERRIDES);
    const cfg = testConfig(
      dir,
      `
runtime_config:
  file: ${runtimeFile}
compactor:
  retention_enabled: true
  delete_request_store: filesystem
  delete_request_cancel_period: 24h
  retention_delete_delay: 1h
limits_config:
  reject_old_samples: false
  discover_service_name: []
`,
    ).replace('auth_enabled: false', 'auth_enabled: true');
    e = await startEngine(cfg, { clock });
    await e.engine.compactor.runOnce(); // after the startup run: from here on the compactor only runs when asked
    for (const tenant of ['t', 'filteronly']) expect((await pushJson(e.url, { streams }, { 'X-Scope-OrgID': tenant })).status).toBe(204);
    // Half of tenant t's data in the store, the other half only in the ingester: deletes must hide both.
    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    const late = streams.map((s) => ({ stream: s.stream, values: [[ns(T0 - H + 30 * 60_000), `${s.stream.app} late password=hunter2`]] }));
    expect((await pushJson(e.url, { streams: late }, { 'X-Scope-OrgID': 't' })).status).toBe(204);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  const call = async (method: string, params: Record<string, string>, tenant = 't'): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${e.url}/loki/api/v1/delete?${new URLSearchParams(params)}`, { method, headers: { 'X-Scope-OrgID': tenant } });
    return { status: res.status, text: await res.text() };
  };
  const list = async (tenant = 't'): Promise<any[]> => {
    const r = await call('GET', {}, tenant);
    expect(r.status).toBe(200);
    return JSON.parse(r.text);
  };
  const lines = async (tenant = 't'): Promise<string[]> => {
    const q = await queryRange(e.url, '{app=~".+"}', { start: ns(T0 - 3 * H), end: ns(T0), limit: 1000, headers: { 'X-Scope-OrgID': tenant } });
    expect(q.status).toBe(200);
    return entriesOf(q.body)
      .map((x) => x.line)
      .sort();
  };
  const all = [...streams.flatMap((s) => s.values.map((v) => v[1]!)), ...['api', 'web', 'db'].map((a) => `${a} late password=hunter2`)].sort();
  const range = { start: sec(T0 - 3 * H), end: sec(T0 - 30 * 60_000) };

  it("answers bad requests with Loki's 400 messages, 403 when deletion is disabled for the tenant", async () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{}, 'query not set'],
      [{ query: '{app="api"', start: range.start }, 'invalid query expression: parse error'],
      [{ query: 'rate({app="api"}[1m])', start: range.start }, 'invalid query expression: only log selector is supported'],
      [{ query: '{app="api"}' }, 'start time not set'],
      [{ query: '{app="api"}', start: 'yesterday' }, 'invalid start time: require unix seconds or RFC3339 format'],
      [{ query: '{app="api"}', start: range.start, end: sec(T0 + H) }, 'deletes in the future are not allowed'],
      [{ query: '{app="api"}', start: range.end, end: range.start }, "start time can't be greater than end time"],
      [{ query: '{app="api"} |= "x"', ...range, max_interval: '10' }, "invalid max_interval: valid time units are 's', 'm', 'h'"],
    ];
    for (const [params, message] of bad) {
      const r = await call('POST', params);
      expect([r.status, r.text.startsWith(message)]).toEqual([400, true]);
    }
    for (const method of ['POST', 'GET', 'DELETE']) {
      expect(await call(method, { query: '{app="api"}', ...range }, 'nodelete')).toEqual({ status: 403, text: 'deletion is not available for this tenant\n' });
    }
    expect(await list()).toEqual([]);
  });

  it('hides exactly the matching lines at once, in the store and in memory; a cancelled request stops hiding', async () => {
    expect(await lines()).toEqual(all);
    expect((await call('POST', { query: '{app="api"} |= "password"', ...range })).status).toBe(204);
    clock.advance(1);
    expect((await call('PUT', { query: '{app="db"}', ...range })).status).toBe(204);
    const reqs = await list();
    expect(reqs.map((r) => [r.query, r.status, r.start_time, r.end_time, r.created_at])).toEqual([
      ['{app="api"} |= "password"', 'received', Number(range.start), Number(range.end), T0 / 1000],
      ['{app="db"}', 'received', Number(range.start), Number(range.end), (T0 + 1) / 1000],
    ]);
    expect(Object.keys(reqs[0]).sort()).toEqual(['created_at', 'end_time', 'query', 'request_id', 'start_time', 'status']);

    const expected = all.filter((l) => !(l.startsWith('api') && l.includes('password')) && !l.startsWith('db'));
    expect(await lines()).toEqual(expected);
    expect(await lines('other')).toEqual([]); // another tenant's requests are its own

    // Cancel the db request inside the cancel period: its lines come back.
    const db = reqs.find((r) => r.query === '{app="db"}')!;
    const missing = await call('DELETE', { request_id: 'ffffffff' });
    expect([missing.status, missing.text.trim()]).toEqual([404, 'could not find delete request with given id']);
    expect((await call('DELETE', { request_id: db.request_id })).status).toBe(204);
    expect((await list()).map((r) => r.query)).toEqual(['{app="api"} |= "password"']);
    expect(await lines()).toEqual(all.filter((l) => !(l.startsWith('api') && l.includes('password'))));

    // Metric queries read through the same filter (the block-scanning path).
    const m = await fetch(
      `${e.url}/loki/api/v1/query?${new URLSearchParams({ query: 'sum by (app) (count_over_time({app=~".+"} |= "password" [3h]))', time: ns(T0) })}`,
      { headers: { 'X-Scope-OrgID': 't' } },
    );
    const body = (await m.json()) as { data: { result: Array<{ metric: { app: string }; value: [number, string] }> } };
    expect(Object.fromEntries(body.data.result.map((r) => [r.metric.app, r.value[1]]))).toEqual({ db: '11', web: '11' });
  });

  it('after the cancel period rewrites the chunks without the deleted lines, and only them', async () => {
    const expected = all.filter((l) => !(l.startsWith('api') && l.includes('password')));
    clock.set(T0 + D);
    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    const run = await e.engine.compactor.runOnce();
    expect(run).toMatchObject({ requestsProcessed: 1, failures: 0 });
    const [req] = await list();
    expect(req.status).toBe('processed');
    expect(await call('DELETE', { request_id: req.request_id })).toEqual({
      status: 400,
      text: 'deletion of request which is in process or already processed is not allowed\n',
    });
    expect(await lines()).toEqual(expected);

    clock.advance(H);
    await e.engine.compactor.runOnce();
    const stored: string[] = [];
    const tenantDir = join(dir, 'chunks', 't');
    for (const f of readdirSync(tenantDir, { recursive: true }).map(String)) {
      if (!f.includes(':')) continue;
      const r = await decodeChunk(readFileSync(join(tenantDir, f)));
      for (const x of await r.readEntries(0n, 1n << 62n, 'forward')) stored.push(x.line.toString());
    }
    // Every line is still stored exactly once, except the deleted ones.
    expect(stored.sort()).toEqual(expected);
    expect(existsSync(tenantDir)).toBe(true);
  });

  it('leaves filter-only tenants in the store and needs force to cancel a request past its cancel period', async () => {
    clock.set(T0 + 2 * D);
    expect((await call('POST', { query: '{app="web"} |= "password"', ...range }, 'filteronly')).status).toBe(204);
    const hidden = all.filter((l) => !l.includes('late') && !(l.startsWith('web') && l.includes('password')));
    expect(await lines('filteronly')).toEqual(hidden);
    clock.advance(D + 1);
    expect((await e.engine.compactor.runOnce()).requestsProcessed).toBe(0);
    const [req] = await list('filteronly');
    expect(req.status).toBe('received');
    expect(await call('DELETE', { request_id: req.request_id }, 'filteronly')).toEqual({
      status: 400,
      text: 'Unable to cancel partially completed delete request. To force, use the ?force query parameter\n',
    });
    expect((await call('DELETE', { request_id: req.request_id, force: 'true' }, 'filteronly')).status).toBe(204);
    expect(await lines('filteronly')).toEqual(all.filter((l) => !l.includes('late')));
  });
});
