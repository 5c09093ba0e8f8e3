/**
 * `npm run bench` (= build, then `node engine/dist/bench/run.js [options]`): every benchmark, machine facts, and the
 * generated section of BENCHMARKS.md. See the preamble in report.ts for what each benchmark measures.
 *
 * Options: --only=ingest,latency,memory,chunk,query,compaction,distributed  --seconds=N (ingest time bound, default 15)
 * --query-mb=N (MB of lines for the query and distributed benchmarks, default 1000)  --profile (JS CPU profile of the
 * engine's main thread during ingest)  --perf (Linux perf of the whole engine process during ingest)  --no-write.
 * A full run rewrites the generated section of BENCHMARKS.md; a run with --only merges its parts into it (the other
 * parts' numbers stay). --profile and --perf imply --no-write, and without --only run the ingest benchmark alone.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkCorpus, runChunkBench } from './chunk.bench.js';
import { DEFAULT_COMPACTION_BENCH, runCompactionBench } from './compaction.bench.js';
import { DEFAULT_DISTRIBUTED_BENCH, runDistributedBench } from './distributed.bench.js';
import { formatSummary } from './cpu-profile.js';
import { ENGINE_ROOT, installCleanup, REPO_ROOT } from './engine-process.js';
import { prepareCorpus, runIngest, type IngestResult, type PreparedCorpus } from './ingest.bench.js';
import { runLatency } from './latency.bench.js';
import { formatFacts, machineBusy, machineFacts } from './machine.js';
import { runMemory } from './memory.bench.js';
import { runQueryBench } from './query.bench.js';
import { renderPartialSection, renderSection, writeBenchmarksMd, type BenchPart, type BenchResults } from './report.js';

const ALL = ['ingest', 'latency', 'memory', 'chunk', 'query', 'compaction', 'distributed'] as const satisfies readonly BenchPart[];
type Part = (typeof ALL)[number];

interface Args {
  only: Set<Part>;
  seconds: number;
  queryMB: number;
  profile: boolean;
  perf: boolean;
  write: boolean;
  /** Some parts only: merged into the generated section instead of replacing it. */
  partial: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { only: new Set(ALL), seconds: 15, queryMB: QUERY_MB, profile: false, perf: false, write: true, partial: false };
  let onlyGiven = false;
  for (const arg of argv) {
    const [k, v] = arg.replace(/^--?/, '').split('=', 2) as [string, string | undefined];
    switch (k) {
      case 'only': {
        const parts = (v ?? '').split(',').filter(Boolean);
        for (const p of parts) if (!(ALL as readonly string[]).includes(p)) throw new Error(`--only: unknown part "${p}" (${ALL.join(', ')})`);
        a.only = new Set(parts as Part[]);
        onlyGiven = true;
        a.partial = true;
        break;
      }
      case 'seconds':
        a.seconds = Number(v);
        if (!(a.seconds > 0)) throw new Error('--seconds must be a positive number');
        break;
      case 'query-mb':
        a.queryMB = Number(v);
        if (!(a.queryMB > 0)) throw new Error('--query-mb must be a positive number');
        break;
      case 'profile':
        a.profile = true;
        a.write = false;
        if (!onlyGiven) a.only = new Set(['ingest']);
        break;
      case 'perf':
        a.perf = true;
        a.write = false;
        if (!onlyGiven) a.only = new Set(['ingest']);
        break;
      case 'no-write':
        a.write = false;
        break;
      default:
        throw new Error(`unknown option ${arg} (--only=${ALL.join(',')} --seconds=N --query-mb=N --profile --perf --no-write)`);
    }
  }
  return a;
}

const SEED = 42;
const AGENTS = 4;
/** Line bytes prepared for ingest and latency: enough for the 20 s latency schedule; ingest replays it per tenant. */
const CORPUS_BYTES = 320e6;
const LATENCY_RATE = 12.8e6;
const LATENCY_SECONDS = 20;
const MEMORY_STREAMS = 20_000;
const CHUNK_BYTES_PER_FORMAT = 8e6;
/** Line MB for the query benchmark: ~1 GB, as the LogQL issue asks (about 3 minutes of the run). */
const QUERY_MB = 1000;
const LOOKUP_STREAMS = 100_000;
/** Timed runs per query, after one warm-up run; the best is reported. */
const QUERY_RUNS = 3;
const GC_FLAG = '--external-memory-accounted-in-global-limit';

const log = (s: string): void => void process.stdout.write(s + '\n');

/** A bullet at the top of a part's subsection: how it was measured. */
function note(results: BenchResults, part: Part, ...text: string[]): void {
  ((results.notes ??= {})[part] ??= []).push(...text);
}

/** Ingest and latency share one prepared corpus (~500 MB of bodies), released when this returns. */
async function runHttp(args: Args, results: BenchResults): Promise<void> {
  if (!args.only.has('ingest') && !args.only.has('latency')) return;
  const corpus: PreparedCorpus = prepareCorpus(SEED, AGENTS, CORPUS_BYTES, Date.now() - 10 * 60_000);
  const batches = corpus.queues.flat().length;
  log(
    `corpus: ${corpus.lines} lines, ${(corpus.lineBytes / 1e6).toFixed(0)} MB of lines in ${batches} batches ` +
      `(${corpus.streams} streams; protobuf+snappy ${(corpus.protoBytes / 1e6).toFixed(0)} MB, JSON ${(corpus.jsonBytes / 1e6).toFixed(0)} MB), ` +
      `built in ${corpus.buildSeconds.toFixed(1)} s`,
  );
  results.settings.push(
    `Corpus: seed ${SEED}, ${AGENTS} shippers, ${corpus.streams} streams, batches of ${Math.round(corpus.lines / batches)} lines / ` +
      `${(corpus.lineBytes / batches / 1e6).toFixed(2)} MB on average (${(corpus.lineBytes / corpus.lines).toFixed(0)} B per line); ` +
      `protobuf bodies are ${(corpus.lineBytes / corpus.protoBytes).toFixed(2)}× smaller than the lines, JSON bodies ${(corpus.jsonBytes / corpus.lineBytes).toFixed(2)}× larger.`,
  );

  if (args.only.has('ingest')) {
    const ingest: IngestResult[] = [];
    const profDir = join(REPO_ROOT, '.tmp/bench');
    if (args.profile || args.perf) mkdirSync(profDir, { recursive: true });
    for (const format of ['protobuf', 'json'] as const) {
      const r = await runIngest(format, corpus, {
        seconds: args.seconds,
        maxLineBytes: 20e9,
        warmupBatches: 5,
        profile: args.profile,
        profileFile: args.profile ? join(profDir, `ingest-${format}.cpuprofile`) : undefined,
        perfFile: args.perf ? join(profDir, `perf-${format}.data`) : undefined,
      });
      ingest.push(r);
      log(
        `ingest ${format}: ${r.mbPerCpuSecond.toFixed(1)} MB per engine CPU-second, ${r.wallMBps.toFixed(1)} MB/s wall ` +
          `(${(r.lineBytes / 1e6).toFixed(0)} MB in ${r.wallSeconds.toFixed(1)} s, engine CPU ${r.cpuSeconds.toFixed(2)} s: ` +
          `${Object.entries(r.threads).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`,
      );
      if (r.perf) log(r.perf);
      if (r.profile) {
        log(formatSummary(`cpu profile, ${format} ingest (saved to ${join(profDir, `ingest-${format}.cpuprofile`)})`, r.profile));
      }
    }
    results.ingest = ingest;
    note(results, 'ingest',
      `Ingest: ${AGENTS} concurrent keep-alive clients, ${args.seconds} s per format after 5 warm-up batches per client; engine config: single binary, ` +
        'filesystem store, schema v13, lz4-256k chunks (256 KiB blocks, 1.5 MiB target), WAL fsync always' +
        (args.profile || args.perf ? ' — PROFILED (numbers are not comparable)' : '') +
        '.',
    );
  }

  if (args.only.has('latency')) {
    const l = await runLatency(corpus, {
      rateBytesPerSecond: LATENCY_RATE,
      seconds: LATENCY_SECONDS,
      format: 'protobuf',
      warmupBatches: 8,
    });
    results.latency = l;
    log(
      `latency at ${l.offeredMBps} MB/s (${l.requests} requests, ${l.errors} errors): p50 ${l.p50.toFixed(0)} ms, ` +
        `p90 ${l.p90.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms; engine ${(l.engineCores * 100).toFixed(0)}% of a core`,
    );
    note(results, 'latency',
      `Latency: protobuf batches offered at ${LATENCY_RATE / 1e6} MB/s of lines for ${LATENCY_SECONDS} s after 8 warm-up batches, each sent on schedule on its own keep-alive connection.`,
    );
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  installCleanup();
  const t0 = performance.now();
  if (!existsSync(join(ENGINE_ROOT, 'dist/main.js'))) throw new Error('engine/dist/main.js is missing: run `npm run build`');
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) log(`warning: Node ${process.version}; the engine targets Node 24 (put node_modules/.bin first on PATH)`);
  const facts = await machineFacts(tmpdir());
  log(`machine: ${formatFacts(facts)}`);
  if (facts.busyBefore > 0.1) {
    log(`warning: the machine is ${(facts.busyBefore * 100).toFixed(0)}% busy with other work: wall-clock figures will suffer most`);
  }

  const results: BenchResults = {
    date: new Date(),
    facts,
    settings: [],
    totalSeconds: 0,
  };

  await runHttp(args, results);

  if (args.only.has('memory')) {
    const m = await runMemory(MEMORY_STREAMS);
    results.memory = m;
    log(
      `memory: ${m.streams} streams → ${m.jsPerStream.toFixed(0)} B/stream heap+Buffers (heap ${m.heapPerStream.toFixed(0)}, ` +
        `Buffers ${m.externalPerStream.toFixed(0)}), RSS ${m.rssPerStream.toFixed(0)} B/stream; marginal ${m.streams}→${2 * m.streams}: ` +
        `${m.marginal.jsPerStream.toFixed(0)} B heap+Buffers, ${m.marginal.rssPerStream.toFixed(0)} B RSS`,
    );
  }

  if (args.only.has('chunk')) {
    const cc = chunkCorpus(SEED, CHUNK_BYTES_PER_FORMAT, Date.now() - 3_600_000);
    const chunks = await runChunkBench(cc, 1);
    results.chunks = chunks;
    for (const c of chunks) {
      log(
        `chunk ${c.encoding.padEnd(8)}: ratio ${c.ratio.toFixed(2)}, encode ${c.encodeMBps.toFixed(0)} MB/s, decode ${c.decodeMBps.toFixed(0)} MB/s`,
      );
    }
    note(results, 'chunk',
      `Chunks: ${(cc.lineBytes / 1e6).toFixed(0)} MB of lines (${cc.lines} entries, ${(CHUNK_BYTES_PER_FORMAT / 1e6).toFixed(0)} MB per format); each figure is the best of at least 5 runs (and at least 1 s of runs).`,
    );
  }

  if (args.only.has('query')) {
    log('query: ingesting, querying memory, flushing, querying the store (progress below)');
    const q = await runQueryBench({ lineMB: args.queryMB, seed: SEED, lookupStreams: LOOKUP_STREAMS, runs: QUERY_RUNS }, (s) => log(s));
    results.query = q;
    // The same queries with the V8 flag that stops external memory (the read path's decompressed blocks) from
    // forcing a major GC every 64 MB: what the engine would do with it set in main.ts.
    log(`query, again with ${GC_FLAG}:`);
    results.queryWithFlag = await runQueryBench(
      { lineMB: args.queryMB, seed: SEED, lookupStreams: 0, runs: 1, v8Flags: [GC_FLAG], queriesOnly: true },
      (s) => log(s),
    );
    note(results, 'query',
      `Queries: ${(q.lineBytes / 1e6).toFixed(0)} MB of lines from the same corpus generator (seed ${SEED}, ${q.streams} streams, one line per 5 ms ` +
        `per shipper), pushed through the distributor into an in-process engine (WAL off; lz4-256k chunks, 256 KiB blocks, 1.5 MiB target), ` +
        `queried while in the ingester's memory, then flushed to the filesystem store (${q.storeChunks} chunk objects, ${(q.storeBytes / 1e6).toFixed(0)} MB) ` +
        `and queried from there with nothing left in memory. Metric queries are range queries over the whole span (step 1m); the log query is backward ` +
        `with limit 1000. Each figure is the best of ${QUERY_RUNS} runs after a warm-up; CPU-seconds are the engine process's (every thread: ` +
        `main (which decompresses blocks), libuv pool (file reads), GC helpers); "MB looked at" is the line bytes of the streams the selector matches. ` +
        `Lookups: ${q.lookupStreams} streams of one entry (100 apps × 10 namespaces × 4 levels, a pod each) in an engine of their own, after ` +
        `the queries; best of 5 calls; "store" reads an index file holding them, written with the flusher's builder (without uploading ` +
        `${q.lookupStreams} one-entry chunks, which lookups never read).`,
    );
  }

  if (args.only.has('compaction')) {
    const c = await runCompactionBench(DEFAULT_COMPACTION_BENCH, (s) => log(s));
    results.compaction = c;
    log(
      `compaction: ${c.entriesPerSecond.toFixed(0)} index entries/s (${c.entriesPerCpuSecond.toFixed(0)} per CPU-second); retention over ` +
        `${c.retentionChunks} chunks: mark ${c.markSeconds.toFixed(2)} s, sweep ${c.sweepSeconds.toFixed(2)} s`,
    );
    note(results, 'compaction',
      `Compactor: ${c.files} index files of one table and tenant (${c.indexEntries} index entries, streams shared between files) merged by ` +
        `one compactor run on the filesystem store; retention: ${c.retentionChunks} chunk objects (16-byte bodies) in 10 daily tables, all past ` +
        `retention, marked by one run and swept by the next after retention_delete_delay (set-up ${c.setupSeconds.toFixed(0)} s, not counted).`,
    );
  }

  if (args.only.has('distributed')) {
    const d = await runDistributedBench({ ...DEFAULT_DISTRIBUTED_BENCH, lineMB: args.queryMB, seed: SEED }, (s) => log(s));
    results.distributed = d;
    const [cluster, single] = d.push;
    log(
      `distributed: 1 → 2 queriers ${d.queries[0]!.wallSeconds.toFixed(2)} → ${d.queries[1]!.wallSeconds.toFixed(2)} s (${d.speedUp.toFixed(2)}×); ` +
        `cache hit ${d.cache.hitMedianMs.toFixed(1)} ms; push RF 3 ${cluster!.wallMBps.toFixed(1)} MB/s (${cluster!.mbPerCpuSecond.toFixed(1)} MB/CPU-s) vs single binary ` +
        `${single!.wallMBps.toFixed(1)} MB/s (${single!.mbPerCpuSecond.toFixed(1)} MB/CPU-s)` +
        (d.mismatches.length > 0 ? `; FAILED: ${d.mismatches.length} answer(s) differ from the single binary's` : '; answers identical to the single binary'),
    );
    note(
      results,
      'distributed',
      `Read path: the corpus generator (seed ${SEED}) writes ${(d.lineBytes / 1e6).toFixed(0)} MB of lines to a filesystem store exactly as the query ` +
        `benchmark does, ending 3.5 h ago so queriers skip ingesters (\`query_ingesters_within\` 3h) and read the store, the index through the index ` +
        `gateway. Processes (\`node engine/dist/main.js -target=…\`, default settings unless stated): etcd, index-gateway, query-scheduler, ` +
        `query-frontend (\`split_queries_by_interval: ${d.splitMinutes}m\`, shards sized from the index by \`tsdb_max_bytes_per_shard\` 600MB, results cache on), and 1 then 2 queriers ` +
        `(\`max_concurrent\` 4 each) pulling from the scheduler. CPU-seconds are utime + stime of each process from /proc. The single-binary row ` +
        `is an engine over the same store evaluating the same query in its own process (no HTTP), whose answer the frontend's must equal.`,
      `Write path: a distributor and 3 ingesters (etcd ring, \`replication_factor: 3\`, WAL on, fsync before acknowledging, lz4-256k chunks), ` +
        `${DEFAULT_DISTRIBUTED_BENCH.pushClients} keep-alive clients pushing pre-encoded protobuf batches of the ingest corpus for ` +
        `${DEFAULT_DISTRIBUTED_BENCH.pushSeconds} s after 5 warm-up batches each; then one single binary (WAL fsync always) pushed the same way. ` +
        `Every process shares the machine's 2 cores with the clients.`,
    );
  }

  results.totalSeconds = (performance.now() - t0) / 1000;
  const busyAfter = await machineBusy();
  results.settings.push(
    `Other work on the machine: CPUs ${(facts.busyBefore * 100).toFixed(0)}% busy just before the run and ${(busyAfter * 100).toFixed(0)}% just after it ` +
      `(1-minute load average ${facts.load1} at the start, ${(Math.round(loadavg()[0]! * 100) / 100).toString()} at the end).`,
  );
  const section = args.partial ? renderPartialSection(results, `npm run bench -- ${process.argv.slice(2).join(' ')}`) : renderSection(results);
  log('');
  log(section);
  if (args.write) {
    const file = join(REPO_ROOT, 'BENCHMARKS.md');
    writeBenchmarksMd(file, section, args.partial);
    log(`${args.partial ? 'merged into' : 'wrote'} ${file}`);
  }
  // A wrong answer is a failure, after its numbers were written down.
  return results.distributed !== undefined && results.distributed.mismatches.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
