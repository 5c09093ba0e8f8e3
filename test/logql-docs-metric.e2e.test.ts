import { cleanup, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// Every example query of Loki's LogQL documentation about metric queries — "Metric queries" (range aggregations,
// offset, unwrap and its conversions, vector aggregations, vector(), approx_topk), the operators, functions and
// pipeline errors of the LogQL overview, and the metric examples of "Query examples" — run over HTTP against data
// shaped for each example, with Loki's exact results (values as Loki prints them). docs/logql-coverage.md maps each
// example to its test. Where the documentation's text is wrong, the test follows Loki and says so.

const T = 1_700_000_040; // seconds: instant queries run at T; data sits in the minutes before it
const ns = (sec: number, extra = 0): string => (BigInt(sec) * 1_000_000_000n + BigInt(extra)).toString();

const CONFIG = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  discover_log_levels: false
  max_query_series: 10000
`;

type Labels = Record<string, string>;
type Value = [Labels, string];

/** `n` copies of `line` spread over the `within` seconds before T (distinct nanoseconds, so none collapses). */
const spread = (n: number, line: string | ((i: number) => string), within = 290): Array<[string, string]> =>
  Array.from({ length: n }, (_, i) => [ns(T - 1 - (i % within), i), typeof line === 'string' ? line : line(i)]);
const at = (secBeforeT: number, line: string): [string, string] => [ns(T - secBeforeT), line];

const STREAMS: Array<{ stream: Labels; values: Array<[string, string]> }> = [
  // "Log range aggregations" and the vector aggregation example by level.
  {
    stream: { job: 'mysql', host: 'h1', level: 'error' },
    values: [
      at(10, '{"duration":"15s","msg":"error: deadlock"}'),
      at(20, '{"duration":"15s","msg":"error: deadlock"}'),
      at(30, '{"duration":"15s","msg":"error: deadlock"}'),
      at(40, '{"duration":"20s","msg":"error: timeout"}'),
      at(50, '{"duration":"5s","msg":"error: slow"}'),
      at(100, '{"duration":"30s","msg":"error: old"}'),
      at(400, '{"duration":"1s","msg":"error: older"}'),
    ],
  },
  {
    stream: { job: 'mysql', host: 'h2', level: 'info' },
    values: [
      ...[5, 15, 25, 35, 45, 55].map((s) => at(s, '{"duration":"11s","msg":"error: x"}')),
      at(200, '{"duration":"2s","msg":"info"}'),
      at(500, '{"duration":"2s","msg":"info"}'),
      at(550, '{"duration":"2s","msg":"info"}'),
    ],
  },
  // Unwrap conversions: Go durations and humanized byte sizes (the documentation's examples of each).
  { stream: { job: 'conv' }, values: [at(50, 'took=1m30s size="5 MiB"'), at(40, 'took=250ms size=3k'), at(30, 'took=2h size=1G')] },
  // Unwrapped range functions.
  { stream: { job: 'counter' }, values: [at(40, 'v=10'), at(30, 'v=20'), at(20, 'v=30'), at(10, 'v=40')] },
  // "Vector aggregation examples".
  { stream: { region: 'us-east1', name: 'a' }, values: spread(30, 'x') },
  { stream: { region: 'us-east1', name: 'b' }, values: spread(60, 'x') },
  { stream: { region: 'us-east1', name: 'c' }, values: spread(15, 'x') },
  { stream: { region: 'eu-west1', name: 'd' }, values: spread(90, 'x') },
  {
    stream: { job: 'nginx', region: 'us', pod: '1' },
    values: [
      at(2, '{"method":"GET","path":"/home"}'),
      at(4, '{"method":"GET","path":"/home"}'),
      at(5, '{"method":"POST","path":"/home"}'),
      at(6, '{"method":"GET","path":"/other"}'),
    ],
  },
  { stream: { job: 'nginx', region: 'us', pod: '2' }, values: [1, 2, 3, 4, 5, 6].map((s) => at(s, '{"method":"GET","path":"/home"}')) },
  { stream: { job: 'nginx', region: 'eu', pod: '3' }, values: [at(3, '{"method":"GET","path":"/home"}')] },
  // LogQL overview: binary operators, on / ignoring, comparisons.
  { stream: { app: 'foo', level: 'warn', machine: 'm1' }, values: spread(6, 'w', 58) },
  { stream: { app: 'foo', level: 'error', machine: 'm1' }, values: spread(3, 'e', 58) },
  { stream: { app: 'foo', level: 'error', machine: 'm2' }, values: spread(12, 'e', 58) },
  { stream: { app: 'bar', level: 'warn', machine: 'm1' }, values: spread(2, 'w', 58) },
  { stream: { foo: 'bar', pod: 'p1' }, values: spread(12, 'l', 58) },
  { stream: { foo: 'bar', pod: 'p2' }, values: spread(5, 'l', 58) },
  // "Many-to-one and one-to-many vector matches": 8/1/1 requests by status, and the cost example.
  {
    stream: { job: 'http-server' },
    values: [...spread(8, '{"app":"foo","status":"200"}'), ...spread(1, '{"app":"foo","status":"400"}'), ...spread(1, '{"app":"foo","status":"500"}')],
  },
  {
    stream: { job: 'events' },
    values: [
      ...spread(75, 'user=foo namespace=dev discarded=true'),
      ...spread(375, 'user=foo namespace=prod discarded=true'),
      ...spread(525, 'user=bar namespace=dev discarded=true'),
      ...spread(1500, 'user=bar namespace=prod discarded=true'),
      ...spread(40, 'user=bar namespace=prod discarded=false'),
    ],
  },
  {
    stream: { job: 'cost-calculator' },
    values: [at(60, 'user=foo organization=little-org cost=20'), at(30, 'user=foo organization=little-org cost=40'), at(30, 'user=bar organization=big-org cost=40')],
  },
  // label_replace().
  { stream: { job: 'api-server', service: 'a:c' }, values: [at(10, 'err 1'), at(20, 'err 2'), at(30, 'ok')] },
  // "Pipeline errors" and the unwrap examples of "Query examples".
  {
    stream: { container: 'ingress-nginx', service: 'hosted-grafana', cluster: 'c1' },
    values: [
      at(10, '{"response_latency_seconds":"0.5"}'),
      at(20, '{"response_latency_seconds":"1.5"}'),
      at(30, '{"response_latency_seconds":"abc"}'),
      at(40, 'not json'),
    ],
  },
  {
    stream: { cluster: 'ops-tools1', container: 'ingress-nginx' },
    values: [at(10, '{"path":"/a","request_time":"1"}'), at(20, '{"path":"/a","request_time":"3"}'), at(30, '{"path":"/b","request_time":"2"}'), at(40, 'not json')],
  },
  {
    stream: { cluster: 'ops-tools1', container: 'loki-dev' },
    values: [
      at(10, 'caller=metrics.go org_id=1 bytes_processed=100'),
      at(20, 'caller=metrics.go org_id=1 bytes_processed=250'),
      at(30, 'caller=metrics.go org_id=2 bytes_processed=7'),
      at(40, 'caller=other.go org_id=2 bytes_processed=1000'),
    ],
  },
];

describe('LogQL documentation: metric queries', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, CONFIG));
    const res = await pushJson(e.url, { streams: STREAMS });
    expect([res.status, await res.text()]).toEqual([204, '']);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  async function get(path: string, params: Record<string, string>): Promise<{ status: number; text: string; body: any }> {
    const res = await fetch(`${e.url}${path}?${new URLSearchParams(params)}`);
    const text = await res.text();
    return { status: res.status, text, body: res.status === 200 ? JSON.parse(text) : undefined };
  }
  /** An instant query at T: the vector as [labels, value] in Loki's order, or the scalar. */
  async function instant(query: string): Promise<Value[]> {
    const r = await get('/loki/api/v1/query', { query, time: String(T) });
    expect([query, r.status, r.status === 200 ? '' : r.text]).toEqual([query, 200, '']);
    if (r.body.data.resultType === 'scalar') return [[{ scalar: 'true' }, r.body.data.result[1]]];
    return r.body.data.result.map((s: { metric: Labels; value: [number, string] }) => {
      expect(s.value[0]).toBe(T);
      return [s.metric, s.value[1]];
    });
  }
  async function refused(query: string, range = false): Promise<[number, string]> {
    const r = range ? await get('/loki/api/v1/query_range', { query, start: String(T - 60), end: String(T), step: '30' }) : await get('/loki/api/v1/query', { query, time: String(T) });
    return [r.status, r.text];
  }

  describe('Metric queries: log range aggregations', () => {
    it('count_over_time({job="mysql"}[5m])', async () => {
      expect(await instant('count_over_time({job="mysql"}[5m])')).toEqual([
        [{ host: 'h1', job: 'mysql', level: 'error' }, '6'],
        [{ host: 'h2', job: 'mysql', level: 'info' }, '7'],
      ]);
    });

    it('sum by (host) (rate({job="mysql"} |= "error" != "timeout" | json | duration > 10s [1m])), instant and range', async () => {
      const q = 'sum by (host) (rate({job="mysql"} |= "error" != "timeout" | json | duration > 10s [1m]))';
      expect(await instant(q)).toEqual([
        [{ host: 'h1' }, '0.05'],
        [{ host: 'h2' }, '0.1'],
      ]);
      const r = await get('/loki/api/v1/query_range', { query: q, start: String(T - 60), end: String(T), step: '30' });
      expect(r.body.data).toMatchObject({
        resultType: 'matrix',
        result: [
          { metric: { host: 'h1' }, values: [[T - 60, String(1 / 60)], [T - 30, String(1 / 60)], [T, '0.05']] },
          { metric: { host: 'h2' }, values: [[T - 30, '0.05'], [T, '0.1']] },
        ],
      });
    });

    it('offset follows the range: count_over_time({job="mysql"}[5m] offset 5m) // GOOD; after the call // INVALID', async () => {
      expect(await instant('count_over_time({job="mysql"}[5m] offset 5m) // GOOD')).toEqual([
        [{ host: 'h1', job: 'mysql', level: 'error' }, '1'],
        [{ host: 'h2', job: 'mysql', level: 'info' }, '2'],
      ]);
      expect(await refused('count_over_time({job="mysql"}[5m]) offset 5m // INVALID')).toEqual([400, 'parse error at line 1, col 36: syntax error: unexpected offset']);
    });

    it('absent_over_time gives 1 only when the range is empty', async () => {
      expect(await instant('absent_over_time({job="mysql", host="h9"}[1m])')).toEqual([[{ host: 'h9', job: 'mysql' }, '1']]);
      expect(await instant('absent_over_time({job="mysql"}[1m])')).toEqual([]);
    });
  });

  describe('Metric queries: unwrapped range aggregations', () => {
    it('duration_seconds(label), duration(label) and bytes(label) convert Go durations and humanized sizes', async () => {
      expect(await instant('sum by (job) (sum_over_time({job="conv"} | logfmt | unwrap duration_seconds(took) [1m]))')).toEqual([[{ job: 'conv' }, '7290.25']]);
      expect(await instant('sum by (job) (sum_over_time({job="conv"} | logfmt | unwrap duration(took) [1m]))')).toEqual([[{ job: 'conv' }, '7290.25']]);
      // 5 MiB + 3k + 1G (go-humanize: k and G are powers of 1000).
      expect(await instant('sum by (job) (sum_over_time({job="conv"} | logfmt | unwrap bytes(size) [1m]))')).toEqual([[{ job: 'conv' }, '1005245880']]);
    });

    it('a value that does not convert fails the query unless an __error__ filter follows the unwrap', async () => {
      const [status, text] = await refused('sum_over_time({job="conv"} | logfmt | unwrap took [1m])');
      expect(status).toBe(400);
      expect(text).toMatch(/^pipeline error: 'SampleExtractionErr' for series: '\{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \\"/);
      expect(await instant('sum_over_time({job="conv"} | logfmt | unwrap took | __error__="" [1m])')).toEqual([]);
    });

    it('every unwrapped range function (the documentation’s list)', async () => {
      const u = '{job="counter"} | logfmt | unwrap v [1m]';
      const job = { job: 'counter' };
      const cases: Array<[string, string]> = [
        [`rate(${u})`, '1.6666666666666667'],
        // Loki's rate_counter: Prometheus' extrapolation, fed nanosecond timestamps where it expects milliseconds.
        [`rate_counter(${u})`, String((30 * ((30_000_000 + 60) / 30_000_000)) / 60)],
        [`sum_over_time(${u})`, '100'],
        [`avg_over_time(${u})`, '25'],
        [`max_over_time(${u})`, '40'],
        [`min_over_time(${u})`, '10'],
        [`first_over_time(${u})`, '10'],
        [`last_over_time(${u})`, '40'],
        [`stdvar_over_time(${u})`, '125'],
        [`stddev_over_time(${u})`, String(Math.sqrt(125))],
        [`quantile_over_time(0.5, ${u})`, '25'],
      ];
      for (const [q, v] of cases) expect([q, await instant(q)]).toEqual([q, [[job, v]]]);
      expect(await instant(`absent_over_time(${u})`)).toEqual([]);
      expect(await instant('absent_over_time({job="counter", x="y"} | logfmt | unwrap v [1m])')).toEqual([[{ job: 'counter', x: 'y' }, '1']]);
    });

    it('grouping is allowed except on sum_over_time, absent_over_time, rate and rate_counter', async () => {
      expect(await instant('max_over_time({job="conv"} | logfmt | unwrap duration(took) [1m]) by (job)')).toEqual([[{ job: 'conv' }, '7200']]);
      expect(await instant('avg_over_time({job="conv"} | logfmt | unwrap duration(took) [1m]) without (size)')).toEqual([[{ job: 'conv' }, '2430.0833333333335']]);
      for (const op of ['sum_over_time', 'absent_over_time', 'rate', 'rate_counter']) {
        expect(await refused(`${op}({job="conv"} | logfmt | unwrap duration(took) [1m]) by (job)`)).toEqual([400, `parse error : grouping not allowed for ${op} aggregation`]);
      }
    });
  });

  describe('Metric queries: built-in aggregation operators and functions', () => {
    it('topk(10,sum(rate({region="us-east1"}[5m])) by (name))', async () => {
      expect(await instant('topk(10,sum(rate({region="us-east1"}[5m])) by (name))')).toEqual([
        [{ name: 'a' }, '0.1'],
        [{ name: 'b' }, '0.2'],
        [{ name: 'c' }, '0.05'],
      ]);
      expect(await instant('topk(2,sum(rate({region="us-east1"}[5m])) by (name))')).toEqual([
        [{ name: 'a' }, '0.1'],
        [{ name: 'b' }, '0.2'],
      ]);
      expect(await instant('bottomk(1,sum(rate({region="us-east1"}[5m])) by (name))')).toEqual([[{ name: 'c' }, '0.05']]);
    });

    it('sort and sort_desc keep their order in an instant vector', async () => {
      const inner = 'sum by (name) (count_over_time({region="us-east1"}[5m]))';
      expect(await instant(`sort_desc(${inner})`)).toEqual([
        [{ name: 'b' }, '60'],
        [{ name: 'a' }, '30'],
        [{ name: 'c' }, '15'],
      ]);
      expect(await instant(`sort(${inner})`)).toEqual([
        [{ name: 'c' }, '15'],
        [{ name: 'a' }, '30'],
        [{ name: 'b' }, '60'],
      ]);
    });

    it('sum(count_over_time({job="mysql"}[5m])) by (level)', async () => {
      expect(await instant('sum(count_over_time({job="mysql"}[5m])) by (level)')).toEqual([
        [{ level: 'error' }, '6'],
        [{ level: 'info' }, '7'],
      ]);
    });

    it('avg(rate(({job="nginx"} |= "GET" | json | path="/home")[10s])) by (region)', async () => {
      expect(await instant('avg(rate(({job="nginx"} |= "GET" | json | path="/home")[10s])) by (region)')).toEqual([
        [{ region: 'eu' }, '0.1'],
        [{ region: 'us' }, '0.4'],
      ]);
    });

    it('sum(count_over_time({namespace="traefik"}[5m])) # will return nothing  or  vector(0) # will return 0', async () => {
      expect(await instant('sum(count_over_time({namespace="traefik"}[5m]))')).toEqual([]);
      expect(await instant('sum(count_over_time({namespace="traefik"}[5m])) # will return nothing\n  or\n vector(0) # will return 0')).toEqual([[{}, '0']]);
    });

    it('approx_topk(k, <vector expression>): instant queries only, no grouping', async () => {
      const inner = 'sum by (name) (count_over_time({region="us-east1"}[5m]))';
      expect(await instant(`approx_topk(2, ${inner})`)).toEqual([
        [{ name: 'a' }, '30'],
        [{ name: 'b' }, '60'],
      ]);
      // Loki fails a range query with a plain error: a 500 whose body is the message.
      expect(await refused(`approx_topk(2, ${inner})`, true)).toEqual([500, 'count min sketches are only supported on instant queries']);
      for (const q of [`approx_topk by (name) (2, ${inner})`, `approx_topk(2, ${inner}) by (name)`]) {
        expect(await refused(q)).toEqual([400, 'parse error : grouping not allowed for approx_topk aggregation']);
      }
      expect(await refused(`approx_topk(${inner})`)).toEqual([400, 'parse error : parameter required for operation approx_topk']);
    });
  });

  describe('LogQL overview: binary operators', () => {
    it('1 + 1 is a scalar; literals follow the order of operations', async () => {
      expect(await instant('1 + 1')).toEqual([[{ scalar: 'true' }, '2']]);
      expect(await instant('1 + 2 / 3')).toEqual([[{ scalar: 'true' }, '1.6666666666666665']]);
      expect(await instant('1 + ( 2 / 3 )')).toEqual([[{ scalar: 'true' }, '1.6666666666666665']]);
      expect(await instant('2 * 3 % 2')).toEqual([[{ scalar: 'true' }, '0']]);
      expect(await instant('(2 * 3) % 2')).toEqual([[{ scalar: 'true' }, '0']]);
      expect(await instant('1 >= 1')).toEqual([[{ scalar: 'true' }, '1']]);
    });

    it('sum(rate({app="foo"}[1m])) * 2', async () => {
      expect(await instant('sum(rate({app="foo"}[1m])) * 2')).toEqual([[{}, '0.7']]);
    });

    it('sum(rate({app="foo", level="warn"}[1m])) / sum(rate({app="foo", level="error"}[1m]))', async () => {
      expect(await instant('sum(rate({app="foo", level="warn"}[1m])) / sum(rate({app="foo", level="error"}[1m]))')).toEqual([[{}, '0.4']]);
    });

    it('rate({app=~"foo|bar"}[1m]) and rate({app="bar"}[1m]): effectively rate({app="bar"})', async () => {
      expect(await instant('rate({app=~"foo|bar"}[1m]) and rate({app="bar"}[1m])')).toEqual([[{ app: 'bar', level: 'warn', machine: 'm1' }, String(2 / 60)]]);
      expect(await instant('rate({app=~"foo|bar"}[1m]) unless rate({app="foo"}[1m])')).toEqual([[{ app: 'bar', level: 'warn', machine: 'm1' }, String(2 / 60)]]);
      expect(await instant('rate({app="bar"}[1m]) or rate({app="foo", machine="m2"}[1m])')).toEqual([
        [{ app: 'bar', level: 'warn', machine: 'm1' }, String(2 / 60)],
        [{ app: 'foo', level: 'error', machine: 'm2' }, '0.2'],
      ]);
    });

    it('count_over_time({foo="bar"}[1m]) > 10 filters; > bool 10 gives 0 or 1', async () => {
      expect(await instant('count_over_time({foo="bar"}[1m]) > 10')).toEqual([[{ foo: 'bar', pod: 'p1' }, '12']]);
      expect(await instant('count_over_time({foo="bar"}[1m]) > bool 10')).toEqual([
        [{ foo: 'bar', pod: 'p1' }, '1'],
        [{ foo: 'bar', pod: 'p2' }, '0'],
      ]);
    });

    it('sum without(app) (…{app="foo"}…) > sum without(app) (…{app="bar"}…), and its bool form', async () => {
      const foo = 'sum without(app) (count_over_time({app="foo"}[1m]))';
      const bar = 'sum without(app) (count_over_time({app="bar"}[1m]))';
      // Only {level="warn", machine="m1"} exists on both sides; unmatched elements are dropped, with bool too.
      expect(await instant(`${foo} > ${bar}`)).toEqual([[{ level: 'warn', machine: 'm1' }, '6']]);
      expect(await instant(`${foo} > bool ${bar}`)).toEqual([[{ level: 'warn', machine: 'm1' }, '1']]);
    });

    // The two on/ignoring examples of the documentation match several machines against one series: one-to-one
    // matching cannot do that, and Loki (like Prometheus) answers with a plain error (a 500). With group_left they
    // return what the documentation describes.
    it('ignoring(machine): max by(machine) (…) > bool ignoring(machine) avg(…)', async () => {
      const q = 'max by(machine) (count_over_time({app="foo"}[1m])) > bool ignoring(machine) avg(count_over_time({app="foo"}[1m]))';
      expect(await refused(q)).toEqual([500, 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)']);
      // One-to-one matching drops the ignored labels from the result; many-to-one keeps the "many" side's labels.
      expect(await instant(q.replace('{app="foo"}[1m])) >', '{app="foo", machine="m2"}[1m])) >'))).toEqual([[{}, '1']]);
      expect(await instant(q.replace('ignoring(machine)', 'ignoring(machine) group_left'))).toEqual([
        [{ machine: 'm1' }, '0'],
        [{ machine: 'm2' }, '1'],
      ]);
    });

    it('on(): sum by(machine) (…) / on() sum(…)', async () => {
      const q = 'sum by(machine) (count_over_time({app="foo"}[1m])) / on() sum(count_over_time({app="foo"}[1m]))';
      expect(await refused(q)).toEqual([500, 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)']);
      expect(await instant(q.replace('on()', 'on() group_left'))).toEqual([
        [{ machine: 'm1' }, String(9 / 21)],
        [{ machine: 'm2' }, String(12 / 21)],
      ]);
    });

    it('/ on (app) group_left: requests by app and status as a share of all requests (0.8, 0.1, 0.1)', async () => {
      const q =
        'sum by (app, status) (\n  rate(\n    {job="http-server"}\n      | json\n      [5m]\n  )\n)\n/ on (app) group_left\nsum by (app) (\n  rate(\n    {job="http-server"}\n      | json\n      [5m]\n  )\n)';
      expect(await instant(q)).toEqual([
        [{ app: 'foo', status: '200' }, '0.8'],
        [{ app: 'foo', status: '400' }, '0.1'],
        [{ app: 'foo', status: '500' }, '0.1'],
      ]);
    });

    it('* on (user) group_left(organization): cost of discarded events (10, 50, 70, 200)', async () => {
      const q =
        'sum by (user, namespace) (\n  rate(\n    {job="events"}\n      | logfmt\n      | discarded="true"\n      [5m]\n  )\n)\n* on (user) group_left(organization)\nmax_over_time(\n  {job="cost-calculator"}\n    | logfmt\n    | unwrap cost\n    [5m]\n) by (user, organization)';
      expect(await instant(q)).toEqual([
        [{ namespace: 'dev', organization: 'big-org', user: 'bar' }, '70'],
        [{ namespace: 'dev', organization: 'little-org', user: 'foo' }, '10'],
        [{ namespace: 'prod', organization: 'big-org', user: 'bar' }, '200'],
        [{ namespace: 'prod', organization: 'little-org', user: 'foo' }, '50'],
      ]);
    });
  });

  describe('LogQL overview: functions and pipeline errors', () => {
    it('label_replace(rate({job="api-server",service="a:c"} |= "err" [1m]), "foo", "$1", "service", "(.*):.*")', async () => {
      expect(await instant('label_replace(rate({job="api-server",service="a:c"} |= "err" [1m]), "foo", "$1",\n  "service", "(.*):.*")')).toEqual([
        [{ foo: 'a', job: 'api-server', service: 'a:c' }, String(2 / 60)],
      ]);
    });

    it('quantile_over_time(0.99, … | json | unwrap response_latency_seconds | __error__=""[1m]) by (cluster)', async () => {
      const q =
        'quantile_over_time(\n\t0.99,\n\t{container="ingress-nginx",service="hosted-grafana"}\n\t| json\n\t| unwrap response_latency_seconds\n\t| __error__=""[1m]\n\t) by (cluster)';
      expect(await instant(q)).toEqual([[{ cluster: 'c1' }, String(0.5 * (1 - 0.99) + 1.5 * 0.99)]]);
    });

    it('metric queries cannot contain errors: Loki returns an error', async () => {
      const [status, text] = await refused('quantile_over_time(0.99, {container="ingress-nginx",service="hosted-grafana"} | json | unwrap response_latency_seconds [1m]) by (cluster)');
      expect(status).toBe(400);
      expect(text).toMatch(/^pipeline error: '(JSONParserErr|SampleExtractionErr)' for series: /);
    });
  });

  describe('Query examples: metric queries and unwrap', () => {
    it('the per-host rate of non-timeout errors, written over several lines', async () => {
      expect(await instant('sum by (host) (rate({job="mysql"}\n    |= "error" != "timeout"\n    | json\n    | duration > 10s [1m]))')).toEqual([
        [{ host: 'h1' }, '0.05'],
        [{ host: 'h2' }, '0.1'],
      ]);
    });

    it('p99 of request_time by path, errors filtered before the unwrap', async () => {
      const q = 'quantile_over_time(0.99,\n  {cluster="ops-tools1",container="ingress-nginx"}\n    | json\n    | __error__ = ""\n    | unwrap request_time [1m]) by (path)';
      expect(await instant(q)).toEqual([
        [{ path: '/a' }, String(1 * (1 - 0.99) + 3 * 0.99)],
        [{ path: '/b' }, '2'],
      ]);
    });

    it('bytes processed per organization ID', async () => {
      const q = 'sum by (org_id) (\n  sum_over_time(\n  {cluster="ops-tools1",container="loki-dev"}\n      |= "metrics.go"\n      | logfmt\n      | unwrap bytes_processed [1m])\n  )';
      expect(await instant(q)).toEqual([
        [{ org_id: '1' }, '350'],
        [{ org_id: '2' }, '7'],
      ]);
    });
  });
});
