import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import snappy from 'snappy';
import { encodePushProto } from '../engine/src/core/distributor/push-proto.js';
import { cleanup, entriesOf, nowNs, pushJson, queryRange, startEngine, tempDir, testConfig, waitFor, type RunningEngine } from './support/engine.js';

const OVERRIDES = `
overrides:
  slow:
    ingestion_rate_mb: 0.001
    ingestion_burst_size_mb: 0.001
  stream-slow:
    per_stream_rate_limit: 1KB
    per_stream_rate_limit_burst: 1KB
  few:
    max_global_streams_per_user: 2
  trunc:
    max_line_size_truncate: true
  nosm:
    allow_structured_metadata: false
  ooo:
    reject_old_samples: false
`;

describe('push validation and per-tenant limits (Loki status codes and messages)', () => {
  let dir: string;
  let e: RunningEngine;
  let runtimeFile: string;
  const T = { 'X-Scope-OrgID': 'team-a' };

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
distributor:
  max_recv_msg_size: 65536
limits_config:
  max_line_size: 100
  max_label_names_per_series: 3
  max_label_name_length: 20
  max_label_value_length: 30
  max_structured_metadata_size: 50
  max_structured_metadata_entries_count: 2
  reject_old_samples: true
  reject_old_samples_max_age: 1h
  discover_service_name: []
`,
    ).replace('auth_enabled: false', 'auth_enabled: true');
    e = await startEngine(cfg);
  });
  afterAll(async () => {
    await e.stop();
    cleanup(dir);
  });

  const push = (streams: unknown[], tenant = T) => pushJson(e.url, { streams }, tenant);
  const now = () => String(nowNs());

  it('requires X-Scope-OrgID when auth is enabled and validates tenant IDs', async () => {
    const none = await pushJson(e.url, { streams: [{ stream: { a: 'b' }, values: [[now(), 'x']] }] });
    expect(none.status).toBe(401);
    expect(await none.text()).toBe('no org id\n');
    const bad = await pushJson(e.url, { streams: [{ stream: { a: 'b' }, values: [[now(), 'x']] }] }, { 'X-Scope-OrgID': '..' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("tenant ID is '.' or '..'\n");
    const q = await queryRange(e.url, '{a="b"}');
    expect(q.status).toBe(401);
  });

  it('writes the valid entries of a partially bad push and lists every refused one', async () => {
    const ts = nowNs();
    const res = await push([
      {
        stream: { app: 'partial' },
        values: [
          [String(ts), 'ok 1'],
          [String(ts + 1n), 'x'.repeat(101)],
          [String(ts + 2n), 'ok 2'],
          [String(ts + 3n), 'y'.repeat(150)],
        ],
      },
    ]);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toBe(
      `1 errors like: Max entry size '100' bytes exceeded for stream '{app="partial"}' while adding an entry with length '101' bytes; ` +
        `1 errors like: Max entry size '100' bytes exceeded for stream '{app="partial"}' while adding an entry with length '150' bytes\n`,
    );
    const q = await queryRange(e.url, '{app="partial"}', { start: String(ts), end: String(ts + 10n), direction: 'forward', headers: T });
    expect(entriesOf(q.body).map((x) => x.line)).toEqual(['ok 1', 'ok 2']);
  });

  it('truncates long lines instead when max_line_size_truncate is set for the tenant', async () => {
    const ts = nowNs();
    const res = await push([{ stream: { app: 'trunc' }, values: [[String(ts), 'z'.repeat(150)]] }], { 'X-Scope-OrgID': 'trunc' });
    expect(res.status).toBe(204);
    const q = await queryRange(e.url, '{app="trunc"}', { start: String(ts), end: String(ts + 1n), headers: { 'X-Scope-OrgID': 'trunc' } });
    expect(entriesOf(q.body)[0]!.line).toBe('z'.repeat(100));
  });

  it('checks label count, name and value length, duplicate names and label syntax', async () => {
    const v = [[now(), 'x']];
    const many = await push([{ stream: { a: '1', b: '2', c: '3', d: '4' }, values: v }]);
    expect([many.status, await many.text()]).toEqual([400, `entry for stream '{a="1", b="2", c="3", d="4"}' has 4 label names; limit 3\n`]);
    const longName = await push([{ stream: { ['n'.repeat(21)]: 'v' }, values: v }]);
    expect([longName.status, await longName.text()]).toEqual([400, `stream '{${'n'.repeat(21)}="v"}' has label name too long: '${'n'.repeat(21)}'\n`]);
    const longValue = await push([{ stream: { app: 'v'.repeat(31) }, values: v }]);
    expect([longValue.status, await longValue.text()]).toEqual([400, `stream '{app="${'v'.repeat(31)}"}' has label value too long: '${'v'.repeat(31)}'\n`]);

    const proto = async (labels: string) =>
      fetch(`${e.url}/loki/api/v1/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...T },
        body: await snappy.compress(encodePushProto({ streams: [{ labels, entries: [{ ts: nowNs(), line: Buffer.from('x') }] }] })),
      });
    const dup = await proto('{a="1", a="2"}');
    expect(dup.status).toBe(400);
    expect(await dup.text()).toMatch(/has duplicate label name: 'a'/);
    const syntax = await proto('{a="1"');
    expect(syntax.status).toBe(400);
    expect(await syntax.text()).toMatch(/^couldn't parse labels: /);
    const noLabels = await proto('{}');
    expect([noLabels.status, await noLabels.text()]).toEqual([400, 'error at least one label pair is required per stream\n']);
  });

  it('rejects timestamps too old (reject_old_samples_max_age) and too new (creation_grace_period)', async () => {
    const old = nowNs() - 2n * 3600n * 1_000_000_000n;
    const res = await push([{ stream: { app: 'time' }, values: [[String(old), 'old']] }]);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^entry for stream '\{app="time"\}' has timestamp too old: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, oldest acceptable timestamp is: .*Z\n$/);
    const future = nowNs() + 3600n * 1_000_000_000n;
    const res2 = await push([{ stream: { app: 'time' }, values: [[String(future), 'future']] }]);
    expect(res2.status).toBe(400);
    expect(await res2.text()).toMatch(/^entry for stream '\{app="time"\}' has timestamp too new: .*Z\n$/);
  });

  it('limits structured metadata (allowed, size, count)', async () => {
    const t = now();
    const tooBig = await push([{ stream: { app: 'sm' }, values: [[t, 'x', { k: 'v'.repeat(60) }]] }]);
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toMatch(/has structured metadata too large: '61' bytes, limit: '50' bytes/);
    const tooMany = await push([{ stream: { app: 'sm' }, values: [[t, 'x', { a: '1', b: '2', c: '3' }]] }]);
    expect(await tooMany.text()).toMatch(/has too many structured metadata labels: '3', limit: '2'/);
    const disallowed = await push([{ stream: { app: 'sm' }, values: [[t, 'x', { a: '1' }]] }], { 'X-Scope-OrgID': 'nosm' });
    expect(disallowed.status).toBe(400);
    expect(await disallowed.text()).toMatch(/includes structured metadata, but this feature is disallowed/);
  });

  it('enforces the tenant ingestion rate with 429', async () => {
    const res = await push([{ stream: { app: 'rate' }, values: [[now(), 'r'.repeat(99)]] }], { 'X-Scope-OrgID': 'slow' });
    expect(res.status).toBe(204);
    const lines = Array.from({ length: 30 }, (_, i) => [String(nowNs() + BigInt(i)), 'r'.repeat(99)]);
    const limited = await push([{ stream: { app: 'rate' }, values: lines }], { 'X-Scope-OrgID': 'slow' });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toBe(
      "Ingestion rate limit exceeded for user slow (limit: 1048 bytes/sec) while attempting to ingest '30' lines totaling '2970' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n",
    );
  });

  it('enforces the per-stream rate limit with 429', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => [String(nowNs() + BigInt(i)), 's'.repeat(99)]);
    const res = await push([{ stream: { app: 'stream-rate' }, values: lines }], { 'X-Scope-OrgID': 'stream-slow' });
    expect(res.status).toBe(429);
    expect(await res.text()).toBe(
      "Per stream rate limit exceeded (limit: 1KB/sec) while attempting to ingest for stream '{app=\"stream-rate\"}' totaling 1980B, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased\n",
    );
  });

  it('enforces max_global_streams_per_user with 429', async () => {
    const h = { 'X-Scope-OrgID': 'few' };
    expect((await push([{ stream: { s: '1' }, values: [[now(), 'x']] }, { stream: { s: '2' }, values: [[now(), 'x']] }], h)).status).toBe(204);
    const res = await push([{ stream: { s: '3' }, values: [[now(), 'x']] }], h);
    expect(res.status).toBe(429);
    expect(await res.text()).toMatch(/^Maximum active stream limit exceeded when trying to create stream \{s="3"\}, .* user: 'few'\n$/);
  });

  it('refuses entries too far behind the stream newest (max_chunk_age / 2) and keeps the others', async () => {
    const h = { 'X-Scope-OrgID': 'ooo' }; // reject_old_samples is off for this tenant
    const ts = nowNs();
    const min = 60n * 1_000_000_000n;
    expect((await push([{ stream: { app: 'ooo' }, values: [[String(ts), 'newest']] }], h)).status).toBe(204);
    const res = await push(
      [
        {
          stream: { app: 'ooo' },
          values: [
            [String(ts - 30n * min), 'late but fine'],
            [String(ts - 90n * min), 'too late'],
          ],
        },
      ],
      h,
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(
      /^entry with timestamp \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: \S+Z, oldest acceptable timestamp is: \S+Z',\nuser 'ooo', total ignored: 1 out of 2 for stream: \{app="ooo"\}\n$/,
    );
    const q = await queryRange(e.url, '{app="ooo"}', { start: String(ts - 120n * min), end: String(ts + 1n), headers: h });
    expect(entriesOf(q.body).map((x) => x.line).sort()).toEqual(['late but fine', 'newest']);
  });

  it('stops a gzip bomb at the size limit while decompressing (413)', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces, ~50 KB compressed
    const res = await fetch(`${e.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...T },
      body: bomb,
    });
    expect(res.status).toBe(413);
    const unknown = await fetch(`${e.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'br', ...T },
      body: '{}',
    });
    expect([unknown.status, await unknown.text()]).toEqual([400, 'Content-Encoding "br" not supported\n']);
  });

  it('reloads per-tenant overrides from the runtime config file without a restart', async () => {
    const h = { 'X-Scope-OrgID': 'reload' };
    const big = [{ stream: { app: 'reload' }, values: [[now(), 'q'.repeat(90)]] }];
    expect((await push(big, h)).status).toBe(204);
    writeFileSync(runtimeFile, `${OVERRIDES}  reload:\n    max_line_size: 10\n`);
    await waitFor(async () => (await push([{ stream: { app: 'reload' }, values: [[now(), 'q'.repeat(90)]] }], h)).status === 400, 5000);
    writeFileSync(runtimeFile, OVERRIDES);
    await waitFor(async () => (await push([{ stream: { app: 'reload' }, values: [[now(), 'q'.repeat(90)]] }], h)).status === 204, 5000);
  });
});
