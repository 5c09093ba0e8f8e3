// Loki's tail API over a real WebSocket: /loki/api/v1/tail and the legacy /api/prom/tail against the engine on a
// loopback port. Entries are pushed over HTTP and must arrive with their exact nanosecond timestamps and lines.
import { cleanup, nowNs, pushJson, queryRange, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';
import { TailClient, refusedUpgrade } from './support/tail-client.js';

const LIMITS = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  discover_log_levels: false
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 1024
  per_stream_rate_limit: 1024MB
  per_stream_rate_limit_burst: 1024MB
  max_concurrent_tail_requests: 3
querier:
  multi_tenant_queries_enabled: true
`;

const TAIL = '/loki/api/v1/tail';
/** Tenants come from X-Scope-OrgID. */
const withAuth = (yaml: string): string => yaml.replace('auth_enabled: false', 'auth_enabled: true');
const A = { 'X-Scope-OrgID': 'tenant-a' };
const B = { 'X-Scope-OrgID': 'tenant-b' };

describe('tail over WebSocket', () => {
  let dir: string;
  let e: RunningEngine;
  const open: TailClient[] = [];

  const tail = async (params: Record<string, string>, headers: Record<string, string> = A, path = TAIL): Promise<TailClient> => {
    const c = new TailClient(e.url, path, params, headers);
    open.push(c);
    await c.opened;
    return c;
  };
  const push = async (headers: Record<string, string>, streams: unknown[]): Promise<void> => {
    const res = await pushJson(e.url, { streams }, headers);
    expect(res.status).toBe(204);
  };

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(withAuth(testConfig(dir, LIMITS)));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('refuses bad requests before the upgrade, with Loki statuses and messages', async () => {
    expect(await refusedUpgrade(e.url, TAIL, { query: '{app="x"}' }, {})).toEqual({ status: 401, body: 'no org id' });
    expect(await refusedUpgrade(e.url, TAIL, { query: '{app="x"}', delay_for: '6' }, A)).toEqual({
      status: 400,
      body: "delay_for can't be greater than 5",
    });
    expect(await refusedUpgrade(e.url, TAIL, { query: 'rate({app="x"}[1m])' }, A)).toEqual({
      status: 400,
      body: 'parse error : only log selector is supported',
    });
    expect((await refusedUpgrade(e.url, TAIL, { query: '{app=' }, A)).status).toBe(400);
    // Without an upgrade the endpoint answers as Loki's WebSocket library does; Grafana's v2alpha probe gets a 404.
    const plain = await fetch(`${e.url}${TAIL}?query=${encodeURIComponent('{app="x"}')}`, { headers: A });
    expect(plain.status).toBe(400);
    expect(plain.headers.get('sec-websocket-version')).toBe('13');
    expect(await plain.text()).toBe('Bad Request\n');
    expect((await fetch(`${e.url}/loki/api/v2alpha/tail?query=${encodeURIComponent('{app="x"}')}`)).status).toBe(404);
    // An upgrade to any other path is refused, and the HTTP API keeps working.
    expect((await refusedUpgrade(e.url, '/loki/api/v1/query_range', { query: '{app="x"}' }, A)).status).toBe(404);
    expect((await fetch(`${e.url}/ready`)).status).toBe(200);
  });

  it('reads one tenant only: `a|b` is refused before the upgrade even with multi-tenant queries enabled, as in Loki', async () => {
    // Loki's multi-tenancy documentation: tail (like push) answers 400 when more than one tenant is named.
    expect(await refusedUpgrade(e.url, TAIL, { query: '{app="x"}' }, { 'X-Scope-OrgID': 'tenant-a|tenant-b' })).toEqual({
      status: 400,
      body: 'multiple org IDs present',
    });
    const plain = await fetch(`${e.url}${TAIL}?query=${encodeURIComponent('{app="x"}')}`, { headers: { 'X-Scope-OrgID': 'tenant-b|tenant-a' } });
    expect([plain.status, await plain.text()]).toEqual([400, 'multiple org IDs present']);
    // Loki's order: no tenant (401) before bad parameters (400) before a bad tenant (400).
    expect(await refusedUpgrade(e.url, TAIL, { query: '{app=' }, {})).toEqual({ status: 401, body: 'no org id' });
    expect((await refusedUpgrade(e.url, TAIL, { query: '{app=' }, { 'X-Scope-OrgID': 'a|b' })).body).toMatch(/^parse error at line 1/);
    // The same tenant twice is that one tenant, and queries keep their multi-tenant form alongside.
    const c = await tail({ query: '{app="mt"}' }, { 'X-Scope-OrgID': 'tenant-a|tenant-a' });
    const ts = (nowNs() - 2_000_000_000n).toString();
    await push(A, [{ stream: { app: 'mt' }, values: [[ts, 'only a']] }]);
    await push(B, [{ stream: { app: 'mt' }, values: [[ts, 'only b']] }]);
    await c.waitFor(() => c.values().length === 1);
    expect(c.values()).toEqual([{ labels: { app: 'mt' }, ts, line: 'only a' }]);
    const q = await queryRange(e.url, '{app="mt"}', { start: (BigInt(ts) - 1n).toString(), headers: { 'X-Scope-OrgID': 'tenant-a|tenant-b' } });
    expect(q.body.data.result.map((r: any) => r.stream).sort((x: any, y: any) => (x.__tenant_id__ < y.__tenant_id__ ? -1 : 1))).toEqual([
      { __tenant_id__: 'tenant-a', app: 'mt' },
      { __tenant_id__: 'tenant-b', app: 'mt' },
    ]);
  });

  it("exports Loki's tail metrics on /metrics: open tails, tailed streams, bytes of the lines sent", async () => {
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${e.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ')[1]);
    };
    const [active0, streams0, bytes0] = [
      await metric('loki_querier_tail_active'),
      await metric('loki_querier_tail_active_streams'),
      await metric('loki_querier_tail_bytes_total'),
    ];
    const c = await tail({ query: '{app="metrics"}' });
    expect(await metric('loki_querier_tail_active')).toBe(active0 + 1);
    const ts = nowNs() - 2_000_000_000n;
    await push(A, [
      { stream: { app: 'metrics', pod: 'p1' }, values: [[ts.toString(), 'héllo'], [(ts + 1n).toString(), 'world']] },
      { stream: { app: 'metrics', pod: 'p2' }, values: [[(ts + 2n).toString(), '!']] },
    ]);
    await c.waitFor(() => c.values().length === 3);
    expect(await metric('loki_querier_tail_active_streams')).toBe(streams0 + 2);
    // UTF-8 bytes of the lines: 'héllo' is 6.
    expect(await metric('loki_querier_tail_bytes_total')).toBe(bytes0 + 6 + 5 + 1);
    await c.close();
    const end = Date.now() + 2000;
    while ((await metric('loki_querier_tail_active')) !== active0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(await metric('loki_querier_tail_active')).toBe(active0);
    expect(await metric('loki_querier_tail_active_streams')).toBe(streams0);
  });

  it('streams live entries with exact nanosecond timestamps and lines, only for the matching streams of the tenant', async () => {
    const c = await tail({ query: '{app="live"}' });
    const base = nowNs() - 2_000_000_000n;
    const t1 = (base + 123_456_789n).toString();
    const t2 = (base + 123_456_790n).toString();
    const t3 = (base + 987_654_321n).toString();
    await push(A, [
      { stream: { app: 'live', pod: 'p1' }, values: [[t1, 'first line'], [t3, 'third ✓ "quoted"']] },
      { stream: { app: 'live', pod: 'p2' }, values: [[t2, 'second line']] },
      { stream: { app: 'other' }, values: [[t1, 'not matching']] },
    ]);
    await push(B, [{ stream: { app: 'live', pod: 'p1' }, values: [[t1, 'other tenant']] }]);
    await c.waitFor(() => c.values().length >= 3);
    expect(c.values()).toEqual([
      { labels: { app: 'live', pod: 'p1' }, ts: t1, line: 'first line' },
      { labels: { app: 'live', pod: 'p2' }, ts: t2, line: 'second line' },
      { labels: { app: 'live', pod: 'p1' }, ts: t3, line: 'third ✓ "quoted"' },
    ]);
    expect(c.messages[0]).toEqual({
      streams: [
        { stream: { app: 'live', pod: 'p1' }, values: [[t1, 'first line']] },
        { stream: { app: 'live', pod: 'p2' }, values: [[t2, 'second line']] },
        { stream: { app: 'live', pod: 'p1' }, values: [[t3, 'third ✓ "quoted"']] },
      ],
    });
    // A second push arrives as a further message; queries keep working alongside the tail.
    const t4 = (nowNs() - 1_000_000_000n + 1n).toString();
    await push(A, [{ stream: { app: 'live', pod: 'p1' }, values: [[t4, 'fourth']] }]);
    await c.waitFor(() => c.values().length === 4);
    expect(c.values()[3]).toEqual({ labels: { app: 'live', pod: 'p1' }, ts: t4, line: 'fourth' });
    const q = await queryRange(e.url, '{app="live"}', { start: base.toString(), headers: A });
    expect(q.status).toBe(200);
    expect(q.body.data.result.flatMap((s: any) => s.values).length).toBe(4);
  });

  it('sends the newest `limit` entries since `start` first (oldest first), then live ones', async () => {
    const base = nowNs() - 10_000_000_000n;
    await push(A, [{ stream: { app: 'hist' }, values: [1, 2, 3, 4, 5].map((i) => [(base + BigInt(i)).toString(), `h${i}`]) }]);
    const c = await tail({ query: '{app="hist"}', limit: '3', start: (base - 1_000_000_000n).toString() });
    await c.waitFor(() => c.values().length === 3);
    expect(c.values().map((v) => [v.ts, v.line])).toEqual([3, 4, 5].map((i) => [(base + BigInt(i)).toString(), `h${i}`]));
    const live = (nowNs() - 1_000_000_000n).toString();
    await push(A, [{ stream: { app: 'hist' }, values: [[live, 'live']] }]);
    await c.waitFor(() => c.values().length === 4);
    expect(c.values()[3]).toMatchObject({ ts: live, line: 'live' });
    // A start in the future sends no history.
    const none = await tail({ query: '{app="hist"}', start: (nowNs() + 60_000_000_000n).toString() });
    await new Promise((r) => setTimeout(r, 100));
    expect(none.values()).toEqual([]);
  });

  it("applies the query's line filters and pipeline, folding parsed labels or categorizing them", async () => {
    const query = '{app="pipe"} |= "GET" | logfmt | status >= 500 | line_format "{{.method}} {{.path}} {{.status}}"';
    const plain = await tail({ query });
    const cat = await tail({ query }, { ...A, 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    const ts = (n: number) => (nowNs() - 3_000_000_000n + BigInt(n)).toString();
    const [t1, t2, t3, t4] = [ts(1), ts(2), ts(3), ts(4)];
    await push(A, [
      {
        stream: { app: 'pipe' },
        values: [
          [t1, 'method=GET path=/a status=500'],
          [t2, 'method=GET path=/b status=200'],
          [t3, 'method=POST path=/c status=503'],
          [t4, 'method=GET path=/d status=502', { trace_id: 'abc' }],
        ],
      },
    ]);
    await plain.waitFor(() => plain.values().length === 2);
    await cat.waitFor(() => cat.values().length === 2);
    expect(plain.values()).toEqual([
      { labels: { app: 'pipe', method: 'GET', path: '/a', status: '500' }, ts: t1, line: 'GET /a 500' },
      { labels: { app: 'pipe', method: 'GET', path: '/d', status: '502', trace_id: 'abc' }, ts: t4, line: 'GET /d 502' },
    ]);
    expect(cat.messages[0].encodingFlags).toEqual(['categorize-labels']);
    expect(cat.values()).toEqual([
      { labels: { app: 'pipe' }, ts: t1, line: 'GET /a 500', extra: { parsed: { method: 'GET', path: '/a', status: '500' } } },
      {
        labels: { app: 'pipe' },
        ts: t4,
        line: 'GET /d 502',
        extra: { structuredMetadata: { trace_id: 'abc' }, parsed: { method: 'GET', path: '/d', status: '502' } },
      },
    ]);
  });

  it('holds entries for delay_for seconds past their timestamp', async () => {
    const c = await tail({ query: '{app="delay"}', delay_for: '1' });
    const old = (nowNs() - 5_000_000_000n).toString();
    const fresh = nowNs();
    await push(A, [{ stream: { app: 'delay' }, values: [[old, 'old'], [fresh.toString(), 'fresh']] }]);
    await c.waitFor(() => c.values().length === 1, 900);
    expect(c.values()[0]!.line).toBe('old');
    await c.waitFor(() => c.values().length === 2, 3000);
    const waitedMs = Date.now() - Number(fresh / 1_000_000n);
    expect(waitedMs).toBeGreaterThanOrEqual(1000);
    expect(c.values()[1]).toMatchObject({ ts: fresh.toString(), line: 'fresh' });
  });

  it('allows max_concurrent_tail_requests tails per tenant and closes further ones with 1011', async () => {
    const tails = [await tail({ query: '{app="x"}' }), await tail({ query: '{app="x"}' }), await tail({ query: '{app="x"}' })];
    const extra = await tail({ query: '{app="x"}' });
    expect(await extra.closed).toEqual({ code: 1011, reason: 'max concurrent tail requests limit exceeded, count > limit (4 > 3)' });
    // Another tenant has its own budget.
    const other = await tail({ query: '{app="x"}' }, B);
    await new Promise((r) => setTimeout(r, 50));
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    // Once a tail ends, a new one is accepted.
    await tails[0]!.close();
    await (async () => {
      const end = Date.now() + 2000;
      while (e.engine.tail.activeTails('tenant-a') !== 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    })();
    const again = await tail({ query: '{app="x"}' });
    await new Promise((r) => setTimeout(r, 50));
    expect(again.ws.readyState).toBe(again.ws.OPEN);
    expect(e.engine.tail.activeTails('tenant-a')).toBe(3);
  });

  it('drops entries for a slow consumer and reports them as dropped_entries', async () => {
    const c = await tail({ query: '{app="flood"}' });
    c.ws.pause();
    // Enough data to fill the loopback socket buffers and the ten messages a tail may have in flight.
    const line = 'x'.repeat(3000);
    const base = nowNs() - 60_000_000_000n;
    const pushed = new Set<string>();
    for (let b = 0; b < 60; b++) {
      const values = Array.from({ length: 100 }, (_, i) => {
        const ts = (base + BigInt(b * 100 + i)).toString();
        pushed.add(ts);
        return [ts, `${b}-${i} ${line}`];
      });
      await push(A, [{ stream: { app: 'flood' }, values }]);
    }
    await new Promise((r) => setTimeout(r, 200));
    c.ws.resume();
    await c.waitFor(() => c.dropped().length > 0, 10_000);
    // Once the client keeps up again, new entries flow.
    const marker = (nowNs() - 1_000_000_000n).toString();
    await push(A, [{ stream: { app: 'flood' }, values: [[marker, 'marker']] }]);
    await c.waitFor(() => c.values().some((v) => v.line === 'marker'), 10_000);

    const received = c.values().filter((v) => v.line !== 'marker');
    const dropped = c.dropped();
    expect(dropped.every((d) => d.labels.app === 'flood' && Object.keys(d.labels).length === 1 && pushed.has(d.timestamp))).toBe(true);
    expect(received.every((v) => pushed.has(v.ts))).toBe(true);
    const receivedTs = received.map((v) => BigInt(v.ts));
    expect(receivedTs.every((t, i) => i === 0 || t > receivedTs[i - 1]!)).toBe(true);
    const seen = new Set(received.map((v) => v.ts));
    expect(dropped.some((d) => seen.has(d.timestamp))).toBe(false);
    expect(new Set(dropped.map((d) => d.timestamp)).size).toBe(dropped.length);
    expect(received.length + dropped.length).toBeLessThanOrEqual(pushed.size);
    expect(received.length).toBeGreaterThan(0);
  }, 30_000);

  it('serves the legacy /api/prom/tail body', async () => {
    const c = await tail({ query: '{app="legacy"}', regexp: 'keep' }, A, '/api/prom/tail');
    const ts = 1_700_000_000_123_456_789n;
    await push(A, [{ stream: { app: 'legacy', pod: 'p' }, values: [[ts.toString(), 'keep me'], [(ts + 1n).toString(), 'drop me']] }]);
    await c.waitFor(() => c.messages.length > 0);
    expect(c.messages[0]).toEqual({
      streams: [{ labels: '{app="legacy", pod="p"}', entries: [{ ts: '2023-11-14T22:13:20.123456789Z', line: 'keep me' }] }],
      dropped_entries: null,
    });
  });
});

describe('tail lifetime', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(withAuth(testConfig(dir, `${LIMITS}  tail_max_duration: 300ms\n`)));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('closes a tail with 1011 after querier.tail_max_duration, and every tail with 1001 on shutdown', async () => {
    const c = new TailClient(e.url, TAIL, { query: '{app="x"}' }, A);
    await c.opened;
    const started = Date.now();
    expect(await c.closed).toEqual({ code: 1011, reason: 'reached tail max duration limit' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(e.engine.tail.activeTails('tenant-a')).toBe(0);

    const d = new TailClient(e.url, TAIL, { query: '{app="x"}' }, A);
    await d.opened;
    await e.engine.stop();
    expect(await d.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });
});
