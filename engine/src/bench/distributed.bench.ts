/**
 * Distributed mode, every component its own process (`node engine/dist/main.js -target=...`) on loopback, with a real
 * etcd (`/usr/bin/etcd`) as the ring store:
 *
 * 1. Read path: ~1 GB of the seeded corpus is written to a filesystem store exactly as the query benchmark writes
 *    it (`seedCorpus` + `flushToStore`, in a child process), 3.5 hours in the past so queriers skip ingesters
 *    (`querier.query_ingesters_within`, 3 h) and read the store through the index gateway. An index gateway, a
 *    query scheduler, a query frontend and 1, then 2 queriers run a split (`split_queries_by_interval`) and sharded
 *    (shards sized from the index) range query through the frontend with `Cache-Control: no-cache`: wall-clock (best of N), MB of
 *    lines per wall-second, CPU-seconds of the queriers, speed-up. The answer must equal the single binary's
 *    (the same query evaluated by an engine over the same store, in the seeding child).
 * 2. Results cache: the same query with the cache on, once (miss) and then repeated (hits).
 * 3. Write path: 3 ingesters (RF 3, WAL on, fsync before acknowledging) and a distributor with an etcd ring; 4
 *    keep-alive clients push protobuf batches for a fixed time; MB/s of acknowledged line bytes and MB per
 *    CPU-second summed over the 4 processes, against one single binary pushed the same way in the same run.
 *
 * Every process is killed and every directory removed however the benchmark ends.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../core/config/config.js';
import { Engine } from '../core/engine.js';
import { metricSplitInterval, splitMetricByInterval } from '../core/frontend/split.js';
import { evaluate } from '../core/logql/engine/index.js';
import type { SampleExpr } from '../core/logql/syntax/ast.js';
import { parseExpr } from '../core/logql/syntax/parser.js';
import { newStats } from '../core/querier/querier.js';
import { metricResponse } from '../core/querier/response.js';
import { nopLogger } from '../core/util/logger.js';
import { benchConfig, benchTempDir, EngineProcess, freePort, getText, installCleanup, PushClient, removeTempDir, ringNodeConfig, sleep, trackChild } from './engine-process.js';
import { EtcdServer } from './etcd-process.js';
import { CONTENT_TYPE, prepareCorpus, runIngest, type PreparedBatch, type PreparedCorpus } from './ingest.bench.js';
import { flushToStore, seedCorpus, TENANT } from './query.bench.js';

export interface DistributedBenchOptions {
  /** Line MB (10^6 B) written to the store for the read path. */
  lineMB: number;
  seed: number;
  /** Timed runs per querier count, after one warm-up run; the best is reported. */
  runs: number;
  /** Cache hits timed after the miss. */
  cacheHits: number;
  /** Push time per system (cluster, single binary). */
  pushSeconds: number;
  pushClients: number;
  /** Line bytes of protobuf batches prepared for the push (replayed once per tenant as needed). */
  pushCorpusBytes: number;
  /** `split_queries_by_interval`, minutes. */
  splitMinutes: number;
}

export const DEFAULT_DISTRIBUTED_BENCH: DistributedBenchOptions = {
  lineMB: 1000,
  seed: 42,
  runs: 3,
  cacheHits: 20,
  pushSeconds: 20,
  pushClients: 4,
  pushCorpusBytes: 160e6,
  splitMinutes: 15,
};

export const DISTRIBUTED_QUERY = 'sum by (level) (count_over_time({namespace=~".+"}[5m]))';
const STEP_S = 60;
/** How far in the past the corpus ends: older than `query_ingesters_within` (3 h) for the whole run. */
const AGE_MS = 3.5 * 3_600_000;

/** One querier count: the best of the timed runs. */
export interface QueryRunMeasure {
  queriers: number;
  wallSeconds: number;
  /** utime + stime of the querier processes, summed (lowest over the runs). */
  querierCpuSeconds: number;
  /** Frontend, scheduler and index gateway, summed (lowest over the runs). */
  otherCpuSeconds: number;
  /** Line MB of the corpus per wall-second. */
  wallMBps: number;
  /** Chunks read, summed over the sub-queries (the frontend's stats). */
  chunksFetched: number;
}

export interface PushMeasure {
  system: string;
  requests: number;
  lineBytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU-seconds per process (distributor, ingester-1, …). */
  cpuByProcess: Record<string, number>;
  wallMBps: number;
  mbPerCpuSecond: number;
}

/** The seeded store: what the seeding child wrote and how long it took. */
export interface SeededStore {
  lineBytes: number;
  lines: number;
  streams: number;
  spanMinutes: number;
  storeChunks: number;
  storeBytes: number;
  seedSeconds: number;
}

export interface DistributedBenchResult extends SeededStore {
  query: string;
  stepSeconds: number;
  splitMinutes: number;
  /** As the frontend reported them (it sizes shards from the index: 0 when a split is small enough for one). */
  splits: number;
  shards: number;
  subqueries: number;
  /** Timed runs per querier count. */
  runs: number;
  /** The same query in one process (an engine over the same store), best of the runs. */
  single: { wallSeconds: number; cpuSeconds: number; chunksFetched: number; answer: string };
  queries: QueryRunMeasure[];
  /** Wall-clock of 1 querier over wall-clock of 2. */
  speedUp: number;
  /** Answers that differ from the single binary's: each is a failure. */
  mismatches: string[];
  cache: { missMs: number; hitMedianMs: number; hitMaxMs: number; hits: number; querierCpuDuringHits: number };
  push: PushMeasure[];
  seconds: number;
}

const NS_PER_MS = 1_000_000n;

// ── processes ───────────────────────────────────────────────────────────────────────────────────────────────────

/** Polls `cond` until it holds; a poll that throws counts as "not yet", unless `dead()` names a reason to give up. */
async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs: number, detail: () => string = () => '', dead: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = dead();
    if (reason !== undefined) throw new Error(`${what}: ${reason}\n${detail()}`);
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${detail()}`);
    await sleep(50);
  }
}

/** One engine process of the cluster: its own directory (named after it) and port, the shared store, the etcd ring. */
class Node extends EngineProcess {
  constructor(
    readonly name: string,
    port: number,
    root: string,
  ) {
    super(join(root, name, 'config.yaml'), port);
  }
}

interface ClusterSettings {
  root: string;
  storeDir: string;
  etcdUrl: string;
  ringPrefix: string;
  splitMinutes: number;
}

/** The YAML every node shares, plus the node's own lines; `extra` is appended (the yaml parser keeps later keys). */
function nodeConfig(c: ClusterSettings, node: Node, target: string, extra = ''): string {
  return ringNodeConfig({
    target,
    port: node.port,
    dir: join(c.root, node.name),
    storeDir: c.storeDir,
    etcdUrl: c.etcdUrl,
    ringPrefix: c.ringPrefix,
    id: node.name,
    benchSettings: true,
    limits: `  split_queries_by_interval: ${c.splitMinutes}m`,
    extra,
  });
}

async function startNode(c: ClusterSettings, node: Node, target: string, extra = ''): Promise<Node> {
  mkdirSync(join(c.root, node.name), { recursive: true });
  writeFileSync(node.configFile, nodeConfig(c, node, target, extra));
  await node.start();
  return node;
}

// ── the read path ───────────────────────────────────────────────────────────────────────────────────────────────

interface SeedResult extends SeededStore {
  /** Query range, nanoseconds as decimal strings (multiples of the step). */
  start: string;
  end: string;
  single: { wallSeconds: number; cpuSeconds: number; chunksFetched: number; result: unknown };
}

/** The HTTP API's `data.result` in a canonical order (series by labels), as JSON: what the comparison compares. */
function canonical(result: unknown): string {
  const series = result as Array<{ metric: Record<string, string>; values: unknown[] }>;
  return JSON.stringify([...series].sort((a, b) => (JSON.stringify(a.metric) < JSON.stringify(b.metric) ? -1 : 1)));
}

function describeMatrix(result: unknown): string {
  const series = result as Array<{ values: Array<[number, string]> }>;
  let points = 0;
  let total = 0;
  for (const s of series) {
    points += s.values.length;
    for (const v of s.values) total += Number(v[1]);
  }
  return `${series.length} series, ${points} points, sum of values ${total}`;
}

/** Runs the seeding child: the corpus into `storeDir`, and the single binary's answer and timing. */
function seedStore(o: DistributedBenchOptions, storeDir: string, log: (s: string) => void): Promise<SeedResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise<SeedResult>((done, fail) => {
    const child = spawn(process.execPath, ['--max-old-space-size=12288', self, '--dist-seed-child', JSON.stringify(o), storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      for (let nl = err.indexOf('\n'); nl >= 0; nl = err.indexOf('\n')) {
        log(err.slice(0, nl));
        err = err.slice(nl + 1);
      }
    });
    child.on('exit', (code, signal) => {
      if (code !== 0) return fail(new Error(`distributed bench seeding child failed (${signal ?? code}): ${err}`));
      try {
        done(JSON.parse(out.trim().split('\n').pop()!) as SeedResult);
      } catch (e) {
        fail(new Error(`distributed bench seeding child printed no result: ${(e as Error).message}\n${out}`));
      }
    });
  });
}

async function seedChild(o: DistributedBenchOptions, storeDir: string): Promise<void> {
  const progress = (s: string): void => void process.stderr.write(`  ${s}\n`);
  const t0 = performance.now();
  const config = loadConfig({ text: benchConfig({ dir: storeDir, port: 0, walEnabled: false }) });
  // Not started: no flush timer and no compactor; the flush below writes every chunk and index file.
  const engine = new Engine(config, 'all', { logger: nopLogger });
  engine.state = 'Running';
  const seeded = await seedCorpus(engine, { lineMB: o.lineMB, seed: o.seed, nowMs: Date.now() - AGE_MS });
  const stored = await flushToStore(engine);
  const seedSeconds = (performance.now() - t0) / 1000;
  progress(
    `seeded ${(seeded.lineBytes / 1e6).toFixed(0)} MB (${seeded.lines} lines, ${seeded.volumes.size} streams) and flushed it to the store ` +
      `(${stored.chunks} chunk objects, ${(stored.bytes / 1e6).toFixed(0)} MB) in ${seedSeconds.toFixed(1)} s`,
  );

  // The query range: whole minutes, so the frontend's step alignment changes nothing; every [5m] window is full.
  const stepNs = BigInt(STEP_S) * 1_000_000_000n;
  const start = (BigInt(seeded.startMs) * NS_PER_MS / stepNs + 1n) * stepNs + 5n * 60_000_000_000n;
  const end = (BigInt(seeded.startMs + seeded.spanMs) * NS_PER_MS / stepNs + 1n) * stepNs;
  if (end <= start) {
    throw new Error(`${(seeded.lineBytes / 1e6).toFixed(0)} MB span ${(seeded.spanMs / 60_000).toFixed(1)} minutes: the query needs more than 5 (--query-mb of 100 or more)`);
  }
  const expr = parseExpr(DISTRIBUTED_QUERY) as SampleExpr;
  let best = { wall: Infinity, cpu: Infinity };
  let result: unknown;
  let chunksFetched = 0;
  for (let i = 0; i <= o.runs; i++) {
    const stats = newStats();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const r = await evaluate({ expr, start, end, step: stepNs }, { source: engine.querier.sampleSource(TENANT, undefined, stats) });
    const wall = (performance.now() - w0) / 1000;
    const c = process.cpuUsage(c0);
    // Run 0 warms up.
    if (i > 0) best = { wall: Math.min(best.wall, wall), cpu: Math.min(best.cpu, (c.user + c.system) / 1e6) };
    result = metricResponse(r, stats, 0n).data.result;
    chunksFetched = stats.chunksFetched;
  }
  progress(`single binary (in-process, same store): ${best.wall.toFixed(2)} s wall, ${best.cpu.toFixed(2)} CPU-s; ${describeMatrix(result)}`);
  const out: SeedResult = {
    lineBytes: seeded.lineBytes,
    lines: seeded.lines,
    streams: seeded.volumes.size,
    spanMinutes: seeded.spanMs / 60_000,
    storeChunks: stored.chunks,
    storeBytes: stored.bytes,
    seedSeconds,
    start: start.toString(),
    end: end.toString(),
    single: { wallSeconds: best.wall, cpuSeconds: best.cpu, chunksFetched, result },
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

interface RangeAnswer {
  result: unknown;
  chunksFetched: number;
  /** What the frontend reported: time splits, shards per split (0: not sharded), sub-queries. */
  summary: { splits: number; shards: number; subqueries: number };
  ms: number;
}

async function queryRange(frontend: Node, seed: SeedResult, noCache: boolean): Promise<RangeAnswer> {
  const p = new URLSearchParams({ query: DISTRIBUTED_QUERY, start: seed.start, end: seed.end, step: String(STEP_S) });
  const headers: Record<string, string> = { 'X-Scope-OrgID': TENANT };
  if (noCache) headers['Cache-Control'] = 'no-cache';
  const t0 = performance.now();
  const r = await getText(`${frontend.url}/loki/api/v1/query_range?${p}`, headers);
  const ms = performance.now() - t0;
  if (r.status !== 200) throw new Error(`query through the frontend: HTTP ${r.status}: ${r.body.slice(0, 1000)}`);
  const body = JSON.parse(r.body) as {
    data: { result: unknown; stats: { summary: RangeAnswer['summary']; querier: { store: { totalChunksRef: number } } } };
  };
  const { splits, shards, subqueries } = body.data.stats.summary;
  return { result: body.data.result, chunksFetched: body.data.stats.querier.store.totalChunksRef, summary: { splits, shards, subqueries }, ms };
}

async function connectedQueriers(scheduler: Node): Promise<number> {
  const text = (await getText(`${scheduler.url}/metrics`)).body;
  const m = /^loki_query_scheduler_connected_querier_clients (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function readPath(
  o: DistributedBenchOptions,
  seed: SeedResult,
  c: ClusterSettings,
  log: (s: string) => void,
): Promise<Pick<DistributedBenchResult, 'queries' | 'speedUp' | 'mismatches' | 'cache' | 'splits' | 'shards' | 'subqueries'>> {
  const names = ['index-gateway', 'query-scheduler', 'query-frontend', 'querier-1', 'querier-2'];
  const nodes = new Map<string, Node>();
  for (const n of names) nodes.set(n, new Node(n, await freePort(), c.root));
  const node = (n: string): Node => nodes.get(n)!;
  const reader = `
storage_config:
  tsdb_shipper:
    index_gateway_client:
      server_address: ${node('index-gateway').addr}
frontend_worker:
  scheduler_address: ${node('query-scheduler').addr}
frontend:
  scheduler_address: ${node('query-scheduler').addr}
query_range:
  cache_results: true
  results_cache:
    cache:
      embedded_cache:
        enabled: true
`;
  try {
    await Promise.all([startNode(c, node('index-gateway'), 'index-gateway'), startNode(c, node('query-scheduler'), 'query-scheduler')]);
    await Promise.all([startNode(c, node('query-frontend'), 'query-frontend', reader), startNode(c, node('querier-1'), 'querier', reader)]);
    const want = canonical(seed.single.result);
    const mismatches: string[] = [];
    const check = (what: string, a: RangeAnswer): void => {
      const got = canonical(a.result);
      if (got !== want) {
        const m = `${what}: the frontend answered ${describeMatrix(a.result)}, the single binary ${describeMatrix(seed.single.result)}`;
        mismatches.push(m);
        log(`  FAIL ${m}`);
      }
    };
    const scheduler = node('query-scheduler');
    const others = [node('query-frontend'), scheduler, node('index-gateway')];
    const queries: QueryRunMeasure[] = [];
    for (const count of [1, 2]) {
      if (count === 2) await startNode(c, node('querier-2'), 'querier', reader);
      await waitUntil(`${count} querier(s) connected to the scheduler`, async () => (await connectedQueriers(scheduler)) >= count, 30_000);
      const queriers = names.filter((n) => n.startsWith('querier-')).slice(0, count).map(node);
      const sum = (ns: Node[]): number => ns.reduce((s, n) => s + n.cpuSeconds(), 0);
      check(`${count} querier(s), warm-up`, await queryRange(node('query-frontend'), seed, true));
      let best: QueryRunMeasure = { queriers: count, wallSeconds: Infinity, querierCpuSeconds: Infinity, otherCpuSeconds: Infinity, wallMBps: 0, chunksFetched: 0 };
      for (let i = 0; i < o.runs; i++) {
        const q0 = sum(queriers);
        const o0 = sum(others);
        const a = await queryRange(node('query-frontend'), seed, true);
        const qCpu = sum(queriers) - q0;
        const oCpu = sum(others) - o0;
        check(`${count} querier(s), run ${i + 1}`, a);
        best = {
          queriers: count,
          wallSeconds: Math.min(best.wallSeconds, a.ms / 1000),
          querierCpuSeconds: Math.min(best.querierCpuSeconds, qCpu),
          otherCpuSeconds: Math.min(best.otherCpuSeconds, oCpu),
          wallMBps: 0,
          chunksFetched: a.chunksFetched,
        };
      }
      best.wallMBps = seed.lineBytes / 1e6 / best.wallSeconds;
      queries.push(best);
      log(
        `  ${count} querier(s): ${best.wallSeconds.toFixed(2)} s wall (${best.wallMBps.toFixed(0)} MB/s), queriers ${best.querierCpuSeconds.toFixed(2)} CPU-s, ` +
          `frontend+scheduler+gateway ${best.otherCpuSeconds.toFixed(2)} CPU-s, ${best.chunksFetched} chunks read over the sub-queries`,
      );
    }

    // The results cache: nothing is cached yet (the runs above sent no-cache, which neither reads nor writes it).
    const queriers = [node('querier-1'), node('querier-2')];
    const miss = await queryRange(node('query-frontend'), seed, false);
    check('cache miss', miss);
    const q0 = queriers.reduce((s, n) => s + n.cpuSeconds(), 0);
    const hits: number[] = [];
    for (let i = 0; i < o.cacheHits; i++) {
      const a = await queryRange(node('query-frontend'), seed, false);
      check(`cache hit ${i + 1}`, a);
      hits.push(a.ms);
    }
    const querierCpuDuringHits = queriers.reduce((s, n) => s + n.cpuSeconds(), 0) - q0;
    hits.sort((a, b) => a - b);
    const cache = {
      missMs: miss.ms,
      hitMedianMs: hits[Math.floor((hits.length - 1) / 2)]!,
      hitMaxMs: hits[hits.length - 1]!,
      hits: hits.length,
      querierCpuDuringHits,
    };
    log(
      `  results cache: miss ${cache.missMs.toFixed(0)} ms, median of ${cache.hits} hits ${cache.hitMedianMs.toFixed(1)} ms (max ${cache.hitMaxMs.toFixed(1)} ms; ` +
        `querier CPU during the hits ${querierCpuDuringHits.toFixed(2)} s)`,
    );
    return { queries, speedUp: queries[0]!.wallSeconds / queries[1]!.wallSeconds, mismatches, cache, ...miss.summary };
  } finally {
    await Promise.all([...nodes.values()].map((n) => n.kill('SIGKILL')));
  }
}

// ── the write path ──────────────────────────────────────────────────────────────────────────────────────────────

/** Clients push their queues (replayed once per tenant) until the time is up; counts acknowledged line bytes. */
async function pushFor(
  port: number,
  corpus: PreparedCorpus,
  seconds: number,
  warmupBatches: number,
  cpu: () => Record<string, number>,
): Promise<{ requests: number; lineBytes: number; wallSeconds: number; cpuByProcess: Record<string, number> }> {
  const client = new PushClient(port, corpus.queues.length);
  const send = async (b: PreparedBatch, tenant: string): Promise<void> => {
    const r = await client.push(b.proto, CONTENT_TYPE.protobuf, tenant);
    if (r.status !== 204) throw new Error(`push through the distributor failed: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  };
  try {
    await Promise.all(
      corpus.queues.map(async (q) => {
        for (let i = 0; i < Math.min(warmupBatches, q.length); i++) await send(q[i]!, 'warmup');
      }),
    );
    let requests = 0;
    let lineBytes = 0;
    const cpu0 = cpu();
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      corpus.queues.map(async (q) => {
        for (let n = 0; performance.now() < deadline; n++) {
          const b = q[n % q.length]!;
          await send(b, `bench-${Math.floor(n / q.length)}`);
          requests++;
          lineBytes += b.lineBytes;
        }
      }),
    );
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu1 = cpu();
    return { requests, lineBytes, wallSeconds, cpuByProcess: Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, v - cpu0[k]!])) };
  } finally {
    client.close();
  }
}

async function writePath(o: DistributedBenchOptions, c: ClusterSettings, corpus: PreparedCorpus, log: (s: string) => void): Promise<PushMeasure> {
  const ingesters = await Promise.all(['ingester-1', 'ingester-2', 'ingester-3'].map(async (n) => new Node(n, await freePort(), c.root)));
  const distributor = new Node('distributor', await freePort(), c.root);
  const all = [distributor, ...ingesters];
  try {
    await Promise.all(ingesters.map((n) => startNode(c, n, 'ingester')));
    await startNode(c, distributor, 'distributor');
    await waitUntil(
      'the distributor sees 3 ACTIVE ingesters',
      async () => {
        const r = await getText(`${distributor.url}/ring`, { accept: 'application/json' });
        const body = JSON.parse(r.body) as { instances: Array<{ id: string; state: string }> };
        return body.instances.filter((i) => i.state === 'ACTIVE').length === 3;
      },
      30_000,
    );
    const r = await pushFor(distributor.port, corpus, o.pushSeconds, 5, () => Object.fromEntries(all.map((n) => [n.name, n.cpuSeconds()])));
    const cpuByProcess = r.cpuByProcess;
    const cpuSeconds = Object.values(cpuByProcess).reduce((a, b) => a + b, 0);
    const m: PushMeasure = {
      system: 'distributor + 3 ingesters (RF 3)',
      requests: r.requests,
      lineBytes: r.lineBytes,
      wallSeconds: r.wallSeconds,
      cpuSeconds,
      cpuByProcess,
      wallMBps: r.lineBytes / 1e6 / r.wallSeconds,
      mbPerCpuSecond: r.lineBytes / 1e6 / cpuSeconds,
    };
    log(
      `  cluster push: ${m.wallMBps.toFixed(1)} MB/s wall, ${m.mbPerCpuSecond.toFixed(1)} MB per CPU-second (${(m.lineBytes / 1e6).toFixed(0)} MB in ` +
        `${m.wallSeconds.toFixed(1)} s, ${m.cpuSeconds.toFixed(2)} CPU-s: ${Object.entries(cpuByProcess).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`,
    );
    return m;
  } finally {
    await Promise.all(all.map((n) => n.kill('SIGKILL')));
  }
}

// ── the whole benchmark ─────────────────────────────────────────────────────────────────────────────────────────

export async function runDistributedBench(o: DistributedBenchOptions = DEFAULT_DISTRIBUTED_BENCH, log: (s: string) => void = () => {}): Promise<DistributedBenchResult> {
  const t0 = performance.now();
  installCleanup(); // every child (etcd, the seeding child, the nodes) is killed however this process ends
  const root = benchTempDir('strata-bench-dist-');
  let etcd: EtcdServer | undefined;
  try {
    const storeDir = join(root, 'store');
    log('distributed: seeding the store (child process)');
    const seed = await seedStore(o, storeDir, log);
    etcd = await EtcdServer.start(root);
    const etcdUrl = etcd.url;
    const expr = parseExpr(DISTRIBUTED_QUERY) as SampleExpr;
    const splits = splitMetricByInterval(BigInt(seed.start), BigInt(seed.end), BigInt(STEP_S) * 1_000_000_000n, metricSplitInterval(BigInt(o.splitMinutes) * 60_000n * NS_PER_MS, expr)).length;
    log(`distributed: ${DISTRIBUTED_QUERY} over ${seed.spanMinutes.toFixed(0)} minutes, step ${STEP_S}s: ${splits} splits`);
    const read = await readPath(o, seed, { root, storeDir, etcdUrl, ringPrefix: 'strata-bench-read/', splitMinutes: o.splitMinutes }, log);
    log(`  the frontend ran ${read.splits} splits × ${read.shards || 'no'} shards = ${read.subqueries} sub-queries`);

    log('distributed: push through a distributor to 3 ingesters (RF 3), then to one single binary');
    const corpus = prepareCorpus(o.seed, o.pushClients, o.pushCorpusBytes, Date.now() - 10 * 60_000);
    const pushDir = join(root, 'push');
    const cluster = await writePath(o, { root: pushDir, storeDir: join(pushDir, 'store'), etcdUrl, ringPrefix: 'strata-bench-push/', splitMinutes: o.splitMinutes }, corpus, log);
    const single = await runIngest('protobuf', corpus, { seconds: o.pushSeconds, maxLineBytes: 1e12, warmupBatches: 5, profile: false });
    const singleMeasure: PushMeasure = {
      system: 'single binary',
      requests: single.requests,
      lineBytes: single.lineBytes,
      wallSeconds: single.wallSeconds,
      cpuSeconds: single.cpuSeconds,
      cpuByProcess: { 'single binary': single.cpuSeconds },
      wallMBps: single.wallMBps,
      mbPerCpuSecond: single.mbPerCpuSecond,
    };
    log(`  single binary push: ${single.wallMBps.toFixed(1)} MB/s wall, ${single.mbPerCpuSecond.toFixed(1)} MB per CPU-second`);

    return {
      lineBytes: seed.lineBytes,
      lines: seed.lines,
      streams: seed.streams,
      spanMinutes: seed.spanMinutes,
      storeChunks: seed.storeChunks,
      storeBytes: seed.storeBytes,
      seedSeconds: seed.seedSeconds,
      query: DISTRIBUTED_QUERY,
      stepSeconds: STEP_S,
      splitMinutes: o.splitMinutes,
      runs: o.runs,
      single: { ...seed.single, answer: describeMatrix(seed.single.result) },
      ...read,
      push: [cluster, singleMeasure],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (etcd) await etcd.stop();
    removeTempDir(root);
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** The BENCHMARKS.md section of this benchmark. */
export function renderDistributed(r: DistributedBenchResult): string[] {
  const f2 = (x: number): string => x.toFixed(2);
  const f0 = (x: number): string => x.toFixed(0);
  const f1 = (x: number): string => x.toFixed(1);
  const ok = r.mismatches.length === 0;
  const out: string[] = [
    `### Distributed mode (every component its own process, etcd ring)`,
    '',
    `Range query \`${r.query.replace(/\|/g, '\\|')}\` over ${f0(r.lineBytes / 1e6)} MB of lines (${r.streams} streams, ${f0(r.spanMinutes)} minutes, ` +
      `${r.storeChunks} chunks in the filesystem store), step ${r.stepSeconds}s, through the query frontend: ${r.splits} splits of ${r.splitMinutes} minutes × ` +
      `${r.shards > 0 ? `${r.shards} shards` : 'no shards (each split is within tsdb_max_bytes_per_shard)'} = ${r.subqueries} sub-queries, ` +
      `\`Cache-Control: no-cache\`; best of ${r.runs} runs after a warm-up.`,
    '',
    '| queriers | wall s | MB of lines per wall-second | querier CPU-s (summed) | frontend + scheduler + gateway CPU-s | chunks read (all sub-queries) | speed-up | answer = single binary |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const q of r.queries) {
    out.push(
      `| ${q.queriers} | ${f2(q.wallSeconds)} | ${f0(q.wallMBps)} | ${f2(q.querierCpuSeconds)} | ${f2(q.otherCpuSeconds)} | ${q.chunksFetched} | ${q.queriers === 1 ? '1.00×' : `${f2(r.speedUp)}×`} | ${ok ? '✅ identical' : '❌ differs'} |`,
    );
  }
  out.push(
    `| single binary (one process, in-process call) | ${f2(r.single.wallSeconds)} | ${f0(r.lineBytes / 1e6 / r.single.wallSeconds)} | ${f2(r.single.cpuSeconds)} (the process) | | ${r.single.chunksFetched} | | ${r.single.answer} |`,
    '',
  );
  if (!ok) {
    out.push('**Wrong answers:**', '');
    for (const m of r.mismatches) out.push(`- ❌ ${m}`);
    out.push('');
  }
  out.push(
    '| results cache (same query, cache on) | latency |',
    '| --- | ---: |',
    `| first run (miss: every split computed and stored) | ${f0(r.cache.missMs)} ms |`,
    `| median of ${r.cache.hits} hits | ${f1(r.cache.hitMedianMs)} ms (max ${f1(r.cache.hitMaxMs)} ms; querier CPU during all hits ${f2(r.cache.querierCpuDuringHits)} s) |`,
    '',
    '| push (protobuf, WAL on, fsync before acknowledging) | line MB acknowledged | wall s | wall MB/s | CPU-s | MB per CPU-second | CPU-s by process |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const p of r.push) {
    const by = Object.entries(p.cpuByProcess)
      .map(([k, v]) => `${k} ${f2(v)}`)
      .join(', ');
    out.push(`| ${p.system} | ${f0(p.lineBytes / 1e6)} | ${f1(p.wallSeconds)} | ${f1(p.wallMBps)} | ${f2(p.cpuSeconds)} | ${f1(p.mbPerCpuSecond)} | ${by} |`);
  }
  out.push('');
  return out;
}

if (process.argv[2] === '--dist-seed-child' && import.meta.url === pathToFileURL(resolve(process.argv[1]!)).href) {
  seedChild(JSON.parse(process.argv[3]!) as DistributedBenchOptions, process.argv[4]!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
