// The requests Grafana's Loki data source sends, over real HTTP, built as its backend builds them (pkg/tsdb/loki:
// Go's url.Values encoding with sorted keys, ns start/end, `step` as `<ms>ms`, the health check's instant query at
// time 4 s → "4000000000"), plus its label browser calls, its logs-volume query, its live tail (the v2alpha probe,
// then the v1 WebSocket) and a long query sent as a GET URL.
import { cleanup, nowNs, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';
import { TailClient } from './support/tail-client.js';

const LIMITS = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  discover_log_levels: false
`;

const S = 1_000_000_000n;

/** Go's url.Values.Encode: keys sorted, query-escaped. */
function encode(params: Record<string, string>): string {
  const p = new URLSearchParams();
  for (const k of Object.keys(params).sort()) p.set(k, params[k]!);
  return p.toString();
}

interface DataQuery {
  expr: string;
  queryType: 'range' | 'instant';
  direction?: 'backward' | 'forward';
  maxLines?: number;
  start: bigint;
  end: bigint;
  stepMs?: number;
  categorize?: boolean;
  supportingQueryType?: 'logvolhist' | 'logsample' | 'datasample';
}

/** What Grafana's backend sends for one query of a panel or of Explore (makeDataRequest). */
class GrafanaLike {
  constructor(readonly url: string) {}

  async dataQuery(q: DataQuery): Promise<{ status: number; body: any; text: string }> {
    const params: Record<string, string> = { query: q.expr, direction: q.direction ?? 'backward' };
    if (q.maxLines !== undefined && q.maxLines > 0) params.limit = String(q.maxLines);
    let path: string;
    if (q.queryType === 'range') {
      params.start = q.start.toString();
      params.end = q.end.toString();
      params.step = `${q.stepMs ?? 1000}ms`;
      path = '/loki/api/v1/query_range';
    } else {
      params.time = q.end.toString();
      path = '/loki/api/v1/query';
    }
    const headers: Record<string, string> = {};
    if (q.supportingQueryType) headers['X-Query-Tags'] = `Source=${q.supportingQueryType}`;
    if (q.categorize) headers['X-Loki-Response-Encoding-Flags'] = 'categorize-labels';
    return this.get(`${path}?${encode(params)}`, headers);
  }

  /** The health check: `vector(1)+vector(1)` as an instant query at the end of the range 1 s – 4 s. */
  healthCheck(): Promise<{ status: number; body: any; text: string }> {
    return this.dataQuery({ expr: 'vector(1)+vector(1)', queryType: 'instant', start: 1n * S, end: 4n * S });
  }

  /** A resource call (label browser): Grafana forwards the path and query string as they are. */
  resource(pathAndQuery: string): Promise<{ status: number; body: any; text: string }> {
    return this.get(pathAndQuery);
  }

  async get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string }> {
    const res = await fetch(`${this.url}${pathAndQuery}`, { headers });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text };
  }
}

interface Pushed {
  level: 'info' | 'error';
  ts: bigint;
  line: string;
  traceId?: string;
}

describe('Grafana compatibility', () => {
  let dir: string;
  let e: RunningEngine;
  let g: GrafanaLike;
  // Ten minutes of data, starting on a whole minute: info every 10 s, error (with structured metadata) every 30 s.
  const base = ((nowNs() - 20n * 60n * S) / (60n * S)) * 60n * S;
  const end = base + 10n * 60n * S;
  const data: Pushed[] = [];
  for (let i = 0; i < 30; i++) data.push({ level: 'info', ts: base + BigInt(i * 10 + 1) * S + 7n, line: `level=info msg="request ${i}"` });
  for (let i = 0; i < 10; i++) {
    data.push({ level: 'error', ts: base + BigInt(i * 30 + 5) * S + 9n, line: `level=error msg="failure ${i}"`, traceId: `t${i}` });
  }

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, LIMITS));
    g = new GrafanaLike(e.url);
    const streams = (['info', 'error'] as const).map((level) => ({
      stream: { app: 'grafana', level },
      values: data
        .filter((d) => d.level === level)
        .map((d) => (d.traceId ? [d.ts.toString(), d.line, { trace_id: d.traceId }] : [d.ts.toString(), d.line])),
    }));
    expect((await pushJson(e.url, { streams })).status).toBe(204);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('passes the data source health check: a one-sample vector of value "2" at time 4000000000', async () => {
    const res = await g.healthCheck();
    expect(res.status).toBe(200);
    expect(res.body.data.resultType).toBe('vector');
    expect(res.body.data.result).toEqual([{ metric: {}, value: [4_000_000_000, '2'] }]);
    // The exact URL Grafana builds.
    const raw = await g.get('/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000');
    expect(raw.body.data.result).toEqual([{ metric: {}, value: [4_000_000_000, '2'] }]);
  });

  it.each(['backward', 'forward'] as const)(
    'log query with categorize-labels and limit 25, direction %s',
    async (direction) => {
      const res = await g.dataQuery({ expr: '{app="grafana"}', queryType: 'range', direction, maxLines: 25, start: base, end, stepMs: 2000, categorize: true });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.data)).toEqual(['resultType', 'encodingFlags', 'result', 'stats']);
      expect(res.body.data.encodingFlags).toEqual(['categorize-labels']);
      const sorted = [...data].sort((a, b) => (a.ts < b.ts ? -1 : 1));
      const want = direction === 'forward' ? sorted.slice(0, 25) : sorted.slice(-25).reverse();
      const got: Array<{ level: string; ts: string; line: string; extra?: any }> = [];
      for (const s of res.body.data.result) {
        expect(Object.keys(s.stream).sort()).toEqual(['app', 'level']);
        const tss = s.values.map((v: string[]) => BigInt(v[0]!));
        expect(tss.every((t: bigint, i: number) => i === 0 || (direction === 'forward' ? t > tss[i - 1] : t < tss[i - 1]))).toBe(true);
        for (const v of s.values) got.push({ level: s.stream.level, ts: v[0], line: v[1], ...(v[2] ? { extra: v[2] } : {}) });
      }
      expect(got).toHaveLength(25);
      const byTs = (a: { ts: string }, b: { ts: string }) => (BigInt(a.ts) < BigInt(b.ts) ? -1 : 1);
      expect(got.sort(byTs).map((x) => [x.level, x.ts, x.line])).toEqual(
        [...want].sort((a, b) => (a.ts < b.ts ? -1 : 1)).map((d) => [d.level, d.ts.toString(), d.line]),
      );
      // Structured metadata stays out of the stream labels and travels with each entry.
      for (const x of got) {
        const d = want.find((w) => w.ts.toString() === x.ts)!;
        if (d.traceId) expect(x.extra).toEqual({ structuredMetadata: { trace_id: d.traceId } });
        else expect(x.extra).toEqual({});
      }
    },
  );

  /** count_over_time(range) at each step: entries in (t - range, t], grouped by level; empty windows give no point. */
  function expectedCounts(stepS: bigint, rangeS: bigint): Record<string, Array<[number, string]>> {
    const out: Record<string, Array<[number, string]>> = {};
    for (let t = base; t <= end; t += stepS * S) {
      for (const level of ['error', 'info']) {
        const n = data.filter((d) => d.level === level && d.ts > t - rangeS * S && d.ts <= t).length;
        if (n > 0) (out[level] ??= []).push([Number(t / S), String(n)]);
      }
    }
    return out;
  }

  it('metric query with the step in milliseconds, as Grafana sends it (step=15000ms)', async () => {
    const res = await g.dataQuery({
      expr: 'sum by (level) (count_over_time({app="grafana"} | logfmt [1m]))',
      queryType: 'range',
      start: base,
      end,
      stepMs: 15_000,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.resultType).toBe('matrix');
    const got = Object.fromEntries(res.body.data.result.map((s: any) => [s.metric.level, s.values]));
    expect(res.body.data.result.map((s: any) => s.metric)).toEqual([{ level: 'error' }, { level: 'info' }]);
    expect(got).toEqual(expectedCounts(15n, 60n));
  });

  it("runs the logs-volume query Explore adds (sum by (level, detected_level) … | drop __error__ [$__auto])", async () => {
    // Grafana's backend replaces $__auto with the step (here 1m) and tags the request.
    const res = await g.dataQuery({
      expr: 'sum by (level, detected_level) (count_over_time({app="grafana"} | drop __error__[1m]))',
      queryType: 'range',
      direction: 'backward',
      start: base,
      end,
      stepMs: 60_000,
      supportingQueryType: 'logvolhist',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.resultType).toBe('matrix');
    expect(res.body.data.result.map((s: any) => s.metric)).toEqual([{ level: 'error' }, { level: 'info' }]);
    const got = Object.fromEntries(res.body.data.result.map((s: any) => [s.metric.level, s.values]));
    expect(got).toEqual(expectedCounts(60n, 60n));
  });

  it('answers the label browser: label names, values of a label under a selector, and series', async () => {
    const range = `start=${base}&end=${end}`;
    const labels = await g.resource(`/loki/api/v1/labels?${range}`);
    expect(labels.status).toBe(200);
    expect(labels.body).toEqual({ status: 'success', data: ['app', 'level'] });
    const values = await g.resource(`/loki/api/v1/label/level/values?${encode({ query: '{app="grafana"}', start: base.toString(), end: end.toString() })}`);
    expect(values.body).toEqual({ status: 'success', data: ['error', 'info'] });
    const none = await g.resource(`/loki/api/v1/label/level/values?${encode({ query: '{app="nothing"}', start: base.toString(), end: end.toString() })}`);
    expect(none.status).toBe(200);
    expect(none.body.data ?? []).toEqual([]);
    const series = await g.resource(`/loki/api/v1/series?${encode({ 'match[]': '{app="grafana"}', start: base.toString(), end: end.toString() })}`);
    expect(series.status).toBe(200);
    expect(series.body.data).toEqual(expect.arrayContaining([{ app: 'grafana', level: 'info' }, { app: 'grafana', level: 'error' }]));
    expect(series.body.data).toHaveLength(2);
  });

  it('tails: the v2alpha probe is not a 400, then the v1 WebSocket streams new entries', async () => {
    const probe = await g.get(`/loki/api/v2alpha/tail?${encode({ query: '{app="grafana"}' })}`);
    expect(probe.status).not.toBe(400);
    const c = new TailClient(e.url, '/loki/api/v1/tail', { query: '{app="grafana", level="error"}' });
    try {
      await c.opened;
      const ts = (nowNs() - S).toString();
      expect((await pushJson(e.url, { streams: [{ stream: { app: 'grafana', level: 'error' }, values: [[ts, 'level=error msg=live']] }] })).status).toBe(204);
      // Grafana reads each message's streams into a labeled frame; the newest hour of history arrives too.
      await c.waitFor(() => c.values().some((v) => v.line === 'level=error msg=live'));
      const live = c.values().find((v) => v.line === 'level=error msg=live')!;
      expect(live).toEqual({ labels: { app: 'grafana', level: 'error' }, ts, line: 'level=error msg=live' });
    } finally {
      await c.close();
    }
  });

  it('accepts a ~40 KB query sent as a GET URL (beyond Node’s 16 KiB header default)', async () => {
    const filters = Array.from({ length: 1300 }, (_, i) => ` != "unwanted-token-${String(i).padStart(5, '0')}"`).join('');
    const expr = `{app="grafana"}${filters}`;
    const qs = encode({ query: expr, direction: 'backward', limit: '1000', start: base.toString(), end: end.toString(), step: '2000ms' });
    expect(qs.length).toBeGreaterThan(40_000);
    const res = await g.get(`/loki/api/v1/query_range?${qs}`);
    expect(res.status).toBe(200);
    const n = res.body.data.result.reduce((acc: number, s: any) => acc + s.values.length, 0);
    expect(n).toBe(data.length);
  });
});
