// Distributed mode, every component its own process on loopback (the compiled engine), with a real etcd as the
// ring store: 3 ingesters (RF 3), a distributor, a querier pulling from a query-scheduler, a query-frontend, an
// index gateway and a compactor, sharing one filesystem store.
import { Cluster } from './support/cluster.js';
import { cleanup, EngineProcess, freePort, tempDir, testConfig, waitFor, writeConfig } from './support/engine.js';
import { EtcdServer } from './support/etcd.js';
import { TailClient } from './support/tail-client.js';

const TENANT = 'team-a';
const INGESTERS = ['ingester-1', 'ingester-2', 'ingester-3'];

async function push(url: string, stream: Record<string, string>, lines: Array<[bigint, string]>): Promise<Response> {
  return fetch(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Scope-OrgID': TENANT },
    body: JSON.stringify({ streams: [{ stream, values: lines.map(([ts, l]) => [ts.toString(), l]) }] }),
  });
}

/** Every line of `{app="load"}` in [from, now], as the querier returns them (backward, no limit in practice). */
async function readAll(url: string, from: bigint, selector = '{app="load"}'): Promise<string[]> {
  const q = new URLSearchParams({
    query: selector,
    start: from.toString(),
    end: (BigInt(Date.now() + 60_000) * 1_000_000n).toString(),
    limit: '1000000',
    direction: 'forward',
  });
  const res = await fetch(`${url}/loki/api/v1/query_range?${q}`, { headers: { 'X-Scope-OrgID': TENANT } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query_range ${res.status}: ${text}`);
  const body = JSON.parse(text) as { data: { result: Array<{ values: Array<[string, string]> }> } };
  return body.data.result.flatMap((s) => s.values.map((v) => v[1]));
}

describe('distributed mode: etcd ring, 3 ingesters with RF 3', () => {
  let etcd: EtcdServer;
  let dir: string;
  let cluster: Cluster;
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    dir = tempDir('strata-dist-');
    cluster = new Cluster({ dir, etcdEndpoint: etcd.url });
    cluster.limits = `
  split_queries_by_interval: 5m
  max_entries_limit_per_query: 1000000
  max_query_parallelism: 512
  tsdb_max_query_parallelism: 512`;
    await cluster.reserve(['index-gateway', 'query-scheduler', ...INGESTERS, 'distributor', 'querier', 'query-frontend', 'compactor']);
    const reader = `
storage_config:
  tsdb_shipper:
    index_gateway_client:
      server_address: ${cluster.addr('index-gateway')}
frontend_worker:
  scheduler_address: ${cluster.addr('query-scheduler')}
frontend:
  scheduler_address: ${cluster.addr('query-scheduler')}
`;
    await Promise.all([
      cluster.start({ name: 'index-gateway', target: 'index-gateway' }),
      cluster.start({ name: 'query-scheduler', target: 'query-scheduler' }),
      cluster.start({ name: 'compactor', target: 'compactor' }),
      ...INGESTERS.map((name) => cluster.start({ name, target: 'ingester' })),
    ]);
    await Promise.all([
      cluster.start({ name: 'distributor', target: 'distributor' }),
      cluster.start({ name: 'querier', target: 'querier', extra: reader }),
      cluster.start({ name: 'query-frontend', target: 'query-frontend', extra: reader }),
    ]);
    await cluster.waitRing('distributor', (s) => INGESTERS.every((i) => s[i] === 'ACTIVE'));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stopAll();
    await etcd?.dispose();
    if (dir) cleanup(dir);
  });

  it('serves each component on its own, /services lists what runs', async () => {
    const services = await (await fetch(`${cluster.url('ingester-1')}/services`)).text();
    expect(services).toContain('ingester => Running');
    expect(services).not.toContain('distributor =>');
    const push404 = await fetch(`${cluster.url('querier')}/loki/api/v1/push`, { method: 'POST' });
    expect(push404.status).toBe(404);
    const backend = await (await fetch(`${cluster.url('compactor')}/services`)).text();
    expect(backend).toContain('compactor => Running');
    const frontend = await (await fetch(`${cluster.url('query-frontend')}/services`)).text();
    expect(frontend).toContain('query-frontend => Running');
  });

  it('keeps acknowledging pushes when an ingester is SIGKILLed, returns every acknowledged line exactly once, and the ingester rejoins ACTIVE', async () => {
    const acked: string[] = [];
    const failures: string[] = [];
    let stop = false;
    let seq = 0;
    const pusher = async (id: number): Promise<void> => {
      while (!stop) {
        const lines: Array<[bigint, string]> = [];
        for (let i = 0; i < 20; i++) {
          const n = seq++;
          lines.push([t0 + BigInt(n) * 1000n, `pusher=${id} seq=${n}`]);
        }
        const res = await push(cluster.url('distributor'), { app: 'load', pusher: String(id) }, lines).catch((e: Error) => e);
        if (res instanceof Error) failures.push(res.message);
        else if (res.status === 204) acked.push(...lines.map((l) => l[1]));
        else failures.push(`${res.status} ${await res.text()}`);
      }
    };
    const pushers = [0, 1, 2, 3].map(pusher);
    await waitFor(() => acked.length >= 2000, 30_000);
    await cluster.node('ingester-2').kill('SIGKILL');
    const atKill = acked.length;
    // Pushes go on while the ring still lists it ACTIVE (its calls fail, the other two replicas make the quorum)
    // and after its heartbeat expires (UNHEALTHY: it is skipped).
    await waitFor(() => acked.length >= atKill + 2000, 30_000, () => failures.slice(-3).join('\n'));
    await cluster.waitRing('distributor', (st) => st['ingester-2'] === 'UNHEALTHY');
    const atUnhealthy = acked.length;
    await waitFor(() => acked.length >= atUnhealthy + 1000, 30_000, () => failures.slice(-3).join('\n'));
    stop = true;
    await Promise.all(pushers);

    expect(failures).toEqual([]);
    const read = await readAll(cluster.url('querier'), t0);
    expect(read.length).toBe(acked.length);
    expect(new Set(read).size).toBe(read.length);
    expect(new Set(read)).toEqual(new Set(acked));
    // The same through the query-frontend (split by time, sub-queries through the scheduler to the querier).
    const viaFrontend = await readAll(cluster.url('query-frontend'), t0);
    expect(viaFrontend.length).toBe(acked.length);
    expect(new Set(viaFrontend)).toEqual(new Set(acked));

    // The killed ingester replays its WAL, takes its tokens back and is ACTIVE again.
    await cluster.node('ingester-2').start();
    await cluster.waitRing('distributor', (s) => INGESTERS.every((i) => s[i] === 'ACTIVE'));
    const after = await readAll(cluster.url('querier'), t0);
    expect(after.length).toBe(acked.length);
    expect(new Set(after)).toEqual(new Set(acked));

    // Flushed to the store (three replicas' chunks of each stream), read through the index gateway: still once.
    for (const i of INGESTERS) expect((await fetch(`${cluster.url(i)}/flush`, { method: 'POST' })).status).toBe(204);
    const stored = await readAll(cluster.url('querier'), t0);
    expect(stored.length).toBe(acked.length);
    expect(new Set(stored)).toEqual(new Set(acked));
  }, 150_000);

  it('tails live entries through the frontend and the querier: each pushed line once, filtered', async () => {
    const params = { query: '{app="live"} |= "keep"', start: (BigInt(Date.now()) * 1_000_000n).toString() };
    const tails = [new TailClient(cluster.url('query-frontend'), '/loki/api/v1/tail', params, { 'X-Scope-OrgID': TENANT }), new TailClient(cluster.url('querier'), '/loki/api/v1/tail', params, { 'X-Scope-OrgID': TENANT })];
    await Promise.all(tails.map((t) => t.opened));
    await new Promise((r) => setTimeout(r, 1500)); // the tails' first polls reach every ingester
    const now = BigInt(Date.now()) * 1_000_000n;
    const lines: Array<[bigint, string]> = [];
    for (let i = 0; i < 30; i++) lines.push([now + BigInt(i) * 1000n, `${i % 3 === 0 ? 'drop' : 'keep'} live ${i}`]);
    expect((await push(cluster.url('distributor'), { app: 'live' }, lines)).status).toBe(204);
    const want = lines.map((l) => l[1]).filter((l) => l.startsWith('keep'));
    for (const t of tails) {
      await t.waitFor(() => t.values().length >= want.length, 15_000);
      await new Promise((r) => setTimeout(r, 500)); // replicas' copies would arrive now
      expect(t.values().map((v) => v.line).sort()).toEqual([...want].sort());
      expect(t.values()[0]!.labels).toEqual({ app: 'live', service_name: 'live' });
      await t.close();
    }
  }, 60_000);

  describe('the same data and queries as the single binary', () => {
    const CMP = 'cmp';
    const base = BigInt(Date.now() - 25 * 60_000) * 1_000_000n;
    let single: EngineProcess;
    let singleDir: string;

    beforeAll(async () => {
      singleDir = tempDir('strata-single-');
      const port = await freePort();
      const text = testConfig(singleDir, 'limits_config:\n  max_entries_limit_per_query: 1000000\n', port).replace('auth_enabled: false', 'auth_enabled: true');
      single = new EngineProcess(writeConfig(singleDir, text), port);
      await single.start();
      // 6 streams, one entry every 2 s each over 20 minutes, integer fields so every aggregate is exact.
      for (const level of ['info', 'warn', 'error']) {
        for (const pod of ['a', 'b']) {
          const values: Array<[string, string]> = [];
          for (let i = 0; i < 600; i++) {
            const ts = base + BigInt(i) * 2_000_000_000n + BigInt(level.length * 1000 + pod.charCodeAt(0));
            values.push([ts.toString(), `level=${level} pod=${pod} latency_ms=${(i * 7 + level.length) % 500} msg="request ${i}"`]);
          }
          const body = JSON.stringify({ streams: [{ stream: { app: 'cmp', level, pod }, values }] });
          for (const url of [cluster.url('distributor'), single.url]) {
            const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json', 'X-Scope-OrgID': CMP }, body });
            expect(res.status).toBe(204);
          }
        }
      }
    }, 60_000);

    afterAll(async () => {
      await single?.kill('SIGKILL');
      if (singleDir) cleanup(singleDir);
    });

    const end = base + 21n * 60n * 1_000_000_000n;
    const RANGE_QUERIES: Array<Record<string, string>> = [
      { query: '{app="cmp"}', limit: '100', direction: 'backward' },
      { query: '{app="cmp"}', limit: '250', direction: 'forward' },
      { query: '{app="cmp", level="warn"} |= "request 1"', limit: '5000', direction: 'backward' },
      { query: '{app="cmp"} | logfmt | latency_ms > 400', limit: '5000', direction: 'forward' },
      { query: 'sum by (level) (count_over_time({app="cmp"}[1m]))', step: '60' },
      { query: 'count_over_time({app="cmp"}[2m])', step: '30' },
      { query: 'sum by (pod) (sum_over_time({app="cmp"} | logfmt | unwrap latency_ms [2m]))', step: '60' },
      { query: 'max_over_time({app="cmp"} | logfmt | unwrap latency_ms [5m]) by (level)', step: '120' },
      { query: 'topk(2, sum by (pod, level) (bytes_over_time({app="cmp"}[5m])))', step: '60' },
      { query: 'sum(rate({app="cmp"} |= "error" [1m])) / sum(rate({app="cmp"}[1m]))', step: '60' },
    ];

    async function rangeResult(url: string, q: Record<string, string>): Promise<unknown> {
      const params = new URLSearchParams({ start: base.toString(), end: end.toString(), ...q });
      const res = await fetch(`${url}/loki/api/v1/query_range?${params}`, { headers: { 'X-Scope-OrgID': CMP } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${q.query}: ${res.status} ${text}`);
      const { resultType, result } = (JSON.parse(text) as { data: { resultType: string; result: unknown } }).data;
      return { resultType, result };
    }

    async function compareAll(): Promise<void> {
      for (const q of RANGE_QUERIES) {
        const want = await rangeResult(single.url, q);
        expect({ q: q.query, r: await rangeResult(cluster.url('query-frontend'), q) }).toEqual({ q: q.query, r: want });
        expect({ q: q.query, r: await rangeResult(cluster.url('querier'), q) }).toEqual({ q: q.query, r: want });
      }
      const instant = new URLSearchParams({ query: 'sum by (level) (count_over_time({app="cmp"}[10m]))', time: (base + 15n * 60n * 1_000_000_000n).toString() });
      const get = async (url: string) =>
        (JSON.parse(await (await fetch(`${url}/loki/api/v1/query?${instant}`, { headers: { 'X-Scope-OrgID': CMP } })).text()) as { data: { result: unknown } }).data.result;
      expect(await get(cluster.url('query-frontend'))).toEqual(await get(single.url));
      const series = new URLSearchParams({ 'match[]': '{app="cmp"}', start: base.toString(), end: end.toString() });
      const seriesOf = async (url: string) =>
        ((await (await fetch(`${url}/loki/api/v1/series?${series}`, { headers: { 'X-Scope-OrgID': CMP } })).json()) as { data: Array<Record<string, string>> }).data
          .map((l) => JSON.stringify(l))
          .sort();
      expect(await seriesOf(cluster.url('query-frontend'))).toEqual(await seriesOf(single.url));
    }

    it('answers log and metric queries exactly as the single binary, from ingesters and then from the store', async () => {
      await compareAll();
      // The frontend reports how it ran a query: 25 minutes at 5-minute splits; data this recent (still in
      // ingesters) keeps the fixed 16 shards; every split of this fully shardable query sends one sub-query per shard.
      const p = new URLSearchParams({ query: 'sum by (level) (count_over_time({app="cmp"}[1m]))', step: '60', start: base.toString(), end: end.toString() });
      const res = await fetch(`${cluster.url('query-frontend')}/loki/api/v1/query_range?${p}`, { headers: { 'X-Scope-OrgID': CMP, 'Cache-Control': 'no-cache' } });
      const { splits, shards, subqueries } = ((await res.json()) as { data: { stats: { summary: Record<string, number> } } }).data.stats.summary;
      expect(splits).toBeGreaterThan(4);
      expect([shards, subqueries]).toEqual([16, splits! * 16]);
      // Flushed: three replicas' chunks per stream in the store, read through the index gateway.
      for (const i of INGESTERS) expect((await fetch(`${cluster.url(i)}/flush`, { method: 'POST' })).status).toBe(204);
      expect((await fetch(`${single.url}/flush`, { method: 'POST' })).status).toBe(204);
      await compareAll();
    }, 120_000);

    it('keeps another tenant fast while one tenant floods the frontend with slow queries (fair queues)', async () => {
      // A week at 5-minute splits: ~2000 sub-queries per flooding query, four of them at once.
      const flood = new AbortController();
      const weekAgo = BigInt(Date.now() - 7 * 86_400_000) * 1_000_000n;
      let floodDone = 0;
      const floods = [0, 1, 2, 3].map(async (i) => {
        const p = new URLSearchParams({ query: `sum(count_over_time({app="load"} |~ "seq=${i}.*" [5m]))`, start: weekAgo.toString(), end: (BigInt(Date.now()) * 1_000_000n).toString(), step: '300' });
        await fetch(`${cluster.url('query-frontend')}/loki/api/v1/query_range?${p}`, { headers: { 'X-Scope-OrgID': TENANT, 'Cache-Control': 'no-cache' }, signal: flood.signal })
          .then((r) => r.text())
          .catch(() => undefined);
        floodDone++;
      });
      // The flood is queued: hundreds of its sub-queries wait at the scheduler (a FIFO queue would put tenant B
      // behind all of them).
      const queued = async (): Promise<number> => {
        const text = await (await fetch(`${cluster.url('query-scheduler')}/metrics`)).text();
        const m = /^loki_query_scheduler_queue_length\{user="team-a"\} (\d+)/m.exec(text);
        return m ? Number(m[1]) : 0;
      };
      await waitFor(async () => (await queued()) >= 1500, 30_000);
      // Tenant B: a log query (five 5-minute splits) and a sharded metric query (5 splits × 16 shards), against the
      // flood's tens of thousands of queued sub-queries.
      const queries: Array<Record<string, string>> = [
        { query: '{app="cmp"} |= "request 1"', limit: '100', direction: 'backward' },
        { query: 'sum by (level) (count_over_time({app="cmp"}[1m]))', step: '60' },
      ];
      const got: unknown[] = [];
      const latencies: number[] = [];
      for (const q of queries) {
        const startedAt = Date.now();
        got.push(await rangeResult(cluster.url('query-frontend'), q));
        latencies.push(Date.now() - startedAt);
      }
      const stillFlooding = floodDone < 4;
      flood.abort();
      await Promise.all(floods);
      for (let i = 0; i < queries.length; i++) expect(got[i]).toEqual(await rangeResult(single.url, queries[i]!));
      expect(stillFlooding).toBe(true);
      // The stated bound (docs/query-frontend.md), on this 2-core machine: 1.5 s for the log query's 5 sub-queries,
      // 2.5 s for the metric query's 80 — a few rounds of sub-queries, not the backlog. Measured: ~0.2 s and ~0.8 s
      // with the fair queues; ~3.2 s and ~3.1 s when the scheduler was made first-come-first-served.
      expect(latencies[0]).toBeLessThan(1_500);
      expect(latencies[1]).toBeLessThan(2_500);
    }, 120_000);
  });
});
