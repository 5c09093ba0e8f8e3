import { cleanup, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// Metric queries over HTTP: /loki/api/v1/query (instant) and /loki/api/v1/query_range (matrix), with Loki's JSON
// shapes, step handling and error texts. Expected values follow the LogQL documentation: a range aggregation at
// time t covers the entries in (t - range, t].

const T = 1_700_000_040; // a multiple of 60 s, so step alignment is easy to read
const ns = (sec: number): string => (BigInt(Math.round(sec * 1000)) * 1_000_000n).toString();

const LIMITS = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  max_query_series: 3
`;

async function get(url: string, path: string, params: Record<string, string>): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body };
}

async function post(url: string, path: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.json() };
}

const instant = (url: string, query: string, time: number | string) => get(url, '/loki/api/v1/query', { query, time: String(time) });
const range = (url: string, query: string, start: number, end: number, step?: string) =>
  get(url, '/loki/api/v1/query_range', { query, start: String(start), end: String(end), ...(step !== undefined ? { step } : {}) });

describe('LogQL metric queries over HTTP', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, LIMITS));
    // pod a: one line every 10 s from T+10 to T+120; pod b: every 20 s. Lines are logfmt with a latency.
    const a = Array.from({ length: 12 }, (_, i) => [ns(T + 10 * (i + 1)), `level=${i % 3 === 0 ? 'error' : 'info'} latency=${i + 1}ms`]);
    const b = Array.from({ length: 6 }, (_, i) => [ns(T + 20 * (i + 1)), `level=info latency=${(i + 1) * 10}ms`]);
    const res = await pushJson(e.url, {
      streams: [
        { stream: { app: 'web', pod: 'a' }, values: a },
        { stream: { app: 'web', pod: 'b' }, values: b },
        { stream: { app: 'json' }, values: [[ns(T + 10), '{"status":200}'], [ns(T + 20), 'oops']] },
      ],
    });
    expect(res.status).toBe(204);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it("answers Grafana's health check with a one-sample vector of value 2, even far in the future", async () => {
    // Grafana's backend encodes the query (`+` as %2B); a literal `+` in a URL would decode as a space, in Loki too.
    const res = await fetch(`${e.url}/loki/api/v1/query?direction=backward&query=vector(1)%2Bvector(1)&time=4000000000`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as any;
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toEqual([{ metric: {}, value: [4000000000, '2'] }]);
    expect(body.data.stats.summary).toBeDefined();
  });

  it('instant count_over_time: a vector sorted by labels, times in seconds, values as strings', async () => {
    const q = await instant(e.url, 'count_over_time({app="web"}[1m])', T + 60);
    expect(q.status).toBe(200);
    expect(q.body.data.resultType).toBe('vector');
    expect(q.body.data.result).toEqual([
      { metric: { app: 'web', pod: 'a' }, value: [T + 60, '6'] },
      { metric: { app: 'web', pod: 'b' }, value: [T + 60, '3'] },
    ]);
    // The same by POST form, with the time as RFC3339 and as nanoseconds.
    const p = await post(e.url, '/loki/api/v1/query', { query: 'sum(count_over_time({app="web"}[1m]))', time: new Date((T + 60) * 1000).toISOString() });
    expect(p.body.data.result).toEqual([{ metric: {}, value: [T + 60, '9'] }]);
    const n = await instant(e.url, 'sum(rate({app="web"}[1m]))', ns(T + 60));
    expect(n.body.data.result).toEqual([{ metric: {}, value: [T + 60, '0.15'] }]);
  });

  it('a window excludes its start and includes its end', async () => {
    // (T+10, T+70]: the entry at T+10 is out, the one at T+70 is in.
    const q = await instant(e.url, 'count_over_time({pod="a"}[1m])', T + 70);
    expect(q.body.data.result).toEqual([{ metric: { app: 'web', pod: 'a' }, value: [T + 70, '6'] }]);
    const off = await instant(e.url, 'count_over_time({pod="a"}[30s] offset 30s)', T + 60);
    expect(off.body.data.result).toEqual([{ metric: { app: 'web', pod: 'a' }, value: [T + 60, '3'] }]);
  });

  it('range queries: steps from the step-aligned start to the aligned end, one point per non-empty window', async () => {
    // start T+25 aligns down to T, end T+95 up to T+120; each point counts (t-30s, t].
    const expected = [
      { metric: { app: 'web' }, values: [[T + 30, '4'], [T + 60, '5'], [T + 90, '4'], [T + 120, '5']] },
    ];
    for (const step of ['30', '30s', '30.0', '0.5m']) {
      const q = await range(e.url, 'sum by (app) (count_over_time({app="web"}[30s]))', T + 25, T + 95, step);
      if (step === '0.5m') {
        expect(q.status).toBe(400);
        expect(q.text).toBe('cannot parse "0.5m" to a valid duration');
        continue;
      }
      expect(q.status).toBe(200);
      expect(q.body.data.resultType).toBe('matrix');
      expect(q.body.data.result).toEqual(expected);
    }
  });

  it('sub-second steps give fractional timestamps; the default step is a 250th of the range', async () => {
    const q = await range(e.url, 'vector(1)', T + 0.5, T + 1.5, '0.5');
    expect(q.body.data.result).toEqual([{ metric: {}, values: [[T + 0.5, '1'], [T + 1, '1'], [T + 1.5, '1']] }]);
    expect(q.text).toContain(`[${T}.5,"1"]`);
    const d = await range(e.url, 'vector(2)', T, T + 1000);
    expect(d.body.data.result[0].values.map((v: [number, string]) => v[0] - T)).toEqual(Array.from({ length: 251 }, (_, i) => i * 4));
  });

  it('parsers, label filters, unwrap and vector aggregations', async () => {
    const byLevel = await instant(e.url, 'sum by (level) (count_over_time({app="web"} | logfmt [2m]))', T + 120);
    expect(byLevel.body.data.result).toEqual([
      { metric: { level: 'error' }, value: [T + 120, '4'] },
      { metric: { level: 'info' }, value: [T + 120, '14'] },
    ]);
    const p99 = await instant(e.url, 'max by (pod) (max_over_time({app="web"} | logfmt | unwrap duration(latency) [1m]) by (pod))', T + 60);
    expect(p99.body.data.result).toEqual([
      { metric: { pod: 'a' }, value: [T + 60, '0.006'] },
      { metric: { pod: 'b' }, value: [T + 60, '0.03'] },
    ]);
    const top = await instant(e.url, 'topk(1, count_over_time({app="web"}[1m]))', T + 60);
    expect(top.body.data.result).toEqual([{ metric: { app: 'web', pod: 'a' }, value: [T + 60, '6'] }]);
    const ratio = await instant(e.url, 'sum(count_over_time({app="web"} |= "error" [2m])) / sum(count_over_time({app="web"}[2m]))', T + 120);
    expect(ratio.body.data.result).toEqual([{ metric: {}, value: [T + 120, String(4 / 18)] }]);
  });

  it('every range and vector aggregation, instant, over HTTP', async () => {
    // At T+60 the 1m window (T, T+60] holds pod a's latencies 1..6 ms and pod b's 10, 20, 30 ms.
    const a = { app: 'web', pod: 'a' };
    const b = { app: 'web', pod: 'b' };
    const bInfo = { app: 'web', level: 'info', pod: 'b' };
    const unwrap = '{pod="b"} | logfmt | unwrap duration(latency) [1m]';
    const web = 'count_over_time({app="web"}[1m])';
    const cases: Array<[string, Array<[Record<string, string>, string]>]> = [
      ['count_over_time({pod="b"}[1m])', [[b, '3']]],
      ['rate({pod="b"}[1m])', [[b, '0.05']]],
      // "level=info latency=10ms" is 23 bytes.
      ['bytes_over_time({pod="b"}[1m])', [[b, '69']]],
      ['bytes_rate({pod="b"}[1m])', [[b, String(69 / 60)]]],
      ['absent_over_time({pod="zzz"}[1m])', [[{ pod: 'zzz' }, '1']]],
      ['absent_over_time({pod="b"}[1m])', []],
      [`sum_over_time(${unwrap})`, [[bInfo, '0.06']]],
      [`avg_over_time(${unwrap})`, [[bInfo, '0.02']]],
      [`min_over_time(${unwrap})`, [[bInfo, '0.01']]],
      [`max_over_time(${unwrap})`, [[bInfo, '0.03']]],
      [`first_over_time(${unwrap})`, [[bInfo, '0.01']]],
      [`last_over_time(${unwrap})`, [[bInfo, '0.03']]],
      [`quantile_over_time(0.5, ${unwrap})`, [[bInfo, '0.02']]],
      [`rate(${unwrap})`, [[bInfo, String(0.06 / 60)]]],
      [`sum by (pod) (sum_over_time({app="web"} | logfmt | unwrap latency | __error__="" [1m]))`, []],
      [`sum(${web})`, [[{}, '9']]],
      [`avg(${web})`, [[{}, '4.5']]],
      [`min(${web})`, [[{}, '3']]],
      [`max(${web})`, [[{}, '6']]],
      [`count(${web})`, [[{}, '2']]],
      [`stddev(${web})`, [[{}, '1.5']]],
      [`stdvar(${web})`, [[{}, '2.25']]],
      [`sum without (pod) (${web})`, [[{ app: 'web' }, '9']]],
      [`topk(1, ${web})`, [[a, '6']]],
      [`bottomk(1, ${web})`, [[b, '3']]],
      [`approx_topk(1, ${web})`, [[a, '6']]],
      [`sort(${web})`, [[b, '3'], [a, '6']]],
      [`sort_desc(${web})`, [[a, '6'], [b, '3']]],
      [`${web} > 4`, [[a, '6']]],
      [`${web} > bool 4`, [[a, '1'], [b, '0']]],
      [`${web} * on (app) group_left sum by (app) (${web})`, [[a, '54'], [b, '27']]],
      [`${web} unless count_over_time({pod="a"}[1m])`, [[b, '3']]],
      [`label_replace(${web}, "p", "pod-$1", "pod", "(.)")`, [[{ ...a, p: 'pod-a' }, '6'], [{ ...b, p: 'pod-b' }, '3']]],
    ];
    for (const [query, expected] of cases) {
      const q = await instant(e.url, query, T + 60);
      expect([query, q.status]).toEqual([query, 200]);
      expect([query, q.body.data.result]).toEqual([query, expected.map(([metric, v]) => ({ metric, value: [T + 60, v] }))]);
    }
  });

  it('range and vector aggregations over steps', async () => {
    // rate per pod with 30s windows at T+30 … T+120: pod a has 3 entries per window, pod b 1 or 2.
    const q = await range(e.url, 'sum by (pod) (rate({app="web"}[30s]))', T + 30, T + 120, '30');
    expect(q.body.data.result).toEqual([
      { metric: { pod: 'a' }, values: [[T + 30, '0.1'], [T + 60, '0.1'], [T + 90, '0.1'], [T + 120, '0.1']] },
      { metric: { pod: 'b' }, values: [[T + 30, String(1 / 30)], [T + 60, String(2 / 30)], [T + 90, String(1 / 30)], [T + 120, String(2 / 30)]] },
    ]);
    const w = await range(e.url, 'max_over_time({pod="a"} | logfmt | unwrap duration(latency) [30s]) by (pod)', T + 30, T + 120, '30');
    expect(w.body.data.result).toEqual([{ metric: { pod: 'a' }, values: [[T + 30, '0.003'], [T + 60, '0.006'], [T + 90, '0.009'], [T + 120, '0.012']] }]);
  });

  it('scalars, NaN and infinities print as Loki prints them', async () => {
    const s = await instant(e.url, '2 * 3', T);
    expect(s.body.data).toMatchObject({ resultType: 'scalar', result: [T, '6'] });
    const nan = await instant(e.url, 'vector(1) / 0', T);
    expect(nan.body.data.result).toEqual([{ metric: {}, value: [T, 'NaN'] }]);
    const inf = await instant(e.url, 'vector(1e308) * 10', T);
    expect(inf.body.data.result).toEqual([{ metric: {}, value: [T, '+Inf'] }]);
    const big = await instant(e.url, 'vector(1e21)', T);
    expect(big.body.data.result[0].value[1]).toBe('1000000000000000000000');
    const m = await range(e.url, '1', T, T + 2, '1');
    expect(m.body.data).toMatchObject({ resultType: 'matrix', result: [{ metric: {}, values: [[T, '1'], [T + 1, '1'], [T + 2, '1']] }] });
  });

  it('refuses what Loki refuses, with its messages', async () => {
    const log = await instant(e.url, '{app="web"}', T);
    expect(log.status).toBe(400);
    expect(log.text).toBe('log queries are not supported as an instant query type, please change your query to a range query type');

    const errs = await instant(e.url, 'count_over_time({app="json"} | json [1m])', T + 30);
    expect(errs.status).toBe(400);
    expect(errs.text).toContain(`pipeline error: 'JSONParserErr' for series: '{__error__="JSONParserErr"`);
    const ok = await instant(e.url, 'count_over_time({app="json"} | json | __error__="" [1m])', T + 30);
    expect(ok.body.data.result).toEqual([{ metric: { app: 'json', status: '200' }, value: [T + 30, '1'] }]);

    const many = await range(e.url, 'count_over_time({app="web"}[1m])', T, T + 11001, '1');
    expect(many.status).toBe(400);
    expect(many.text).toBe('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
    const zero = await range(e.url, 'vector(1)', T, T + 10, '0');
    expect(zero.text).toBe('zero or negative query resolution step widths are not accepted. Try a positive integer');

    const series = await instant(e.url, 'count_over_time({app="web"} | logfmt [2m])', T + 120);
    expect(series.status).toBe(400);
    expect(series.text).toMatch(/^maximum number of series \(3\) reached for a single query/);

    const legacy = await get(e.url, '/api/prom/query', { query: 'count_over_time({app="web"}[1m])', start: String(T), end: String(T + 60) });
    expect(legacy.status).toBe(400);
    expect(legacy.text).toBe('legacy endpoints only support streams result type');
  });

  it('legacy /api/prom/query returns streams in the legacy body, with the regexp filter', async () => {
    const q = await get(e.url, '/api/prom/query', { query: '{pod="b"}', regexp: 'latency=60ms', start: String(T), end: String(T + 200), limit: '10' });
    expect(q.status).toBe(200);
    expect(q.body.streams).toEqual([{ labels: '{app="web", pod="b"}', entries: [{ ts: new Date((T + 120) * 1000).toISOString().replace('.000', ''), line: 'level=info latency=60ms' }] }]);
  });

  it('log queries honour interval: entries at least that far apart, across streams', async () => {
    const q = await get(e.url, '/loki/api/v1/query_range', { query: '{app="web"}', start: String(T), end: String(T + 200), direction: 'forward', interval: '25s' });
    const times = (q.body.data.result as Array<{ values: string[][] }>).flatMap((s) => s.values.map((v) => Number(BigInt(v[0]!) / 1_000_000_000n) - T)).sort((x, y) => x - y);
    expect(times).toEqual([10, 40, 70, 100]);
  });

  it('reads flushed chunks and memory together without counting an entry twice', async () => {
    const before = await instant(e.url, 'sum(count_over_time({app="web"}[5m]))', T + 300);
    expect((await fetch(`${e.url}/flush`, { method: 'POST' })).status).toBe(204);
    const after = await instant(e.url, 'sum(count_over_time({app="web"}[5m]))', T + 300);
    expect(before.body.data.result).toEqual([{ metric: {}, value: [T + 300, '18'] }]);
    expect(after.body.data.result).toEqual(before.body.data.result);
  });
});

describe('query_timeout', () => {
  it('answers 504 with Loki message when a query runs past query_timeout', async () => {
    const dir = tempDir();
    const e = await startEngine(testConfig(dir, `${LIMITS}  query_timeout: 1ms\n`));
    try {
      const values = Array.from({ length: 40_000 }, (_, i) => [ns(T + i / 100), `line ${i} with some padding to make it longer`]);
      expect((await pushJson(e.url, { streams: [{ stream: { app: 'big' }, values }] })).status).toBe(204);
      const q = await instant(e.url, 'sum(count_over_time({app="big"} |~ "padding.*longer" [1h]))', T + 400);
      expect(q.status).toBe(504);
      expect(q.text).toBe(
        'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed',
      );
    } finally {
      await e.stop();
      cleanup(dir);
    }
  });
});
