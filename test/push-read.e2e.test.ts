import { gzipSync, deflateSync } from 'node:zlib';
import snappy from 'snappy';
import { encodePushProto } from '../engine/src/core/distributor/push-proto.js';
import {
  cleanup,
  entriesOf,
  nowNs,
  pushJson,
  queryRange,
  startEngine,
  tempDir,
  testConfig,
  type RunningEngine,
} from './support/engine.js';

// reject_old_samples is off so the exact timestamps of the issue (2023) are accepted.
const LIMITS = `
limits_config:
  reject_old_samples: false
  discover_service_name: []
`;

describe('push and read back over HTTP (single binary)', () => {
  let dir: string;
  let e: RunningEngine;

  beforeAll(async () => {
    dir = tempDir();
    e = await startEngine(testConfig(dir, LIMITS));
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  it('returns JSON-pushed entries byte for byte with exact nanosecond timestamps', async () => {
    const lines = ['first line', 'ünïcödé — ✓ 日本語 🚀', '', 'tab\tand "quotes" and \\ backslash'];
    const values = lines.map((l, i) => [`170000000012345678${i}`, l]);
    const res = await pushJson(e.url, { streams: [{ stream: { app: 'exact', env: 'dev' }, values }] });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');

    const q = await queryRange(e.url, '{app="exact"}', { start: '1700000000000000000', end: '1700000001000000000', direction: 'forward' });
    expect(q.status).toBe(200);
    expect(q.body.status).toBe('success');
    expect(q.body.data.resultType).toBe('streams');
    expect(q.body.data.result).toEqual([{ stream: { app: 'exact', env: 'dev' }, values }]);
    expect(q.text).toContain('"1700000000123456780"');
  });

  it('orders backward (newest first) by default and honours limit across streams', async () => {
    const base = 1_700_000_100_000_000_000n;
    const streams = ['a', 'b'].map((s, si) => ({
      stream: { app: 'order', s },
      values: [0, 1, 2].map((i) => [String(base + BigInt(i * 2 + si)), `${s}${i}`]),
    }));
    expect((await pushJson(e.url, { streams })).status).toBe(204);
    const range = { start: String(base), end: String(base + 10n) };
    const back = await queryRange(e.url, '{app="order"}', { ...range, limit: 3 });
    const got = entriesOf(back.body).sort((x, y) => (BigInt(y.ts) > BigInt(x.ts) ? 1 : -1));
    expect(got.map((x) => x.line)).toEqual(['b2', 'a2', 'b1']);
    const fwd = await queryRange(e.url, '{app="order"}', { ...range, limit: 2, direction: 'forward' });
    expect(entriesOf(fwd.body).map((x) => x.line).sort()).toEqual(['a0', 'b0']);
  });

  it('accepts protobuf + snappy pushes (the wire format of Promtail, Alloy and winston-loki)', async () => {
    const ts = 1_700_000_200_987_654_321n;
    const body = encodePushProto({
      streams: [
        {
          labels: '{app="proto", env="prod"}',
          entries: [
            { ts, line: Buffer.from('from protobuf ✓') },
            { ts: ts + 1n, line: Buffer.from('with metadata'), metadata: [['trace_id', 'abc123'], ['user', 'u1']] },
          ],
        },
      ],
    });
    const res = await fetch(`${e.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: await snappy.compress(body),
    });
    expect(res.status).toBe(204);

    const range = { start: String(ts), end: String(ts + 10n), direction: 'forward' };
    const categorized = await queryRange(e.url, '{app="proto"}', {
      ...range,
      headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    });
    expect(categorized.body.data.encodingFlags).toEqual(['categorize-labels']);
    expect(categorized.body.data.result).toEqual([
      {
        stream: { app: 'proto', env: 'prod' },
        values: [
          // An entry without structured metadata or parsed labels still gets the third element, empty, as in Loki.
          [String(ts), 'from protobuf ✓', {}],
          [String(ts + 1n), 'with metadata', { structuredMetadata: { trace_id: 'abc123', user: 'u1' } }],
        ],
      },
    ]);
    // Without the header, structured metadata folds into the stream labels, as Loki does.
    const folded = await queryRange(e.url, '{app="proto"}', range);
    expect(folded.body.data.result).toEqual(
      expect.arrayContaining([
        { stream: { app: 'proto', env: 'prod' }, values: [[String(ts), 'from protobuf ✓']] },
        { stream: { app: 'proto', env: 'prod', trace_id: 'abc123', user: 'u1' }, values: [[String(ts + 1n), 'with metadata']] },
      ]),
    );
  });

  it('accepts JSON structured metadata (third element) and gzip/deflate content encodings', async () => {
    const ts = 1_700_000_300_000_000_001n;
    const payload = JSON.stringify({
      streams: [{ stream: { app: 'enc' }, values: [[String(ts), 'gz line', { k: 'v' }]] }],
    });
    const gz = await fetch(`${e.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(payload),
    });
    expect(gz.status).toBe(204);
    const payload2 = JSON.stringify({ streams: [{ stream: { app: 'enc' }, values: [[String(ts + 1n), 'deflate line']] }] });
    const df = await fetch(`${e.url}/api/prom/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
      body: deflateSync(payload2),
    });
    expect(df.status).toBe(204);
    const q = await queryRange(e.url, '{app="enc"}', {
      start: String(ts),
      end: String(ts + 5n),
      direction: 'forward',
      headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    });
    expect(q.body.data.result[0].values).toEqual([
      [String(ts), 'gz line', { structuredMetadata: { k: 'v' } }],
      [String(ts + 1n), 'deflate line', {}],
    ]);
  });

  it('filters lines with |= != |~ !~ and selects streams with = != =~ !~', async () => {
    const ts = 1_700_000_400_000_000_000n;
    const streams = [
      { stream: { app: 'filt', level: 'info' }, values: [[String(ts), 'GET /api 200'], [String(ts + 1n), 'GET /health 200']] },
      { stream: { app: 'filt', level: 'error' }, values: [[String(ts + 2n), 'POST /api 500 timeout']] },
    ];
    expect((await pushJson(e.url, { streams })).status).toBe(204);
    const r = { start: String(ts), end: String(ts + 10n), direction: 'forward' };
    const lines = async (q: string) => entriesOf((await queryRange(e.url, q, r)).body).map((x) => x.line).sort();
    expect(await lines('{app="filt"} |= "/api"')).toEqual(['GET /api 200', 'POST /api 500 timeout']);
    expect(await lines('{app="filt"} != "health" |~ "[45]\\\\d\\\\d"')).toEqual(['POST /api 500 timeout']);
    expect(await lines('{app="filt"} !~ "^GET"')).toEqual(['POST /api 500 timeout']);
    expect(await lines('{app="filt", level!="error"}')).toEqual(['GET /api 200', 'GET /health 200']);
    expect(await lines('{app=~"fil.", level=~"err.*"}')).toEqual(['POST /api 500 timeout']);
    expect(await lines('{app="filt", level!~"info|debug"}')).toEqual(['POST /api 500 timeout']);
  });

  it('runs pipelines: parsed labels fold into streams, or come back as `parsed` with categorize-labels', async () => {
    const ts = 1_700_000_450_000_000_000n;
    const values = [
      [String(ts), '{"level":"error","msg":"boom"}'],
      [String(ts + 1n), '{"level":"info","msg":"ok"}'],
    ];
    expect((await pushJson(e.url, { streams: [{ stream: { app: 'pipe' }, values }] })).status).toBe(204);
    const r = { start: String(ts), end: String(ts + 10n), direction: 'forward' };
    const folded = await queryRange(e.url, '{app="pipe"} | json | level="error" | line_format "{{.msg}}"', r);
    expect(folded.body.data.result).toEqual([{ stream: { app: 'pipe', level: 'error', msg: 'boom' }, values: [[String(ts), 'boom']] }]);
    const cat = await queryRange(e.url, '{app="pipe"} | json | drop msg', { ...r, headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } });
    expect(cat.body.data.result).toEqual([
      {
        stream: { app: 'pipe' },
        values: [
          [String(ts), values[0]![1], { parsed: { level: 'error' } }],
          [String(ts + 1n), values[1]![1], { parsed: { level: 'info' } }],
        ],
      },
    ]);
    const metric = await queryRange(e.url, 'count_over_time({app="pipe"}[1m])', { ...r, end: String(ts + 1_000_000_000n) });
    expect(metric.status).toBe(200);
    expect(metric.body.data.resultType).toBe('matrix');
  });

  it('serves labels, label values and series', async () => {
    const ts = nowNs();
    const body = { streams: [{ stream: { app: 'meta', team: 'core' }, values: [[String(ts), 'x']] }] };
    expect((await pushJson(e.url, body)).status).toBe(204);
    const labels = (await (await fetch(`${e.url}/loki/api/v1/labels`)).json()) as any;
    expect(labels.status).toBe('success');
    expect(labels.data).toEqual(expect.arrayContaining(['app', 'team']));
    const values = (await (await fetch(`${e.url}/loki/api/v1/label/team/values`)).json()) as any;
    expect(values.data).toEqual(['core']);
    const series = (await (await fetch(`${e.url}/loki/api/v1/series?match[]=${encodeURIComponent('{team="core"}')}`)).json()) as any;
    expect(series).toEqual({ status: 'success', data: [{ app: 'meta', team: 'core' }] });
    const post = await fetch(`${e.url}/loki/api/v1/series`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'match[]': '{app="meta"}' }),
    });
    expect(((await post.json()) as any).data).toEqual([{ app: 'meta', team: 'core' }]);
  });

  it('reads the same data after /flush, from chunks in the object store', async () => {
    const ts = 1_700_000_500_000_000_000n;
    const values = Array.from({ length: 50 }, (_, i) => [String(ts + BigInt(i)), `flushed ${i}`]);
    expect((await pushJson(e.url, { streams: [{ stream: { app: 'flushme' }, values }] })).status).toBe(204);
    const flush = await fetch(`${e.url}/flush`, { method: 'POST' });
    expect(flush.status).toBe(204);
    expect(e.engine.ingester.streamCount).toBe(0); // memory released: what follows comes from the store
    const q = await queryRange(e.url, '{app="flushme"}', { start: String(ts), end: String(ts + 100n), direction: 'forward', limit: 1000 });
    expect(q.body.data.result).toEqual([{ stream: { app: 'flushme' }, values }]);
  });

  it('formats queries (format_query) and reports invalid ones', async () => {
    const ok = await fetch(`${e.url}/loki/api/v1/format_query?query=${encodeURIComponent('{app="a"}|="x"|json')}`);
    expect(await ok.json()).toEqual({ status: 'success', data: '{app="a"} |= "x" | json' });
    const bad = await fetch(`${e.url}/loki/api/v1/format_query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: '{app=}' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).status).toBe('invalid-query');
  });

  it('answers Loki status codes for malformed requests', async () => {
    const empty = await pushJson(e.url, { streams: [] });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toBe('error at least one valid stream is required for ingestion\n');
    const numberTs = await pushJson(e.url, '{"streams":[{"stream":{"a":"b"},"values":[[1700000000000000000,"x"]]}]}');
    expect(numberTs.status).toBe(400);
    const badJson = await pushJson(e.url, '{"streams":[');
    expect(badJson.status).toBe(400);
    const badProto = await fetch(`${e.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from('definitely not snappy'),
    });
    expect(badProto.status).toBe(400);
    const badQuery = await queryRange(e.url, '{app=}');
    expect(badQuery.status).toBe(400);
    expect(badQuery.text).toMatch(/^parse error at line 1, col 6: syntax error/);
    const emptyMatcher = await queryRange(e.url, '{app=~".*"}');
    expect(emptyMatcher.status).toBe(400);
    const notFound = await fetch(`${e.url}/no/such/path`);
    expect(notFound.status).toBe(404);
  });
});
