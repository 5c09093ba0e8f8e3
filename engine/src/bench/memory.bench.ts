/**
 * Memory per active stream: an in-process engine (WAL on) receives 20k small streams (1–3 entries each) through the
 * distributor; the heap and RSS growth after a full GC, divided by the stream count, is the cost of one low-volume
 * active stream (labels, index entry, head chunk, label caches, WAL bookkeeping).
 *
 * It runs in a child process started with --expose-gc, so neither the benchmark's corpus nor its earlier runs sit
 * in the measured heap.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../core/config/config.js';
import { Engine } from '../core/engine.js';
import type { PushStream } from '../core/model.js';
import { nopLogger } from '../core/util/logger.js';
import { labelString, LineMaker, Rng, type Level, type LogFormat } from './corpus.js';
import { benchConfig, benchTempDir, removeTempDir } from './engine-process.js';

export interface MemoryResult {
  streams: number;
  entries: number;
  lineBytes: number;
  /** V8 heap growth per stream, bytes. */
  heapPerStream: number;
  /** Off-heap (Buffers) growth per stream, bytes. */
  externalPerStream: number;
  /** heap + external per stream. */
  jsPerStream: number;
  rssPerStream: number;
  /** V8 heap reserved (heapTotal) growth per stream: the part of RSS that is heap pages, used or not. */
  heapTotalPerStream: number;
  /**
   * Per stream from `streams` to 2×`streams`: the marginal cost once the heap's one-time growth (young generation
   * sizing, first old-space pages) is paid; the fairer RSS figure at this small a stream count.
   */
  marginal: { jsPerStream: number; rssPerStream: number };
  baseline: { heapUsed: number; external: number; rss: number };
  seconds: number;
}

export async function runMemory(streams = 20_000, seed = 7): Promise<MemoryResult> {
  const self = fileURLToPath(import.meta.url);
  // Made (and removed) here, so it goes even when the child is killed by the timeout.
  const dir = benchTempDir('strata-bench-mem-');
  return new Promise<MemoryResult>((done, fail) => {
    execFile(
      process.execPath,
      ['--expose-gc', self, '--memory-child', String(streams), String(seed), dir],
      { maxBuffer: 1 << 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) return fail(new Error(`memory bench child failed: ${err.message}\n${stderr}`));
        try {
          done(JSON.parse(stdout.trim().split('\n').pop()!) as MemoryResult);
        } catch (e) {
          fail(new Error(`memory bench child printed no result: ${(e as Error).message}\n${stdout}\n${stderr}`));
        }
      },
    );
  }).finally(() => removeTempDir(dir));
}

const APPS: ReadonlyArray<{ app: string; namespace: string; format: LogFormat }> = [
  { app: 'web', namespace: 'frontend', format: 'nginx' },
  { app: 'api', namespace: 'backend', format: 'logfmt' },
  { app: 'worker', namespace: 'backend', format: 'json' },
  { app: 'controller', namespace: 'kube-system', format: 'klog' },
];
const LEVELS: readonly Level[] = ['info', 'info', 'info', 'warn', 'error', 'debug'];

/** `count` distinct small streams starting at index `from`: a pod per stream, 1–3 entries each. */
function smallStreams(rng: Rng, maker: LineMaker, from: number, count: number, nowMs: number): PushStream[] {
  const out: PushStream[] = [];
  for (let i = from; i < from + count; i++) {
    const a = APPS[i % APPS.length]!;
    const level = LEVELS[rng.int(LEVELS.length)]!;
    const labels = { app: `${a.app}-${Math.floor(i / 400)}`, level, namespace: `${a.namespace}-${i % 25}`, pod: `${a.app}-${rng.hex(10)}-${rng.hex(5)}` };
    const n = 1 + rng.int(3);
    const entries = [];
    for (let k = 0; k < n; k++) {
      const ms = nowMs - 1000 + k;
      entries.push({ ts: BigInt(ms) * 1_000_000n + BigInt(rng.int(1_000_000)), line: Buffer.from(maker.line(a.format, level, ms)) });
    }
    out.push({ labels: labelString(labels), entries });
  }
  return out;
}

async function child(streams: number, seed: number, dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const fullGc = (): void => {
    for (let i = 0; i < 3; i++) gc();
  };
  const engine = new Engine(loadConfig({ text: benchConfig({ dir, port: 0 }) }), 'all', { logger: nopLogger });
  await engine.start();
  const rng = new Rng(seed);
  const maker = new LineMaker(rng);
  const now = Date.now();
  // Warm-up in another tenant: JIT, WAL buffers, metric children; not counted.
  for (let i = 0; i < 4; i++) await engine.distributor.push('warmup', { streams: smallStreams(rng, maker, i * 500, 500, now) });
  // Each request is made right before its push, so it is garbage (and collected) when we measure after: only
  // what the engine keeps is counted.
  let entries = 0;
  let lineBytes = 0;
  const pushStreams = async (from: number, count: number, tenant: string): Promise<void> => {
    for (let i = from; i < from + count; i += 500) {
      const s = smallStreams(rng, maker, i, Math.min(500, from + count - i), now);
      if (tenant === 'fake') {
        for (const st of s) {
          entries += st.entries.length;
          for (const e of st.entries) lineBytes += e.line.length;
        }
      }
      await engine.distributor.push(tenant, { streams: s });
    }
  };
  const t0 = performance.now();
  fullGc();
  const before = process.memoryUsage();
  await pushStreams(0, streams, 'fake');
  fullGc();
  const after = process.memoryUsage();
  const seconds = (performance.now() - t0) / 1000;
  // The same again in a second tenant, for the marginal cost.
  await pushStreams(0, streams, 'marginal');
  fullGc();
  const after2 = process.memoryUsage();
  const heap = (after.heapUsed - before.heapUsed) / streams;
  const external = (after.external - before.external) / streams;
  const result: MemoryResult = {
    streams,
    entries,
    lineBytes,
    heapPerStream: heap,
    externalPerStream: external,
    jsPerStream: heap + external,
    rssPerStream: (after.rss - before.rss) / streams,
    heapTotalPerStream: (after.heapTotal - before.heapTotal) / streams,
    marginal: {
      jsPerStream: (after2.heapUsed + after2.external - after.heapUsed - after.external) / streams,
      rssPerStream: (after2.rss - after.rss) / streams,
    },
    baseline: { heapUsed: before.heapUsed, external: before.external, rss: before.rss },
    seconds,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  // No engine.stop(): it would flush 20k chunks to a store that is deleted next; the process exits instead.
}

if (process.argv[2] === '--memory-child' && import.meta.url === pathToFileURL(resolve(process.argv[1]!)).href) {
  child(Number(process.argv[3] ?? 20_000), Number(process.argv[4] ?? 7), process.argv[5]!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
