/**
 * The engine as a child process (`node engine/dist/main.js -config.file=...`) for the e2e suites and the benchmarks:
 * `EngineProcess` spawns it, waits for /ready and stops it; `EngineChild` adds what the HTTP benchmarks need (a data
 * directory of its own, CPU accounting from /proc, an optional inspector session for CPU profiles). A cleanup runs
 * however a benchmark ends (children killed, temp dirs removed). Also the configs the benchmarks and tests share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import type { CpuProfile } from './cpu-profile.js';
import { processCpuSeconds, threadCpuSeconds } from './machine.js';

export const ENGINE_ROOT = resolve(import.meta.dirname, '../..');
export const REPO_ROOT = resolve(ENGINE_ROOT, '..');

// ── cleanup ─────────────────────────────────────────────────────────────────────────────────────────────────────

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

function cleanupNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

let installed = false;
/** Kill children and remove temp dirs on exit, Ctrl-C, SIGTERM and crashes. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      cleanupNow();
      process.exit(130);
    });
  }
}

export function benchTempDir(prefix: string, base = tmpdir()): string {
  const d = mkdtempSync(join(base, prefix));
  dirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

// ── config ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface BenchConfigOptions {
  dir: string;
  port: number;
  encoding?: string;
  fsync?: 'always' | 'batch' | 'never';
  walEnabled?: boolean;
  /** Multi-tenant (X-Scope-OrgID required); otherwise everything goes to tenant `fake`. */
  auth?: boolean;
}

/** One schema period, v13 on the filesystem store with a 24 h index: every benchmark's and test's schema_config. */
export const SCHEMA_CONFIG_YAML = `schema_config:
  configs:
    - from: "2020-01-01"
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h`;

/** The chunk settings of the Loki reference runs (lz4, 256 KiB blocks, 1.5 MiB target), under `ingester:`. */
const BENCH_CHUNKS_YAML = (encoding = 'lz4-256k'): string => `  chunk_encoding: ${encoding}
  chunk_block_size: 262144
  chunk_target_size: 1572864`;

/** Limits out of the way: the benchmarks measure the engine, not rate limiting. */
const BENCH_LIMITS_YAML = `limits_config:
  ingestion_rate_mb: 1000000
  ingestion_burst_size_mb: 1000000
  per_stream_rate_limit: 1GB
  per_stream_rate_limit_burst: 1GB
  max_global_streams_per_user: 0
  max_streams_per_user: 0
  reject_old_samples: false
  creation_grace_period: 24h`;

/**
 * Single binary, filesystem store, schema v13, WAL on with fsync always (the default), lz4 256 KiB blocks and a
 * 1.5 MiB target (the Loki reference runs used the same chunk settings). Limits are out of the way: the benchmark
 * measures ingestion, not rate limiting.
 */
export function benchConfig(o: BenchConfigOptions): string {
  return `
auth_enabled: ${o.auth ?? false}
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${o.port}
  log_level: warn
common:
  path_prefix: ${o.dir}
  storage:
    filesystem:
      chunks_directory: ${o.dir}/chunks
      rules_directory: ${o.dir}/rules
${SCHEMA_CONFIG_YAML}
ingester:
${BENCH_CHUNKS_YAML(o.encoding)}
  wal:
    enabled: ${o.walEnabled ?? true}
    dir: ${o.dir}/wal
    fsync: ${o.fsync ?? 'always'}
${BENCH_LIMITS_YAML}
`;
}

export interface RingNodeConfigOptions {
  target: string;
  port: number;
  /** The node's own directory (WAL, path prefix). */
  dir: string;
  /** The filesystem object store every node shares. */
  storeDir: string;
  etcdUrl: string;
  /** `kvstore.prefix`: keeps clusters sharing one etcd apart. */
  ringPrefix: string;
  /** The ring instance id of an ingester. */
  id: string;
  /** YAML lines inside `ingester.lifecycler:` (indented 4 spaces). */
  lifecycler?: string;
  /** YAML lines inside `limits_config:` (indented 2 spaces). */
  limits?: string;
  /** Top-level YAML sections appended at the end. */
  extra?: string;
  /** The benchmarks' chunk settings and limits (else the engine's defaults). */
  benchSettings?: boolean;
}

/**
 * One process of a distributed Strata on loopback (the distributed-mode tests and benchmark): auth on, RF 3, a
 * shared filesystem store, the ingester ring in etcd, fast heartbeats and no join delay.
 */
export function ringNodeConfig(o: RingNodeConfigOptions): string {
  return `
target: ${o.target}
auth_enabled: true
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${o.port}
  log_level: warn
common:
  path_prefix: ${o.dir}
  replication_factor: 3
  storage:
    filesystem:
      chunks_directory: ${o.storeDir}/chunks
      rules_directory: ${o.storeDir}/rules
  ring:
    kvstore:
      store: etcd
      prefix: ${o.ringPrefix}
      etcd:
        endpoints: [${o.etcdUrl}]
${SCHEMA_CONFIG_YAML}
ingester:
  lifecycler:
    id: ${o.id}
    address: 127.0.0.1
    heartbeat_period: 1s
    join_after: 0s
${o.lifecycler ?? ''}
${o.benchSettings ? BENCH_CHUNKS_YAML() : ''}
  wal:
    enabled: true
    dir: ${o.dir}/wal
${o.benchSettings ? BENCH_LIMITS_YAML : o.limits ? 'limits_config:' : ''}
${o.limits ?? ''}
${o.extra ?? ''}`;
}

// ── the child ───────────────────────────────────────────────────────────────────────────────────────────────────

/** Tracks a child so `installCleanup`'s hooks SIGKILL it if this process ends first. */
export function trackChild(c: ChildProcess): void {
  children.add(c);
  c.once('exit', () => children.delete(c));
}

/** SIGKILLs a child (unless it has already exited) and resolves when it is gone. */
export async function killChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((done) => {
    c.once('exit', () => done());
    c.kill('SIGKILL');
  });
}

/**
 * The compiled engine (`node engine/dist/main.js -config.file=...`) as a child process, as a user runs it: the one
 * place that spawns it, waits for /ready and stops it, for the e2e suites and the benchmarks. `start` again after a
 * `kill` restarts it on the same config (a crash and recovery).
 */
export class EngineProcess {
  child: ChildProcess | undefined;
  /** The current child's stderr (its last 512 KiB once it passes 1 MiB). */
  stderr = '';

  constructor(
    readonly configFile: string,
    readonly port: number,
    /** Engine flags after `-config.file`. */
    readonly args: string[] = [],
    /** Extra environment for the child (Jest sandboxes process.env, so it must be passed explicitly). */
    readonly env: Record<string, string> = {},
    /** Node flags before the script, e.g. ['--max-old-space-size=4096']. */
    readonly nodeArgs: string[] = [],
  ) {}

  get url(): string {
    return `http://${this.addr}`;
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child!.pid!;
  }

  /** utime + stime of the whole engine process (every thread), seconds. */
  cpuSeconds(): number {
    return processCpuSeconds(this.pid);
  }

  /** Spawns the engine and resolves when /ready answers 200; rejects with its stderr if it exits or is not ready in 30 s. */
  async start(): Promise<void> {
    const main = join(ENGINE_ROOT, 'dist/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
    this.stderr = '';
    const child = spawn(process.execPath, [...this.nodeArgs, main, `-config.file=${this.configFile}`, ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    trackChild(child);
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (this.stderr.length > 1 << 20) this.stderr = this.stderr.slice(-(1 << 19));
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`engine (${this.configFile}) exited with ${child.exitCode} while starting:\n${this.stderr}`);
      if (Date.now() > deadline) {
        await killChild(child);
        throw new Error(`engine (${this.configFile}) not ready within 30 s:\n${this.stderr}`);
      }
      if ((await getText(`${this.url}/ready`).catch(() => undefined))?.status === 200) return;
      await sleep(50);
    }
  }

  /** Sends `signal` (SIGTERM: a graceful shutdown that flushes) and resolves with the exit code once it has exited. */
  kill(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    return new Promise((done) => {
      if (child === undefined) return done(null);
      if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
      child.once('exit', (code) => done(code));
      child.kill(signal);
    });
  }
}

export interface StartOptions {
  /** Extra node flags, e.g. ['--max-old-space-size=4096']. */
  nodeArgs?: string[];
  /** Open an inspector port so `startProfile`/`stopProfile` work. */
  inspect?: boolean;
  encoding?: string;
  fsync?: 'always' | 'batch' | 'never';
  auth?: boolean;
}

/** A benchmark's engine: its own data directory and `benchConfig`, thread CPU, metrics and inspector profiles. */
export class EngineChild extends EngineProcess {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(
    configFile: string,
    port: number,
    readonly dir: string,
    nodeArgs: string[],
  ) {
    super(configFile, port, [], {}, nodeArgs);
  }

  static async start(opts: StartOptions = {}): Promise<EngineChild> {
    const dir = benchTempDir('strata-bench-');
    const port = await freePort();
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, benchConfig({ dir, port, encoding: opts.encoding, fsync: opts.fsync, auth: opts.auth }));
    const nodeArgs = [...(opts.nodeArgs ?? [])];
    if (opts.inspect) nodeArgs.push('--inspect=127.0.0.1:0');
    const e = new EngineChild(configFile, port, dir, nodeArgs);
    try {
      await e.start();
      if (opts.inspect) await e.connectInspector();
    } catch (err) {
      await e.stop();
      throw err;
    }
    return e;
  }

  threads(): Map<number, { name: string; cpu: number }> {
    return threadCpuSeconds(this.pid);
  }

  async metrics(): Promise<string> {
    const r = await getText(`${this.url}/metrics`);
    return r.body;
  }

  /** Kills the engine (SIGKILL: nothing to flush, the data directory is thrown away) and removes its directory. */
  async stop(): Promise<void> {
    this.ws?.close();
    await this.kill('SIGKILL');
    removeTempDir(this.dir);
  }

  // ── profiling through the inspector: only the measured window is sampled ────────────────────────────────────

  private async connectInspector(): Promise<void> {
    const deadline = Date.now() + 5000;
    let url: string | undefined;
    while ((url = /Debugger listening on (ws:\/\/\S+)/.exec(this.stderr)?.[1]) === undefined) {
      if (Date.now() > deadline) throw new Error(`no inspector URL on the engine's stderr:\n${this.stderr}`);
      await sleep(20);
    }
    const ws = new WebSocket(url);
    await new Promise<void>((done, fail) => {
      ws.once('open', () => done());
      ws.once('error', fail);
    });
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    this.ws = ws;
    await this.send('Profiler.enable');
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolveSend, reject) => {
      this.pending.set(id, { resolve: resolveSend, reject });
      this.ws!.send(JSON.stringify({ id, method, params }));
    });
  }

  async startProfile(intervalUs = 500): Promise<void> {
    await this.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.send('Profiler.start');
  }

  async stopProfile(): Promise<CpuProfile> {
    const r = (await this.send('Profiler.stop')) as { profile: CpuProfile };
    return r.profile;
  }
}

// ── HTTP ────────────────────────────────────────────────────────────────────────────────────────────────────────

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = http.get(url, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
  });
}

/** A keep-alive HTTP client for pushes; one socket per concurrent request at most. */
export class PushClient {
  readonly agent: http.Agent;

  constructor(
    readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** POSTs one body; resolves with the status and (for errors) the response text. Never rejects on HTTP errors. */
  push(body: Buffer, contentType: string, tenant?: string): Promise<{ status: number; text: string }> {
    const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': body.length };
    if (tenant !== undefined) headers['x-scope-orgid'] = tenant;
    return new Promise((done, fail) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/loki/api/v1/push',
          agent: this.agent,
          headers,
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
