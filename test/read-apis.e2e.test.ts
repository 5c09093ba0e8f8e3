import { cleanup, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// The read APIs Grafana Logs Drilldown uses, over real HTTP, on data pushed through the push API: index stats,
// volumes, detected fields and labels, patterns, drilldown-limits, and multi-tenant reads (`X-Scope-OrgID: a|b`).

const T = 1_700_000_040; // seconds; a multiple of 60 so volume and pattern buckets are easy to read
const ns = (sec: number): string => (BigInt(sec) * 1_000_000_000n).toString();
const RANGE = { start: ns(T), end: ns(T + 120) };

const withAuth = (yaml: string): string => yaml.replace('auth_enabled: false', 'auth_enabled: true');

const CONFIG = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  max_entries_limit_per_query: 1000
querier:
  multi_tenant_queries_enabled: true
`;

// Tenant a, {app="api"}: 40 logfmt lines, one every 2 s from T, each with a trace_id.
const apiLines = Array.from(
  { length: 40 },
  (_, i) => `level=info method=GET path=/api/users/${i % 10} status=${i % 5 === 0 ? 500 : 200} duration=${i + 1}ms`,
);
const apiValues = apiLines.map((l, i) => [ns(T + 2 * i), l, { trace_id: `t${i}` }]);
// Tenant a, {app="web"}: 5 JSON lines from T+70.
const webLines = Array.from({ length: 5 }, (_, i) => `{"level":"error","msg":"boom","user":{"id":${i}}}`);
const webValues = webLines.map((l, i) => [ns(T + 70 + i), l]);
// Tenant b, {app="api"}: 3 lines.
const bLines = ['level=info b one', 'level=info b two', 'level=info b three'];

const bytes = (lines: string[]): number => lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
const apiBytes = bytes(apiLines) + apiValues.reduce((n, _, i) => n + 'trace_id'.length + `t${i}`.length, 0);
const webBytes = bytes(webLines);

async function get(url: string, path: string, params: Record<string, string>, tenant = 'a'): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`, { headers: { 'X-Scope-OrgID': tenant } });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body };
}

async function post(url: string, path: string, params: Record<string, string>, tenant = 'a'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Scope-OrgID': tenant },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.json() };
}

describe('Drilldown read APIs over HTTP', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(withAuth(testConfig(dir, CONFIG)));
    const a = await pushJson(
      e.url,
      {
        streams: [
          { stream: { app: 'api', env: 'prod' }, values: apiValues },
          { stream: { app: 'web', env: 'dev' }, values: webValues },
          { stream: { app: 'job', env: 'prod', run_id: '17' }, values: [[ns(T + 1), 'run 17 done']] },
          { stream: { app: 'job', env: 'prod', run_id: '18' }, values: [[ns(T + 1), 'run 18 done']] },
        ],
      },
      { 'X-Scope-OrgID': 'a' },
    );
    expect(a.status).toBe(204);
    const b = await pushJson(
      e.url,
      { streams: [{ stream: { app: 'api', env: 'prod' }, values: bLines.map((l, i) => [ns(T + 100 + i), l]) }] },
      { 'X-Scope-OrgID': 'b' },
    );
    expect(b.status).toBe(204);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  describe('index/stats', () => {
    it('counts streams, chunks, entries and bytes of unflushed data (GET and POST)', async () => {
      const expected = { streams: 1, chunks: 1, bytes: apiBytes, entries: 40 };
      const g = await get(e.url, '/loki/api/v1/index/stats', { query: '{app="api"}', ...RANGE });
      expect(g.status).toBe(200);
      expect(g.body).toEqual(expected);
      expect(g.text).toBe(JSON.stringify(expected) + '\n');
      expect((await post(e.url, '/loki/api/v1/index/stats', { query: '{app="api"}', ...RANGE })).body).toEqual(expected);
    });

    it('covers every matching stream, and nothing outside the range', async () => {
      const all = await get(e.url, '/loki/api/v1/index/stats', { query: '{env=~".+"}', ...RANGE });
      expect(all.body).toEqual({ streams: 4, chunks: 4, bytes: apiBytes + webBytes + 22, entries: 47 });
      const none = await get(e.url, '/loki/api/v1/index/stats', { query: '{app="api"}', start: ns(T - 100), end: ns(T - 1) });
      expect(none.body).toEqual({ streams: 0, chunks: 0, bytes: 0, entries: 0 });
    });

    it("answers a bad selector with Loki's parse error", async () => {
      const r = await get(e.url, '/loki/api/v1/index/stats', { query: 'app', ...RANGE });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/^parse error at line 1, col 1/);
    });
  });

  describe('index/volume', () => {
    it('aggregates byte volume by the labels the selector names, largest first, at the end time', async () => {
      const r = await get(e.url, '/loki/api/v1/index/volume', { query: '{app=~"api|web"}', ...RANGE });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('success');
      expect(r.body.data.resultType).toBe('vector');
      expect(r.body.data.result).toEqual([
        { metric: { app: 'api' }, value: [T + 120, String(apiBytes)] },
        { metric: { app: 'web' }, value: [T + 120, String(webBytes)] },
      ]);
      expect(r.body.data.stats.summary).toBeDefined();
    });

    it('aggregates into targetLabels, by label names with aggregateBy=labels, and honours limit (POST too)', async () => {
      const target = await post(e.url, '/loki/api/v1/index/volume', { query: '{app=~"api|web"}', targetLabels: 'env', ...RANGE });
      expect(target.body.data.result).toEqual([
        { metric: { env: 'prod' }, value: [T + 120, String(apiBytes)] },
        { metric: { env: 'dev' }, value: [T + 120, String(webBytes)] },
      ]);
      const byLabels = await get(e.url, '/loki/api/v1/index/volume', { query: '{app=~"api|web"}', aggregateBy: 'labels', ...RANGE });
      const total = String(apiBytes + webBytes);
      expect(byLabels.body.data.result).toEqual([
        { metric: { app: '' }, value: [T + 120, total] },
        { metric: { env: '' }, value: [T + 120, total] },
      ]);
      const limited = await get(e.url, '/loki/api/v1/index/volume', { query: '{app=~"api|web"}', limit: '1', ...RANGE });
      expect(limited.body.data.result).toEqual([{ metric: { app: 'api' }, value: [T + 120, String(apiBytes)] }]);
    });

    it("accepts Loki's match-any selector `{}`", async () => {
      const r = await get(e.url, '/loki/api/v1/index/volume', { query: '{}', ...RANGE });
      expect(r.body.data.result).toEqual([{ metric: {}, value: [T + 120, String(apiBytes + webBytes + 22)] }]);
    });

    it('volume_range gives a sample per step, each stamped with the end of its step', async () => {
      const r = await get(e.url, '/loki/api/v1/index/volume_range', { query: '{app=~"api|web"}', step: '60', ...RANGE });
      expect(r.status).toBe(200);
      expect(r.body.data.resultType).toBe('matrix');
      // api: 30 lines in [T, T+60), 10 in [T+60, T+80); web: 5 lines from T+70.
      const first = bytes(apiLines.slice(0, 30)) + apiValues.slice(0, 30).reduce((n, _, i) => n + 8 + `t${i}`.length, 0);
      expect(r.body.data.result).toEqual([
        {
          metric: { app: 'api' },
          values: [
            [(T * 1000 + 59_999) / 1000, String(first)],
            [T + 120, String(apiBytes - first)],
          ],
        },
        { metric: { app: 'web' }, values: [[T + 120, String(webBytes)]] },
      ]);
    });

    it("rejects a bad aggregateBy with Loki's message", async () => {
      const r = await get(e.url, '/loki/api/v1/index/volume', { query: '{app="api"}', aggregateBy: 'pods', ...RANGE });
      expect(r.status).toBe(400);
      expect(r.text).toBe('invalid aggregation option');
    });
  });

  describe('detected fields', () => {
    it('lists the logfmt fields and structured metadata with types, cardinality and parsers', async () => {
      const r = await get(e.url, '/loki/api/v1/detected_fields', { query: '{app="api"}', ...RANGE });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        fields: [
          { label: 'duration', type: 'duration', cardinality: 40, parsers: ['logfmt'] },
          { label: 'level', type: 'string', cardinality: 1, parsers: ['logfmt'] },
          { label: 'method', type: 'string', cardinality: 1, parsers: ['logfmt'] },
          { label: 'path', type: 'string', cardinality: 10, parsers: ['logfmt'] },
          { label: 'status', type: 'int', cardinality: 2, parsers: ['logfmt'] },
          { label: 'trace_id', type: 'string', cardinality: 40, parsers: null },
        ],
        limit: 1000,
      });
    });

    it('reads only the newest line_limit lines and at most limit fields (POST)', async () => {
      const r = await post(e.url, '/loki/api/v1/detected_fields', { query: '{app="api"}', line_limit: '5', limit: '2', ...RANGE });
      // The 5 newest lines: i = 35..39 — the first two fields met are those of the newest line's structured metadata
      // and logfmt keys, in line order.
      expect(r.body.limit).toBe(2);
      expect(r.body.fields).toEqual([
        { label: 'level', type: 'string', cardinality: 1, parsers: ['logfmt'] },
        { label: 'trace_id', type: 'string', cardinality: 5, parsers: null },
      ]);
    });

    it('reports JSON fields with their JSON path, also after a query parser', async () => {
      const expected = {
        fields: [
          { label: 'level', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['level'] },
          { label: 'msg', type: 'string', cardinality: 1, parsers: ['json'], jsonPath: ['msg'] },
          { label: 'user_id', type: 'int', cardinality: 5, parsers: ['json'], jsonPath: ['user', 'id'] },
        ],
        limit: 1000,
      };
      expect((await get(e.url, '/loki/api/v1/detected_fields', { query: '{app="web"}', ...RANGE })).body).toEqual(expected);
      const parsed = await get(e.url, '/loki/api/v1/detected_fields', { query: '{app="web"} | json | drop __error__', ...RANGE });
      expect(parsed.body).toEqual(expected);
    });

    it('is an empty object when nothing matches', async () => {
      const r = await get(e.url, '/loki/api/v1/detected_fields', { query: '{app="none"}', ...RANGE });
      expect(r.status).toBe(200);
      expect(r.text).toBe('{}\n');
    });

    it('refuses a line_limit above max_entries_limit_per_query, and metric queries', async () => {
      const big = await get(e.url, '/loki/api/v1/detected_fields', { query: '{app="api"}', line_limit: '1001', ...RANGE });
      expect(big.status).toBe(400);
      expect(big.text).toBe('max entries limit per query exceeded, limit > max_entries_limit_per_query (1001 > 1000)');
      const metric = await get(e.url, '/loki/api/v1/detected_fields', { query: 'rate({app="api"}[1m])', ...RANGE });
      expect(metric.status).toBe(400);
    });

    it('lists the values of one field (GET and POST)', async () => {
      const g = await get(e.url, '/loki/api/v1/detected_field/status/values', { query: '{app="api"}', ...RANGE });
      expect(g.status).toBe(200);
      expect(g.body).toEqual({ values: ['200', '500'], limit: 1000 });
      const p = await post(e.url, '/loki/api/v1/detected_field/trace_id/values', { query: '{app="api"}', line_limit: '2', ...RANGE });
      expect(p.body).toEqual({ values: ['t38', 't39'], limit: 1000 });
      const none = await get(e.url, '/loki/api/v1/detected_field/nope/values', { query: '{app="api"}', ...RANGE });
      expect(none.body).toEqual({});
      // A name longer than Fastify's default 100-character path parameter still reaches the handler (not 414).
      const long = await get(e.url, `/loki/api/v1/detected_field/${'x'.repeat(300)}/values`, { query: '{app="api"}', ...RANGE });
      expect([long.status, long.body]).toEqual([200, {}]);
    });
  });

  describe('detected_labels', () => {
    it('lists stream labels with their cardinality, without id-like labels (GET and POST)', async () => {
      const expected = {
        detectedLabels: [
          { label: 'app', cardinality: 3 },
          { label: 'env', cardinality: 2 },
        ],
      };
      const g = await get(e.url, '/loki/api/v1/detected_labels', { query: '{env=~".+"}', ...RANGE });
      expect(g.status).toBe(200);
      expect(g.body).toEqual(expected); // run_id (17, 18) is all numbers: hidden
      expect((await post(e.url, '/loki/api/v1/detected_labels', { ...RANGE })).body).toEqual(expected);
      const one = await get(e.url, '/loki/api/v1/detected_labels', { query: '{app="api"}', ...RANGE });
      expect(one.body).toEqual({
        detectedLabels: [
          { label: 'app', cardinality: 1 },
          { label: 'env', cardinality: 1 },
        ],
      });
    });
  });

  describe('patterns', () => {
    it('mines the template of the lines with counts per step', async () => {
      const r = await get(e.url, '/loki/api/v1/patterns', { query: '{app="api"}', step: '60s', ...RANGE });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        status: 'success',
        data: [
          {
            pattern: 'level=info method=GET path=<_> status=<_> duration=<_>',
            level: 'info',
            samples: [
              [T, 30],
              [T + 60, 10],
            ],
          },
        ],
      });
      const p = await post(e.url, '/loki/api/v1/patterns', { query: '{app="api"}', step: '60s', ...RANGE });
      expect(p.body).toEqual(r.body);
    });

    it('drops rare patterns and answers an empty list for no data', async () => {
      expect((await get(e.url, '/loki/api/v1/patterns', { query: '{app="web"}', ...RANGE })).body).toEqual({ status: 'success', data: [] });
    });

    it("validates step as Loki does", async () => {
      const r = await get(e.url, '/loki/api/v1/patterns', { query: '{app="api"}', step: '0', ...RANGE });
      expect(r.status).toBe(400);
      expect(r.text).toBe('zero or negative query resolution step widths are not accepted. Try a positive integer');
    });
  });

  describe('drilldown-limits', () => {
    it("answers Loki's shape with the tenant's published limits", async () => {
      const r = await get(e.url, '/loki/api/v1/drilldown-limits', {});
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['limits', 'pattern_ingester_enabled', 'version']);
      expect(r.body.pattern_ingester_enabled).toBe(true);
      expect(typeof r.body.version).toBe('string');
      expect(r.body.limits).toMatchObject({
        discover_log_levels: true,
        discover_service_name: [],
        max_entries_limit_per_query: 1000,
        max_query_length: '30d1h',
        query_timeout: '1m',
        volume_enabled: true,
        retention_stream: [],
      });
    });
  });

  describe('multi-tenant queries (X-Scope-OrgID: a|b)', () => {
    it('sums index stats over the tenants and filters them with __tenant_id__', async () => {
      const both = await get(e.url, '/loki/api/v1/index/stats', { query: '{app="api"}', ...RANGE }, 'a|b');
      expect(both.body).toEqual({ streams: 2, chunks: 2, bytes: apiBytes + bytes(bLines), entries: 43 });
      const onlyB = await get(e.url, '/loki/api/v1/index/stats', { query: '{app="api", __tenant_id__="b"}', ...RANGE }, 'a|b');
      expect(onlyB.body).toEqual({ streams: 1, chunks: 1, bytes: bytes(bLines), entries: 3 });
    });

    it('merges volumes of equal series across tenants', async () => {
      const r = await get(e.url, '/loki/api/v1/index/volume', { query: '{app="api"}', ...RANGE }, 'b|a');
      expect(r.body.data.result).toEqual([{ metric: { app: 'api' }, value: [T + 120, String(apiBytes + bytes(bLines))] }]);
    });

    it('answers query_range, metric queries, labels and series over the tenants with __tenant_id__', async () => {
      const logs = await get(e.url, '/loki/api/v1/query_range', { query: '{app="api"}', limit: '1000', ...RANGE }, 'a|b');
      expect(logs.status).toBe(200);
      const tenantsSeen = new Set(logs.body.data.result.map((r: { stream: Record<string, string> }) => r.stream.__tenant_id__));
      expect([...tenantsSeen].sort()).toEqual(['a', 'b']);
      const total = logs.body.data.result.reduce((n: number, r: { values: unknown[] }) => n + r.values.length, 0);
      expect(total).toBe(43);
      const onlyB = await get(e.url, '/loki/api/v1/query_range', { query: '{app="api", __tenant_id__="b"}', limit: '1000', ...RANGE }, 'a|b');
      expect(onlyB.body.data.result.every((r: { stream: Record<string, string> }) => r.stream.__tenant_id__ === 'b')).toBe(true);
      const counts = await get(
        e.url,
        '/loki/api/v1/query',
        { query: 'sum by (__tenant_id__) (count_over_time({app="api"}[1h]))', time: RANGE.end },
        'a|b',
      );
      const byTenant = Object.fromEntries(counts.body.data.result.map((r: any) => [r.metric.__tenant_id__, r.value[1]]));
      expect(byTenant).toEqual({ a: '40', b: '3' });
      const series = await get(e.url, '/loki/api/v1/series', { 'match[]': '{app="api"}', ...RANGE }, 'a|b');
      expect(series.body.data.map((l: Record<string, string>) => l.__tenant_id__).sort()).toEqual(['a', 'b']);
      const single = await get(e.url, '/loki/api/v1/query_range', { query: '{app="api"}', limit: '1000', ...RANGE }, 'b');
      expect(single.body.data.result.every((r: { stream: Record<string, string> }) => r.stream.__tenant_id__ === undefined)).toBe(true);
    });

    it('reads fields, labels and patterns of all the tenants', async () => {
      const labels = await get(e.url, '/loki/api/v1/detected_labels', { query: '{app="api"}', ...RANGE }, 'a|b');
      expect(labels.body).toEqual({
        detectedLabels: [
          { label: 'app', cardinality: 1 },
          { label: 'env', cardinality: 1 },
        ],
      });
      const fields = await get(e.url, '/loki/api/v1/detected_field/level/values', { query: '{app="api"}', ...RANGE }, 'a|b');
      expect(fields.body).toEqual({ values: ['info'], limit: 1000 });
      const onlyB = await get(e.url, '/loki/api/v1/detected_fields', { query: '{__tenant_id__="b", app="api"}', ...RANGE }, 'a|b');
      // logfmt keys without a value (`b`, `one`) are not fields.
      expect(onlyB.body).toEqual({ fields: [{ label: 'level', type: 'string', cardinality: 1, parsers: ['logfmt'] }], limit: 1000 });
      const patterns = await get(e.url, '/loki/api/v1/patterns', { query: '{app="api"}', step: '60s', ...RANGE }, 'a|b');
      expect(patterns.body.data.map((p: { pattern: string }) => p.pattern)).toEqual(['level=info method=GET path=<_> status=<_> duration=<_>']);
    });
  });
});

describe('read APIs with multi-tenant queries and volumes disabled', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(withAuth(testConfig(dir, 'limits_config:\n  reject_old_samples: false\n  volume_enabled: false\n')));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('refuses several tenants with Loki\'s message', async () => {
    const r = await get(e.url, '/loki/api/v1/index/stats', { query: '{app="api"}', ...RANGE }, 'a|b');
    expect(r.status).toBe(400);
    expect(r.text).toBe('multiple org IDs present');
  });

  it('answers 404 "not found" on the volume endpoints, as Loki does when volume_enabled is false', async () => {
    for (const path of ['/loki/api/v1/index/volume', '/loki/api/v1/index/volume_range']) {
      const r = await get(e.url, path, { query: '{app="api"}', ...RANGE });
      expect(r.status).toBe(404);
      expect(r.text).toBe('not found\n');
    }
  });

  it('requires a tenant when auth is enabled', async () => {
    const res = await fetch(`${e.url}/loki/api/v1/detected_labels`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('no org id');
  });
});

describe('index stats and volume after a flush: the store and memory together', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, 'limits_config:\n  reject_old_samples: false\n  discover_service_name: []\n'));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('counts flushed chunks from the index and newer entries from memory, without double counting', async () => {
    const first = Array.from({ length: 10 }, (_, i) => [ns(T + i), `flushed line ${i}`]);
    expect((await pushJson(e.url, { streams: [{ stream: { app: 'f' }, values: first }] })).status).toBe(204);
    const stats = (q: string) => get(e.url, '/loki/api/v1/index/stats', { query: q, ...RANGE }).then((r) => r.body);
    const inMemory = await stats('{app="f"}');
    expect(inMemory).toEqual({ streams: 1, chunks: 1, entries: 10, bytes: bytes(first.map((v) => v[1]!)) });

    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    const flushed = await stats('{app="f"}');
    expect(flushed.streams).toBe(1);
    expect(flushed.entries).toBe(10);
    expect(flushed.chunks).toBe(1);
    expect(flushed.bytes).toBeGreaterThan(0);

    const more = Array.from({ length: 4 }, (_, i) => [ns(T + 50 + i), `new line ${i}`]);
    expect((await pushJson(e.url, { streams: [{ stream: { app: 'f' }, values: more }] })).status).toBe(204);
    expect(await stats('{app="f"}')).toEqual({
      streams: 1,
      chunks: 2,
      entries: 14,
      bytes: flushed.bytes + bytes(more.map((v) => v[1]!)),
    });

    // The volume adds both parts as well.
    const vol = await get(e.url, '/loki/api/v1/index/volume', { query: '{app="f"}', ...RANGE });
    expect(vol.body.data.result).toEqual([{ metric: { app: 'f' }, value: [T + 120, String(flushed.bytes + bytes(more.map((v) => v[1]!)))] }]);
  });
});
