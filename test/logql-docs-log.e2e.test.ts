import { cleanup, pushJson, startEngine, tempDir, testConfig, type RunningEngine } from './support/engine.js';

// Every example query of Loki's LogQL documentation about log queries — "Log queries" (stream selectors, line filters,
// label filters, parsers, line_format, label_format, drop, keep, decolorize), "Matching IP addresses", the log
// examples of "Query examples", and the pattern filters, comments and pipeline errors of the LogQL overview — run
// over HTTP against log lines shaped like the documentation's, with the exact lines and labels Loki returns.
// docs/logql-coverage.md maps each example to its test. Where the documentation's own text is wrong (a typo, or a
// claim Loki's parser does not implement), the test follows Loki and says so.

const T = 1_700_000_000; // seconds
const ns = (sec: number): string => (BigInt(sec) * 1_000_000_000n).toString();

const CONFIG = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
  discover_log_levels: false
  max_entries_limit_per_query: 5000
`;

type Labels = Record<string, string>;
type Stream = { stream: Labels; lines: string[] };

// Entries of each stream are one second apart, streams one after the other, in the order listed here.
const STREAMS: Stream[] = [
  // "Log queries", introduction.
  {
    stream: { container: 'query-frontend', namespace: 'loki-dev' },
    lines: [
      'level=info caller=metrics.go:81 duration=12.5s throughput_mb=120 query="q1"',
      'level=info caller=metrics.go:81 duration=3s throughput_mb=10 query="q2"',
      'level=info caller=metrics.go:81 duration=15s throughput_mb=900 query="q3"',
      'level=info caller=handler.go:10 duration=20s throughput_mb=1 query="q4"',
      'level=info caller=metrics.go:81 throughput_mb=1 query="q5"',
    ],
  },
  // "Log stream selector".
  { stream: { app: 'mysql', name: 'mysql-backup' }, lines: ['backup done'] },
  { stream: { app: 'mysql', name: 'mysql-1' }, lines: ['replica up'] },
  { stream: { app: 'mysql', name: 'mysql' }, lines: ['primary up'] },
  { stream: { app: 'mysql', name: 'db\nmysql' }, lines: ['a label value with a newline'] },
  // "Line filter expression".
  {
    stream: { job: 'mysql' },
    lines: [
      '{"level":"error","err":"connection refused","message":"db error: connection refused"}',
      '{"level":"error","err":"lock timeout","message":"db error: timeout waiting for lock"}',
      '{"level":"info","message":"all good"}',
    ],
  },
  { stream: { instance: 'kafka-1', name: 'kafka' }, lines: ['tsdb-ops-1.example.io:2003 connected'] },
  { stream: { instance: 'kafka-2', name: 'kafka' }, lines: ['kafka.server:type=ReplicaManager metrics', 'broker 2 ok'] },
  { stream: { instance: 'kafka-3', name: 'kafka' }, lines: ['broker 3 ok via tsdb-ops.io:2003'] },
  { stream: { name: 'cassandra' }, lines: ['error=ReadTimeout on node 3', 'error= none', 'all fine'] },
  // "Removing color codes" and the formatting example of "Query examples" (the documentation writes the escape
  // without its final `m`: Loki's ANSI expression then takes `h` as the final byte).
  {
    stream: { job: 'example' },
    lines: ['[2022-11-04 22:17:57.811] \u001b[0;32mhttp\u001b[0m: GET /_health (0 ms) 204', '[2022-11-04 22:17:57.811] \u001b[0;32http\u001b[0m: GET /_health (0 ms) 204'],
  },
  // "Label filter expression".
  {
    stream: { job: 'http' },
    lines: [
      'method=GET duration=25ms size=10KB status=200 bytes_consumed=1MB',
      'method=POST duration=30ms size=50KB status=500 bytes_consumed=30MB',
      'method=GET duration=5ms size=30KB status=201 bytes_consumed=5MB',
      'method=PUT duration=10ms size=20KB status=404 bytes_consumed=21MB',
      'method=GET duration=2m size=25MB status=200 bytes_consumed=25MB',
      'method=GET duration=90s size=1KB status=200',
      'method=201 duration=50ms size=1KB status=0',
    ],
  },
  // "Parser expression": JSON (one line holding the documentation's document), logfmt, pattern, regexp, unpack.
  {
    stream: { job: 'json' },
    lines: [
      '{"protocol": "HTTP/2.0", "servers": ["129.0.1.1","10.2.1.3"], "request": {"time": "6.032", "method": "GET", "host": "foo.grafana.net", "size": "55", "headers": {"Accept": "*/*", "User-Agent": "curl/7.68.0"}}, "response": {"status": 401, "size": "228", "latency_seconds": "6.031"}}',
      '{"a.b": {"c": "d"}, "e": "f"}',
    ],
  },
  {
    stream: { job: 'logfmt' },
    lines: ['at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" service=8ms status=200', 'key=value foo=bar=buzz host=h1', 'standalone host=h2'],
  },
  {
    stream: { job: 'nginx' },
    lines: [
      '0.191.12.2 - - [10/Jun/2021:09:14:29 +0000] "GET /api/plugins/versioncheck HTTP/1.1" 200 2 "-" "Go-http-client/2.0" "13.76.247.102, 34.120.177.193" "TLSv1.2" "US" ""',
      'level=debug ts=2021-06-10T09:24:13.472094048Z caller=logging.go:66 traceID=0568b66ad2d9294c msg="POST /loki/api/v1/push (204) 16.652862ms"',
    ],
  },
  { stream: { job: 'regexp' }, lines: ['POST /api/prom/api/v1/query_range (200) 1.5s'] },
  { stream: { job: 'packed' }, lines: ['{"container":"myapp","pod":"pod-3223f","_entry":"original log message"}'] },
  // "Line format expression" and "Labels format expression".
  { stream: { container: 'frontend' }, lines: ['query="sum(up)" duration=2s ip=1.1.1.1 status=200', 'ip=1.1.1.1 status=200 duration=3000'] },
  // "Drop Labels expression" and "Keep Labels expression".
  {
    stream: { job: 'varlogs' },
    lines: [
      '{"level": "info", "method": "GET", "path": "/", "host": "grafana.net", "status": "200"}',
      '{"level": "info", "method": "POST", "path": "/", "host": "grafana.net", "status": "200"}',
      '{"app": "some-api-service", "level": "info", "method": "GET", "path": "/", "host": "grafana.net", "status": "200"}',
      '{"app": "other-service", "level": "info", "method": "GET", "path": "/", "host": "grafana.net", "status": "200"}',
      'INFO GET / loki.net 200',
    ],
  },
  // "Matching IP addresses".
  {
    stream: { job_name: 'myapp' },
    lines: [
      '3.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)"',
      '80.91.33.133 - - [17/May/2015:08:05:14 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.16)"',
      '46.4.66.76 - - [17/May/2015:08:05:45 +0000] "GET /downloads/product_1 HTTP/1.1" 404 318 "-" "Debian APT-HTTP/1.3 (1.0.1ubuntu2)"',
      '93.180.71.3 - - [17/May/2015:08:05:26 +0000] "GET /downloads/product_1 HTTP/1.1" 404 324 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)"',
      'addr=192.168.4.2 remote_addr=2001:db8::5 level=error',
      'addr=192.168.4.10 remote_addr=2001:db8::9 level=error',
      'addr=10.10.15.7 remote_addr=::1 level=info',
      'addr=192.169.0.1 remote_addr=2001:db8::1 level=error',
    ],
  },
  // LogQL overview: pattern match filters, comments, pipeline errors.
  {
    stream: { service_name: 'distributor' },
    lines: [
      'ts=2024-04-05T08:40:13.585911094Z caller=http.go:194 level=debug traceID=23e54a271db607cc orgID=3648 msg="POST /push.v1.PusherService/Push (200) 12.684035ms"',
      'ts=2024-04-05T08:41:06.551403339Z caller=http.go:194 level=debug traceID=54325a1a15b42e2d orgID=1218 msg="POST /push.v1.PusherService/Push (200) 1.664285ms"',
      'ts=2024-04-05T08:41:06.506524777Z caller=grpc.go:12 level=debug traceID=69d4271da1595bcb orgID=1218 msg="GET /ready (200) 1.783818ms"',
    ],
  },
  { stream: { app: 'foo' }, lines: ['{"bar":"baz"}', '{"bar":"qux"}', 'not json'] },
  { stream: { cluster: 'ops-tools1', container: 'ingress-nginx' }, lines: ['{"status":200}', 'plain text'] },
  // "Template functions": the query examples.
  {
    stream: { job: 'loki/querier', createDate: '2020-01-01' },
    lines: ['msg="finish in prometheus" queries="[{\\"query\\":\\"sum(up)\\"},{\\"query\\":\\"rate(x)\\"}]"'],
  },
  { stream: { job: 'loki/querier', createDate: '2999-01-01' }, lines: ['msg="finish in prometheus" queries="[]"'] },
  { stream: { job: 'loki/querier' }, lines: ['msg="other"'] },
  { stream: { job: 'access_log' }, lines: ['{"http":{"request":{"headers":{"x_forwarded_for":"10.1.2.3"}}}}', '{"http":{"status":200}}'] },
  { stream: { job: 'epoch' }, lines: ['{"from": "1679577215","to":"1679587215","message":"some message"}'] },
  { stream: { job: 'xyzlog' }, lines: ['aXYZbXYZc', 'none'] },
  // "Query examples": security (Linux /var/log/secure), multiple parsers, log line formatting.
  {
    stream: { job: 'security' },
    lines: [
      'Jan 10 10:00:01 host sshd[123]: Invalid user admin from 10.0.0.5 port 22',
      'Jan 10 10:00:02 host sshd[124]: pam_unix(sshd:session): session opened for user bob by (uid=0)',
      'Jan 10 10:00:03 host sudo: pam_unix(sudo:session): session opened for user root by bob(uid=0)',
      'Jan 10 10:00:04 host sshd[125]: pam_unix(sshd:session): session opened for user grafana_com by (uid=0)',
    ],
  },
  {
    stream: { job: 'loki-ops/query-frontend' },
    lines: ['level=debug ts=2020-10-02T10:10:42.092268913Z caller=logging.go:66 traceID=a9d4d8a928d8db1 msg="POST /api/prom/api/v1/query_range (200) 1.5s"'],
  },
  {
    stream: { cluster: 'ops-tools1', name: 'querier', namespace: 'loki-dev' },
    lines: [
      'level=info ts=2020-10-23T20:32:18.094668233Z caller=metrics.go:81 org_id=29 traceID=1980d41501b57b68 latency=fast query="{cluster=\\"ops-tools1\\", job=\\"loki-ops/query-frontend\\"} |= \\"query_range\\"" query_type=filter range_type=range length=15m0s step=7s duration=650.22401ms status=200 throughput_mb=1.529717 total_bytes_mb=0.994659',
      'level=info ts=2020-10-23T20:32:18.068866235Z caller=metrics.go:81 org_id=29 traceID=1980d41501b57b68 latency=fast query="{cluster=\\"ops-tools1\\", job=\\"loki-ops/query-frontend\\"} |= \\"query_range\\"" query_type=filter range_type=range length=15m0s step=7s duration=624.008132ms status=200 throughput_mb=0.693449 total_bytes_mb=0.432718',
      'level=info ts=2020-10-23T20:32:19.000000000Z caller=metrics.go:81 org_id=29 traceID=aa latency=fast query_type=limited duration=1ms status=200',
    ],
  },
];

describe('LogQL documentation: log queries', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, CONFIG));
    let sec = T;
    const streams = STREAMS.map((s) => ({ stream: s.stream, values: s.lines.map((l) => [ns(sec++), l]) }));
    const res = await pushJson(e.url, { streams });
    expect([res.status, await res.text()]).toEqual([204, '']);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  async function run(query: string): Promise<{ status: number; text: string; body: any }> {
    const p = new URLSearchParams({ query, start: ns(T - 1), end: ns(T + 1000), direction: 'forward', limit: '5000' });
    const res = await fetch(`${e.url}/loki/api/v1/query_range?${p}`);
    const text = await res.text();
    return { status: res.status, text, body: res.status === 200 ? JSON.parse(text) : undefined };
  }

  /** The entries a log query returns, oldest first, each as [labels, line]. */
  async function logs(query: string): Promise<Array<[Labels, string]>> {
    const r = await run(query);
    expect([query, r.status, r.status === 200 ? '' : r.text]).toEqual([query, 200, '']);
    const out: Array<[bigint, Labels, string]> = [];
    for (const s of r.body.data.result) for (const [ts, line] of s.values) out.push([BigInt(ts), s.stream, line]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, l, line]) => [l, line]);
  }
  const lines = async (query: string): Promise<string[]> => (await logs(query)).map(([, l]) => l);
  const lineOf = (stream: Labels, i: number): string => STREAMS.find((s) => JSON.stringify(s.stream) === JSON.stringify(stream))!.lines[i]!;

  describe('Log queries: introduction', () => {
    it('{container="query-frontend",namespace="loki-dev"} |= "metrics.go" | logfmt | duration > 10s and throughput_mb < 500', async () => {
      // The line without a duration label is filtered out by the duration filter (Loki drops a missing label).
      expect(await logs('{container="query-frontend",namespace="loki-dev"} |= "metrics.go" | logfmt | duration > 10s and throughput_mb < 500')).toEqual([
        [
          { caller: 'metrics.go:81', container: 'query-frontend', duration: '12.5s', level: 'info', namespace: 'loki-dev', query: 'q1', throughput_mb: '120' },
          STREAMS[0]!.lines[0]!,
        ],
      ]);
    });

    it('backticks quote raw strings: `\\w+` is the same as "\\\\w+"', async () => {
      expect(await lines('{name="cassandra"} |~ `error=\\w+`')).toEqual(await lines('{name="cassandra"} |~ "error=\\\\w+"'));
    });
  });

  describe('Log stream selector', () => {
    it('{app="mysql",name="mysql-backup"}', async () => {
      expect(await logs('{app="mysql",name="mysql-backup"}')).toEqual([[{ app: 'mysql', name: 'mysql-backup' }, 'backup done']]);
    });

    it('{name =~ "mysql.+"} is anchored', async () => {
      expect(await lines('{name =~ "mysql.+"}')).toEqual(['backup done', 'replica up']);
    });

    it('{name !~ "mysql.+"} and {name !~ `mysql-\\d+`} alone match empty values: Loki refuses them', async () => {
      const msg =
        'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';
      for (const q of ['{name !~ "mysql.+"}', '{name !~ `mysql-\\d+`}']) expect([(await run(q)).status, (await run(q)).text]).toEqual([400, msg]);
      // With a selecting matcher they exclude as documented.
      expect(await lines('{app="mysql", name !~ "mysql.+"}')).toEqual(['primary up', 'a label value with a newline']);
      expect(await lines('{app="mysql", name !~ `mysql-\\d+`}')).toEqual(['backup done', 'primary up', 'a label value with a newline']);
    });

    it('regex matchers and newlines: all three examples match a value with a newline', async () => {
      // The documentation says `.` does not match a newline here; Loki's matchers are Prometheus', which compile the
      // regex with . matching \n (`^(?s:…)$`), so `.*mysql.*` matches too. It also omits the closing quote of the last
      // two examples.
      expect(await lines('{name =~ ".*mysql.*"}')).toEqual(['backup done', 'replica up', 'primary up', 'a label value with a newline']);
      expect(await lines('{name =~ "(?s).*mysql.*"}')).toEqual(['backup done', 'replica up', 'primary up', 'a label value with a newline']);
      expect(await lines('{name =~ "[\\\\S\\\\s]*mysql[\\\\S\\\\s]*"}')).toEqual(['backup done', 'replica up', 'primary up', 'a label value with a newline']);
    });
  });

  describe('Line filter expression', () => {
    const job = { job: 'mysql' };

    it('{job="mysql"} |= "error"', async () => {
      expect(await logs('{job="mysql"} |= "error"')).toEqual([
        [job, lineOf(job, 0)],
        [job, lineOf(job, 1)],
      ]);
    });

    it('{instance=~"kafka-[23]",name="kafka"} != "kafka.server:type=ReplicaManager"', async () => {
      expect(await logs('{instance=~"kafka-[23]",name="kafka"} != "kafka.server:type=ReplicaManager"')).toEqual([
        [{ instance: 'kafka-2', name: 'kafka' }, 'broker 2 ok'],
        [{ instance: 'kafka-3', name: 'kafka' }, 'broker 3 ok via tsdb-ops.io:2003'],
      ]);
    });

    it('{name="kafka"} |~ "tsdb-ops.*io:2003"', async () => {
      expect(await lines('{name="kafka"} |~ "tsdb-ops.*io:2003"')).toEqual(['tsdb-ops-1.example.io:2003 connected', 'broker 3 ok via tsdb-ops.io:2003']);
    });

    it('{name="cassandra"} |~  `error=\\w+`', async () => {
      expect(await logs('{name="cassandra"} |~  `error=\\w+`')).toEqual([[{ name: 'cassandra' }, 'error=ReadTimeout on node 3']]);
    });

    it('{job="mysql"} |= "error" != "timeout": chained filters all apply', async () => {
      expect(await lines('{job="mysql"} |= "error" != "timeout"')).toEqual([lineOf(job, 0)]);
    });

    it('matching is case-sensitive unless the regex starts with (?i)', async () => {
      expect(await lines('{job="mysql"} |= "ERROR"')).toEqual([]);
      expect(await lines('{job="mysql"} |~ "(?i)ERROR"')).toEqual([lineOf(job, 0), lineOf(job, 1)]);
    });

    it('{job="mysql"} |= "error" | json | line_format "{{.err}}" and the filter placed after line_format', async () => {
      expect(await logs('{job="mysql"} |= "error" | json | line_format "{{.err}}"')).toEqual([
        [{ err: 'connection refused', job: 'mysql', level: 'error', message: 'db error: connection refused' }, 'connection refused'],
        [{ err: 'lock timeout', job: 'mysql', level: 'error', message: 'db error: timeout waiting for lock' }, 'lock timeout'],
      ]);
      // A line filter after line_format filters the formatted line.
      expect(await lines('{job="mysql"} | json | line_format "{{.message}}" |= "error"')).toEqual(['db error: connection refused', 'db error: timeout waiting for lock']);
    });
  });

  describe('Removing color codes', () => {
    it('{job="example"} | decolorize', async () => {
      expect(await logs('{job="example"} | decolorize')).toEqual([
        [{ job: 'example' }, '[2022-11-04 22:17:57.811] http: GET /_health (0 ms) 204'],
        [{ job: 'example' }, '[2022-11-04 22:17:57.811] ttp: GET /_health (0 ms) 204'],
      ]);
    });
  });

  describe('Label filter expression', () => {
    const http = (i: number): string => lineOf({ job: 'http' }, i);

    it('logfmt | duration > 1m and bytes_consumed > 20MB', async () => {
      // The 90s line has no bytes_consumed label: filtered out.
      expect(await lines('{job="http"} | logfmt | duration > 1m and bytes_consumed > 20MB')).toEqual([http(4)]);
    });

    it('the four spellings of `and` (and, |, comma, space); or binds looser than and, as in Loki’s grammar', async () => {
      // The documentation calls the four equivalent and says predicates evaluate left to right. Loki's grammar gives
      // `and` (and comma and juxtaposition) precedence over `or`, so only the `|` form is (a or b) and c: they differ on
      // the line whose method matches "2..".
      const orAnd = [http(0), http(1), http(3), http(4), http(5), http(6)];
      expect(await lines('{job="http"} | logfmt | duration >= 20ms or size == 20KB and method!~"2.."')).toEqual(orAnd);
      expect(await lines('{job="http"} | logfmt | duration >= 20ms or size == 20KB , method!~"2.."')).toEqual(orAnd);
      expect(await lines('{job="http"} | logfmt | duration >= 20ms or size == 20KB  method!~"2.."')).toEqual(orAnd);
      expect(await lines('{job="http"} | logfmt | duration >= 20ms or size == 20KB | method!~"2.."')).toEqual([http(0), http(1), http(3), http(4), http(5)]);
    });

    it('parentheses force precedence: a or b and c is a or (b and c)', async () => {
      const q = (f: string) => lines(`{job="http"} | logfmt | ${f}`);
      const aOrBandC = [http(0), http(1), http(4), http(5), http(6)];
      expect(await q('duration >= 20ms or method="GET" and size <= 20KB')).toEqual(aOrBandC);
      expect(await q('duration >= 20ms or (method="GET" and size <= 20KB)')).toEqual(aOrBandC);
      expect(await q('((duration >= 20ms or method="GET") and size <= 20KB)')).toEqual([http(0), http(5), http(6)]);
    });

    it('a value that does not convert keeps the line and adds __error__', async () => {
      expect(await logs('{job="http"} | logfmt | method > 10 | __error__!=""')).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => {
          const [method] = /method=(\S+)/.exec(http(i))!.slice(1);
          return [
            {
              __error__: 'LabelFilterErr',
              __error_details__: `strconv.ParseFloat: parsing ${JSON.stringify(method)}: invalid syntax`,
              ...Object.fromEntries(http(i).split(' ').map((kv) => kv.split('='))),
              job: 'http',
            },
            http(i),
          ] as [Labels, string];
        }),
      );
      // method=201 converts and passes.
      expect(await lines('{job="http"} | logfmt | method > 10 | __error__=""')).toEqual([http(6)]);
    });
  });

  describe('Parser expression', () => {
    const json = { job: 'json' };

    it('| json extracts every property, flattening with _ and skipping arrays', async () => {
      expect(await logs('{job="json"} | json | protocol != ""')).toEqual([
        [
          {
            job: 'json',
            protocol: 'HTTP/2.0',
            request_headers_Accept: '*/*',
            request_headers_User_Agent: 'curl/7.68.0',
            request_host: 'foo.grafana.net',
            request_method: 'GET',
            request_size: '55',
            request_time: '6.032',
            response_latency_seconds: '6.031',
            response_size: '228',
            response_status: '401',
          },
          lineOf(json, 0),
        ],
      ]);
    });

    it('label keys are sanitized: { "a.b": {c: "d"}, e: "f" } gives a_b_c and e', async () => {
      expect(await logs('{job="json"} | json | e != ""')).toEqual([[{ a_b_c: 'd', e: 'f', job: 'json' }, lineOf(json, 1)]]);
    });

    it('| json first_server="servers[0]", ua="request.headers[\\"User-Agent\\"]"', async () => {
      expect(await logs('{job="json"} | json first_server="servers[0]", ua="request.headers[\\"User-Agent\\"]" | first_server != ""')).toEqual([
        [{ first_server: '129.0.1.1', job: 'json', ua: 'curl/7.68.0' }, lineOf(json, 0)],
      ]);
    });

    it('| json server_list="servers", headers="request.headers" keeps arrays and objects as JSON', async () => {
      expect(await logs('{job="json"} | json server_list="servers", headers="request.headers" | server_list != ""')).toEqual([
        [{ headers: '{"Accept": "*/*", "User-Agent": "curl/7.68.0"}', job: 'json', server_list: '["129.0.1.1","10.2.1.3"]' }, lineOf(json, 0)],
      ]);
    });

    it('| json servers is | json servers="servers"', async () => {
      const a = await logs('{job="json"} | json servers | servers != ""');
      expect(a).toEqual([[{ job: 'json', servers: '["129.0.1.1","10.2.1.3"]' }, lineOf(json, 0)]]);
      expect(await logs('{job="json"} | json servers="servers" | servers != ""')).toEqual(a);
    });

    it('| logfmt extracts every key; | logfmt host, fwd_ip="fwd" only those', async () => {
      const line = lineOf({ job: 'logfmt' }, 0);
      expect(await logs('{job="logfmt"} | logfmt | at="info"')).toEqual([
        [{ at: 'info', fwd: '124.133.124.161', host: 'grafana.net', job: 'logfmt', method: 'GET', path: '/', service: '8ms', status: '200' }, line],
      ]);
      expect(await logs('{job="logfmt"} | logfmt host, fwd_ip="fwd" | fwd_ip != ""')).toEqual([[{ fwd_ip: '124.133.124.161', host: 'grafana.net', job: 'logfmt' }, line]]);
    });

    it('logfmt --strict stops at a malformed pair; without it the pair is skipped; --keep-empty keeps standalone keys', async () => {
      const bad = lineOf({ job: 'logfmt' }, 1);
      expect(await logs('{job="logfmt"} | logfmt | key="value"')).toEqual([[{ host: 'h1', job: 'logfmt', key: 'value' }, bad]]);
      expect(await logs('{job="logfmt"} | logfmt --strict | key="value"')).toEqual([
        [{ __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 18 : unexpected '='", job: 'logfmt', key: 'value' }, bad],
      ]);
      expect(await logs('{job="logfmt"} | logfmt --strict host, fwd_ip="fwd" | host != ""')).toEqual([
        [{ fwd_ip: '124.133.124.161', host: 'grafana.net', job: 'logfmt' }, lineOf({ job: 'logfmt' }, 0)],
        // A requested key the line lacks is an empty label, as in Loki.
        [{ fwd_ip: '', host: 'h2', job: 'logfmt' }, lineOf({ job: 'logfmt' }, 2)],
      ]);
      expect(await logs('{job="logfmt"} | logfmt --keep-empty | host="h2"')).toEqual([[{ host: 'h2', job: 'logfmt', standalone: '' }, lineOf({ job: 'logfmt' }, 2)]]);
      expect(await logs('{job="logfmt"} | logfmt --keep-empty --strict host | host="h2"')).toEqual([[{ host: 'h2', job: 'logfmt' }, lineOf({ job: 'logfmt' }, 2)]]);
    });

    it('| pattern on the NGINX line of the documentation', async () => {
      expect(await logs('{job="nginx"} | pattern `<ip> - - <_> "<method> <uri> <_>" <status> <size> <_> "<agent>" <_>` | method != ""')).toEqual([
        [
          { agent: 'Go-http-client/2.0', ip: '0.191.12.2', job: 'nginx', method: 'GET', size: '2', status: '200', uri: '/api/plugins/versioncheck' },
          lineOf({ job: 'nginx' }, 0),
        ],
      ]);
    });

    it('| pattern `<_> msg="<method> <path> (<status>) <latency>"`: <_> at the start unanchors it', async () => {
      expect(await logs('{job="nginx"} | pattern `<_> msg="<method> <path> (<status>) <latency>"` | latency != ""')).toEqual([
        [{ job: 'nginx', latency: '16.652862ms', method: 'POST', path: '/loki/api/v1/push', status: '204' }, lineOf({ job: 'nginx' }, 1)],
      ]);
    });

    it('invalid patterns: no named capture, or two consecutive captures', async () => {
      expect((await run('{job="nginx"} | pattern `<_> foo`')).text).toBe('parse error : invalid pattern parser: at least one capture is required');
      expect((await run('{job="nginx"} | pattern `<a><b>`')).text).toBe('parse error : invalid pattern parser: found consecutive capture: invalid expression');
    });

    it('| regexp "(?P<method>\\\\w+) (?P<path>[\\\\w|/]+) \\\\((?P<status>\\\\d+?)\\\\) (?P<duration>.*)"', async () => {
      expect(await logs('{job="regexp"} | regexp "(?P<method>\\\\w+) (?P<path>[\\\\w|/]+) \\\\((?P<status>\\\\d+?)\\\\) (?P<duration>.*)"')).toEqual([
        [{ duration: '1.5s', job: 'regexp', method: 'POST', path: '/api/prom/api/v1/query_range', status: '200' }, 'POST /api/prom/api/v1/query_range (200) 1.5s'],
      ]);
    });

    it('| unpack extracts the packed labels and replaces the line with _entry', async () => {
      expect(await logs('{job="packed"} | unpack')).toEqual([[{ container: 'myapp', job: 'packed', pod: 'pod-3223f' }, 'original log message']]);
    });
  });

  describe('Line format and labels format expressions', () => {
    const fe = { container: 'frontend' };

    it('{container="frontend"} | logfmt | line_format "{{.query}} {{.duration}}"', async () => {
      expect(await lines('{container="frontend"} | logfmt | line_format "{{.query}} {{.duration}}"')).toEqual(['sum(up) 2s', ' 3000']);
    });

    it('line_format "{{.ip}} {{.status}} {{div .duration 1000}}" gives 1.1.1.1 200 3', async () => {
      expect(await logs('{container="frontend"} | logfmt | query="" | line_format "{{.ip}} {{.status}} {{div .duration 1000}}"')).toEqual([
        [{ container: 'frontend', duration: '3000', ip: '1.1.1.1', status: '200' }, '1.1.1.1 200 3'],
      ]);
    });

    it('label_format dst=src renames (src is dropped); dst="{{.src}}" copies (src stays)', async () => {
      expect(await logs('{container="frontend"} | logfmt | query="" | label_format code=status')).toEqual([
        [{ code: '200', container: 'frontend', duration: '3000', ip: '1.1.1.1' }, lineOf(fe, 1)],
      ]);
      expect(await logs('{container="frontend"} | logfmt | query="" | label_format code="{{.status}}", both="{{.status}} {{.ip}}"')).toEqual([
        [{ both: '200 1.1.1.1', code: '200', container: 'frontend', duration: '3000', ip: '1.1.1.1', status: '200' }, lineOf(fe, 1)],
      ]);
    });

    it('a label may appear once per label_format; two stages do it', async () => {
      const r = await run('{container="frontend"} | logfmt | label_format foo=bar,foo="new"');
      expect([r.status, r.text]).toEqual([400, `parse error : stage '| label_format foo=bar,foo="new"' : multiple label name 'foo' not allowed in a single format operation`]);
      expect(await logs('{container="frontend"} | logfmt | query="" | label_format foo=ip | label_format foo="new"')).toEqual([
        [{ container: 'frontend', duration: '3000', foo: 'new', status: '200' }, lineOf(fe, 1)],
      ]);
    });
  });

  describe('Drop and keep labels expressions', () => {
    const v = (i: number): string => lineOf({ job: 'varlogs' }, i);

    it('{job="varlogs"}|json|drop level, method="GET"', async () => {
      expect((await logs('{job="varlogs"}|json|drop level, method="GET"')).slice(0, 2)).toEqual([
        [{ host: 'grafana.net', job: 'varlogs', path: '/', status: '200' }, v(0)],
        [{ host: 'grafana.net', job: 'varlogs', method: 'POST', path: '/', status: '200' }, v(1)],
      ]);
    });

    it('{job="varlogs"}|json|drop __error__ drops the error (not its details, nor the stream labels)', async () => {
      // The documentation shows `{}`; Loki keeps the stream labels and __error_details__.
      expect((await logs('{job="varlogs"}|json|drop __error__')).slice(4)).toEqual([
        [{ __error_details__: "Value looks like object, but can't find closing '}' symbol", job: 'varlogs' }, v(4)],
      ]);
    });

    it('{job="varlogs"}|json|drop level, path, app=~"some-api.*"', async () => {
      expect((await logs('{job="varlogs"}|json|drop level, path, app=~"some-api.*"')).slice(2, 4)).toEqual([
        [{ host: 'grafana.net', job: 'varlogs', method: 'GET', status: '200' }, v(2)],
        [{ app: 'other-service', host: 'grafana.net', job: 'varlogs', method: 'GET', status: '200' }, v(3)],
      ]);
    });

    it('{job="varlogs"}|json|keep level, method="GET"', async () => {
      expect((await logs('{job="varlogs"}|json|keep level, method="GET"')).slice(0, 2)).toEqual([
        [{ level: 'info', method: 'GET' }, v(0)],
        [{ level: 'info' }, v(1)],
      ]);
    });

    it('{job="varlogs"}|json|keep level, tenant, app=~"some-api.*"', async () => {
      expect((await logs('{job="varlogs"}|json|keep level, tenant, app=~"some-api.*"')).slice(2, 4)).toEqual([
        [{ app: 'some-api-service', level: 'info' }, v(2)],
        [{ level: 'info' }, v(3)],
      ]);
    });

    it('keep never drops __error__ and __error_details__', async () => {
      expect((await logs('{job="varlogs"}|json|keep level')).slice(4)).toEqual([
        [{ __error__: 'JSONParserErr', __error_details__: "Value looks like object, but can't find closing '}' symbol" }, v(4)],
      ]);
    });
  });

  describe('Matching IP addresses', () => {
    const ip = (i: number): string => lineOf({ job_name: 'myapp' }, i);

    it('|= "3.180.71.3" also matches 93.180.71.3; |~"^3.180.71.3" does not', async () => {
      expect(await lines('{job_name="myapp"} |= "3.180.71.3"')).toEqual([ip(0), ip(3)]);
      expect(await lines('{job_name="myapp"} |~"^3.180.71.3"')).toEqual([ip(0)]);
    });

    it('{job_name="myapp"} |= ip("192.168.4.5/16")', async () => {
      expect(await lines('{job_name="myapp"} |= ip("192.168.4.5/16")')).toEqual([ip(4), ip(5)]);
    });

    it('{job_name="myapp"} != ip("192.168.4.5-192.168.4.20")', async () => {
      expect(await lines('{job_name="myapp"} != ip("192.168.4.5-192.168.4.20")')).toEqual([0, 1, 2, 3, 4, 6, 7].map(ip));
    });

    it('| logfmt | remote_addr = ip("2001:db8::1-2001:db8::8") | level = "error"', async () => {
      expect(await logs('{job_name="myapp"}\n\t\t| logfmt\n\t\t| remote_addr = ip("2001:db8::1-2001:db8::8")\n\t\t| level = "error"')).toEqual([
        [{ addr: '192.168.4.2', job_name: 'myapp', level: 'error', remote_addr: '2001:db8::5' }, ip(4)],
        [{ addr: '192.169.0.1', job_name: 'myapp', level: 'error', remote_addr: '2001:db8::1' }, ip(7)],
      ]);
    });

    it('| addr = ip("192.168.4.5/16") | addr != ip("192.168.4.2")', async () => {
      expect(await lines('{job_name="myapp"}\n\t\t| logfmt\n\t\t| addr = ip("192.168.4.5/16")\n\t\t| addr != ip("192.168.4.2")')).toEqual([ip(5)]);
    });

    it('| addr = ip("192.168.4.0/24") or addr = ip("10.10.15.0/24")', async () => {
      expect(await lines('{job_name="myapp"}\n\t\t| logfmt\n\t\t| addr = ip("192.168.4.0/24") or addr = ip("10.10.15.0/24")')).toEqual([ip(4), ip(5), ip(6)]);
    });
  });

  describe('LogQL overview: pattern match filters, comments, pipeline errors', () => {
    const d = (i: number): string => lineOf({ service_name: 'distributor' }, i);
    const pattern = '`<_> caller=http.go:194 level=debug <_> msg="POST /push.v1.PusherService/Push <_>`';

    it('|> line match pattern and !> line match not pattern', async () => {
      expect(await lines(`{service_name=\`distributor\`} |> ${pattern}`)).toEqual([d(0), d(1)]);
      expect(await lines(`{service_name=\`distributor\`} !> ${pattern}`)).toEqual([d(2)]);
    });

    it('# comments, to the end of the line', async () => {
      expect(await lines('{app="foo"} # anything that comes after will not be interpreted in your query')).toEqual(['{"bar":"baz"}', '{"bar":"qux"}', 'not json']);
      expect(await logs('{app="foo"}\n    | json\n    # this line will be ignored\n    | bar="baz" # this checks if bar = "baz"')).toEqual([
        [{ app: 'foo', bar: 'baz' }, '{"bar":"baz"}'],
      ]);
    });

    it('| json | __error__ != "JSONParserErr"; __error__ = "" and __error__ != ""', async () => {
      const sel = '{cluster="ops-tools1",container="ingress-nginx"}';
      const ok: [Labels, string] = [{ cluster: 'ops-tools1', container: 'ingress-nginx', status: '200' }, '{"status":200}'];
      expect(await logs(`  ${sel}\n    | json\n    | __error__ != "JSONParserErr"`)).toEqual([ok]);
      expect(await logs(`${sel} | json | __error__ = ""`)).toEqual([ok]);
      expect(await logs(`${sel} | json | __error__ != ""`)).toEqual([
        [
          { __error__: 'JSONParserErr', __error_details__: "Value looks like object, but can't find closing '}' symbol", cluster: 'ops-tools1', container: 'ingress-nginx' },
          'plain text',
        ],
      ]);
    });
  });

  describe('Template functions: the query examples', () => {
    it('fromJson: a line per query stored as a JSON array', async () => {
      expect(await lines('{job="loki/querier"} |= "finish in prometheus" | logfmt | line_format `{{ range $q := fromJson .queries }} {{ $q.query }} {{ end }}`')).toEqual([
        ' sum(up)  rate(x) ',
        '',
      ]);
    });

    it('unixEpoch now and toDate: jobs created more than a day ago', async () => {
      expect(
        await lines(
          '{job="loki/querier"} | label_format nowEpoch=`{{(unixEpoch now)}}`,createDateEpoch=`{{unixEpoch (toDate "2006-01-02" .createDate)}}` | label_format dateTimeDiff=`{{sub .nowEpoch .createDateEpoch}}` | dateTimeDiff > 86400',
        ),
        // Without a createDate label toDate gives Go's zero time (sprig ignores the parse error): far more than a day.
      ).toEqual([lineOf({ job: 'loki/querier', createDate: '2020-01-01' }, 0), 'msg="other"']);
    });

    it('unixToTime: from="{{date "2006-01-02" (unixToTime .from)}}"', async () => {
      expect(await lines('{job="epoch"} | json | line_format `from="{{date "2006-01-02" (unixToTime .from)}}"`')).toEqual(['from="2023-03-23"']);
    });

    it('default: a - when the label is empty', async () => {
      expect(await lines('{job="access_log"} | json | line_format `{{.http_request_headers_x_forwarded_for | default "-"}}`')).toEqual(['10.1.2.3', '-']);
    });

    it('count: how many times XYZ occurs in a line', async () => {
      expect(await lines('{job="xyzlog"} | line_format `{{ __line__ | count "XYZ"}}`')).toEqual(['2', '0']);
    });
  });

  describe('Query examples: log queries', () => {
    it('security: failed logins with two regexp parsers and line_format', async () => {
      expect(
        await lines(
          '{job="security"} \n        |~ "Invalid user.*"\n        | regexp "(^(?P<user>\\\\S+ {1,2}){8})"\n        | regexp "(^(?P<ip>\\\\S+ {1,2}){10})"\n        | line_format "IP = {{.ip}}\\tUSER = {{.user}}"',
        ),
      ).toEqual(['IP = 10.0.0.5 \tUSER = admin ']);
    });

    it('security: successful logins', async () => {
      expect(
        await lines('{job="security"}\n        != "grafana_com"\n        |= "session opened"\n        != "sudo: "\n        | regexp "(^(?P<user>\\\\S+ {1,2}){11})"\n        | line_format "USER = {{.user}}"'),
      ).toEqual(['USER = bob ']);
    });

    it('multiple parsers: logfmt, then line_format, then regexp on the new line', async () => {
      expect(
        await logs(
          '{job="loki-ops/query-frontend"} | logfmt | line_format "{{.msg}}" | regexp "(?P<method>\\\\w+) (?P<path>[\\\\w|/]+) \\\\((?P<status>\\\\d+?)\\\\) (?P<duration>.*)"',
        ),
      ).toEqual([
        [
          {
            caller: 'logging.go:66',
            duration: '1.5s',
            job: 'loki-ops/query-frontend',
            level: 'debug',
            method: 'POST',
            msg: 'POST /api/prom/api/v1/query_range (200) 1.5s',
            path: '/api/prom/api/v1/query_range',
            status: '200',
            traceID: 'a9d4d8a928d8db1',
            ts: '2020-10-02T10:10:42.092268913Z',
          },
          'POST /api/prom/api/v1/query_range (200) 1.5s',
        ],
      ]);
    });

    it('log line formatting: label_format with Replace, line_format with printf "%-100.100s"', async () => {
      const query =
        '{cluster="ops-tools1", name="querier", namespace="loki-dev"}\n  |= "metrics.go" != "loki-canary"\n  | logfmt\n  | query != ""\n  | label_format query="{{ Replace .query \\"\\\\n\\" \\"\\" -1 }}"\n  | line_format "{{ .ts}}\\t{{.duration}}\\ttraceID = {{.traceID}}\\t{{ printf \\"%-100.100s\\" .query }} "';
      const q = '{cluster="ops-tools1", job="loki-ops/query-frontend"} |= "query_range"';
      const padded = q + ' '.repeat(100 - q.length);
      // The documentation's rendering drops the padding (and adds stray spaces to its first line).
      expect(await lines(query)).toEqual([
        `2020-10-23T20:32:18.094668233Z\t650.22401ms\ttraceID = 1980d41501b57b68\t${padded} `,
        `2020-10-23T20:32:18.068866235Z\t624.008132ms\ttraceID = 1980d41501b57b68\t${padded} `,
      ]);
    });
  });
});
