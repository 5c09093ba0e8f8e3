/**
 * Ingest throughput over HTTP: N shippers push pre-encoded ~1 MB / ~5000-line batches to an engine child process
 * (WAL on, fsync always) for a bounded time; the engine's own CPU time (all threads, from /proc) gives MB of line
 * bytes per CPU-second. Every body is encoded before the clock starts, so the client's encoding is not measured.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { Agent, encodeJsonBody, encodeProtoBody } from './corpus.js';
import { summariseProfile, type ProfileSummary } from './cpu-profile.js';
import { EngineChild, PushClient } from './engine-process.js';
import { threadCpuDelta } from './machine.js';

export type PushFormat = 'protobuf' | 'json';

export const CONTENT_TYPE: Record<PushFormat, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

export interface PreparedBatch {
  proto: Buffer;
  json: Buffer;
  lines: number;
  lineBytes: number;
}

export interface PreparedCorpus {
  /** One queue per shipper, in send order (each shipper's timestamps only increase). */
  queues: PreparedBatch[][];
  lineBytes: number;
  lines: number;
  protoBytes: number;
  jsonBytes: number;
  streams: number;
  buildSeconds: number;
}

/** Generates and encodes `totalLineBytes` of batches spread over `agents` shippers (round robin). */
export function prepareCorpus(seed: number, agents: number, totalLineBytes: number, startMs: number): PreparedCorpus {
  const t0 = performance.now();
  const gens = Array.from({ length: agents }, (_, i) => new Agent({ seed: seed * 1000 + i, startMs }));
  const queues: PreparedBatch[][] = gens.map(() => []);
  let lineBytes = 0;
  let lines = 0;
  let protoBytes = 0;
  let jsonBytes = 0;
  for (let i = 0; lineBytes < totalLineBytes; i++) {
    const a = i % agents;
    const b = gens[a]!.nextBatch(5000, 1024 * 1024);
    const p: PreparedBatch = { proto: encodeProtoBody(b), json: encodeJsonBody(b), lines: b.lines, lineBytes: b.lineBytes };
    queues[a]!.push(p);
    lineBytes += b.lineBytes;
    lines += b.lines;
    protoBytes += p.proto.length;
    jsonBytes += p.json.length;
  }
  return {
    queues,
    lineBytes,
    lines,
    protoBytes,
    jsonBytes,
    streams: gens.reduce((n, g) => n + g.streams.length, 0),
    buildSeconds: (performance.now() - t0) / 1000,
  };
}

export interface IngestOptions {
  seconds: number;
  /** Stop once this many line bytes were sent (the time bound usually ends the run first). */
  maxLineBytes: number;
  /** Batches each shipper sends before the measurement starts (JIT warm-up, first chunks and WAL segment). */
  warmupBatches: number;
  profile: boolean;
  /** Where to save the raw .cpuprofile when profiling. */
  profileFile?: string;
  /**
   * Record the whole engine process (every thread: GC helpers, libuv pool, native code of the codecs) with Linux
   * `perf` into this file during the measurement. The JS profile only sees the main thread.
   */
  perfFile?: string;
}

export interface IngestResult {
  format: PushFormat;
  clients: number;
  requests: number;
  lines: number;
  lineBytes: number;
  bodyBytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** Line MB (10^6 bytes) per engine CPU-second. */
  mbPerCpuSecond: number;
  wallMBps: number;
  /** Engine CPU seconds by thread kind during the measurement. */
  threads: Record<string, number>;
  /** Tenants used: the corpus is replayed once per tenant. */
  tenants: number;
  profile?: ProfileSummary;
  /** `perf report` summaries (by thread and library, and by symbol), when recorded. */
  perf?: string;
}

/**
 * The engine runs multi-tenant and each shipper replays its queue once per tenant (`bench-0`, `bench-1`, ...), so a
 * few hundred MB of prepared batches feed a run of any length while every stream's timestamps still only increase
 * (a replay is a new set of streams, as another cluster's shipper would be).
 */
export async function runIngest(format: PushFormat, corpus: PreparedCorpus, o: IngestOptions): Promise<IngestResult> {
  const engine = await EngineChild.start({
    inspect: o.profile,
    auth: true,
    // JIT frames get names in perf through /tmp/perf-<pid>.map (removed when the engine stops).
    nodeArgs: o.perfFile ? ['--perf-basic-prof-only-functions'] : [],
  });
  const clients = corpus.queues.length;
  const client = new PushClient(engine.port, clients);
  const ct = CONTENT_TYPE[format];
  const body = (b: PreparedBatch): Buffer => (format === 'json' ? b.json : b.proto);
  const send = async (b: PreparedBatch, tenant: string): Promise<void> => {
    const r = await client.push(body(b), ct, tenant);
    if (r.status !== 204) throw new Error(`${format} push failed: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  };
  try {
    // Warm-up, not measured, in a tenant of its own.
    await Promise.all(
      corpus.queues.map(async (q) => {
        for (let i = 0; i < Math.min(o.warmupBatches, q.length); i++) await send(q[i]!, 'warmup');
      }),
    );
    if (o.profile) await engine.startProfile();
    const perf = o.perfFile ? await PerfRecording.start(engine.pid, o.perfFile) : undefined;
    let requests = 0;
    let lines = 0;
    let lineBytes = 0;
    let bodyBytes = 0;
    let tenants = 1;
    const threads0 = engine.threads();
    const cpu0 = engine.cpuSeconds();
    const t0 = performance.now();
    const deadline = t0 + o.seconds * 1000;
    await Promise.all(
      corpus.queues.map(async (q) => {
        for (let n = 0; performance.now() < deadline && lineBytes < o.maxLineBytes; n++) {
          const cycle = Math.floor(n / q.length);
          const b = q[n % q.length]!;
          await send(b, `bench-${cycle}`);
          tenants = Math.max(tenants, cycle + 1);
          requests++;
          lines += b.lines;
          lineBytes += b.lineBytes;
          bodyBytes += body(b).length;
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = engine.cpuSeconds() - cpu0;
    const threads = threadCpuDelta(engine.pid, threads0, engine.threads());
    const perfSummary = perf ? await perf.stop() : undefined;
    let profile: ProfileSummary | undefined;
    if (o.profile) {
      const raw = await engine.stopProfile();
      if (o.profileFile) writeFileSync(o.profileFile, JSON.stringify(raw));
      profile = summariseProfile(raw, 30);
    }
    return {
      format,
      clients,
      requests,
      lines,
      lineBytes,
      bodyBytes,
      wallSeconds: wall,
      cpuSeconds: cpu,
      mbPerCpuSecond: lineBytes / 1e6 / cpu,
      wallMBps: lineBytes / 1e6 / wall,
      threads,
      tenants,
      profile,
      perf: perfSummary,
    };
  } finally {
    client.close();
    await engine.stop();
    if (o.perfFile) rmSync(`/tmp/perf-${engine.pid}.map`, { force: true });
  }
}

/** `perf record -g` of one process until stopped; `stop()` returns the text summary. */
class PerfRecording {
  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
  ) {}

  static async start(pid: number, file: string): Promise<PerfRecording> {
    const child = spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    if (child.exitCode !== null) throw new Error(`perf record failed (is perf installed, and perf_event_paranoid low enough?): ${err}`);
    return new PerfRecording(child, file);
  }

  async stop(): Promise<string> {
    await new Promise<void>((done) => {
      this.child.once('exit', () => done());
      this.child.kill('SIGINT');
    });
    const report = (sort: string, top: number): string => {
      const out = execFileSync('perf', ['report', '-i', this.file, '--no-children', '--sort', sort, '-g', 'none', '--stdio'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return out
        .split('\n')
        .filter((l) => /^\s+[\d.]+%/.test(l))
        .slice(0, top)
        .map((l) => `  ${l.trim().replace(/\s{2,}/g, '  ').slice(0, 160)}`)
        .join('\n');
    };
    return [
      `perf: whole engine process, by thread and library (${this.file})`,
      report('comm,dso', 12),
      'perf: by symbol',
      report('sym', 30),
    ].join('\n');
  }
}
