/**
 * The compactor: compaction throughput (index entries merged per second) and the retention sweep over 100k chunks.
 *
 * - Compaction: `files` index files of one tenant in one table (each as one ingester flush writes it: `series`
 *   streams with `chunks` chunk references each, streams shared between files) on the filesystem store; one
 *   compactor run merges them into one file. Rate = input index entries (chunk references) per wall second and per
 *   CPU-second of this process.
 * - Retention: `retentionChunks` chunk objects (tiny bodies: the sweep deletes objects, it never reads them) indexed
 *   in ten daily tables, all past their retention. The first run removes them from the index and writes the markers
 *   ("mark"); after `retention_delete_delay` the next run deletes the objects with `retention_delete_worker_count`
 *   workers ("sweep").
 */
import { cpuUsage } from 'node:process';
import { defaultConfig } from '../core/config/config-schema.js';
import { Compactor } from '../core/compactor/compactor.js';
import { fingerprint } from '../core/index/fingerprint.js';
import { encodeIndexFile, indexFileKey, type IndexedChunk, type IndexSeries } from '../core/index/index-file.js';
import { defaultLimits } from '../core/limits/limits.js';
import type { Labels } from '../core/model.js';
import { FilesystemObjectClient } from '../core/storage/filesystem-client.js';
import type { ObjectClient } from '../core/storage/object-client.js';
import { SchemaConfig } from '../core/storage/schema.js';
import { ManualClock } from '../core/util/clock.js';
import { nopLogger } from '../core/util/logger.js';
import { benchTempDir, removeTempDir } from './engine-process.js';

export interface CompactionBenchOptions {
  files: number;
  series: number;
  chunks: number;
  retentionChunks: number;
}

export interface CompactionBenchResult {
  files: number;
  indexEntries: number;
  outputEntries: number;
  compactSeconds: number;
  compactCpuSeconds: number;
  /** Input index entries per wall second. */
  entriesPerSecond: number;
  entriesPerCpuSecond: number;
  retentionChunks: number;
  markSeconds: number;
  sweepSeconds: number;
  sweepWorkers: number;
  setupSeconds: number;
}

export const DEFAULT_COMPACTION_BENCH: CompactionBenchOptions = { files: 100, series: 1000, chunks: 2, retentionChunks: 100_000 };

const DAY = 86_400_000;
const NOW = Date.UTC(2024, 0, 31, 12);
const NS = 1_000_000n;
const schema = new SchemaConfig([
  { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: DAY },
]);

function streams(n: number): Array<{ labels: Labels; fp: string }> {
  return Array.from({ length: n }, (_, i) => {
    const labels: Labels = [
      ['app', `app-${i % 50}`],
      ['namespace', `ns-${i % 7}`],
      ['pod', `pod-${i}`],
    ];
    return { labels, fp: fingerprint(`{app="app-${i % 50}", namespace="ns-${i % 7}", pod="pod-${i}"}`) };
  });
}

function chunk(tenant: string, fp: string, fromMs: number, n: number): IndexedChunk {
  const from = BigInt(fromMs) * NS + BigInt(n);
  return { tenant, fingerprint: fp, from, through: from + 60_000n * NS, checksum: (n * 2654435761) >>> 0, entries: 100, uncompressedBytes: 10_000, compressedBytes: 2_000 };
}

async function putAll(store: ObjectClient, items: Array<[string, Buffer]>, concurrency = 64): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const [k, b] = items[next++]!;
      await store.put(k, b);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function compactor(store: ObjectClient, clock: ManualClock, retentionMs: number): Compactor {
  const limits = { ...defaultLimits(), retention_period: retentionMs };
  return new Compactor({
    store,
    schema,
    limits: () => limits,
    compactor: { ...defaultConfig().compactor, retention_enabled: retentionMs > 0, delete_request_store: 'filesystem' },
    tableManager: defaultConfig().table_manager,
    chunkBlockSize: 262_144,
    clock,
    logger: nopLogger,
    instanceId: 'bench',
    leaseSettleMs: 0,
  });
}

export async function runCompactionBench(o: CompactionBenchOptions = DEFAULT_COMPACTION_BENCH, log: (s: string) => void = () => {}): Promise<CompactionBenchResult> {
  const dir = benchTempDir('strata-bench-compaction-');
  const t0 = performance.now();
  try {
    // ── compaction ──
    const store = new FilesystemObjectClient(`${dir}/compaction`);
    const clock = new ManualClock(NOW);
    const ss = streams(o.series * 2);
    const table = schema.tableFor(BigInt(NOW) * NS);
    const files: Array<[string, Buffer]> = [];
    let entries = 0;
    for (let f = 0; f < o.files; f++) {
      // Each flush holds half of the streams (alternating halves), with new chunks: files share series, not chunks.
      const half = ss.slice((f % 2) * o.series, (f % 2) * o.series + o.series).sort((a, b) => (a.fp < b.fp ? -1 : 1));
      const series: IndexSeries[] = half.map((s) => ({
        fingerprint: s.fp,
        labels: s.labels,
        chunks: Array.from({ length: o.chunks }, (_, c) => chunk('bench', s.fp, NOW - 3_600_000 + f * 1000, c)),
      }));
      entries += o.series * o.chunks;
      files.push([indexFileKey(table, 'bench', `ingester-${f % 3}`, NOW, f), encodeIndexFile('bench', table, series)]);
    }
    await putAll(store, files);
    log(`compaction: ${o.files} index files, ${entries} index entries written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const c = compactor(store, clock, 0);
    const cpu0 = cpuUsage();
    const w0 = performance.now();
    const run = await c.runOnce();
    const compactSeconds = (performance.now() - w0) / 1000;
    const cpu = cpuUsage(cpu0);
    const compactCpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (run.failures > 0 || run.filesIn !== o.files) throw new Error(`compaction bench: unexpected run ${JSON.stringify(run)}`);
    log(`compaction: ${run.filesIn} → ${run.filesOut} files, ${run.indexEntries} entries in ${compactSeconds.toFixed(2)} s (${compactCpuSeconds.toFixed(2)} CPU s)`);

    // ── retention over many chunks ──
    const t1 = performance.now();
    const rstore = new FilesystemObjectClient(`${dir}/retention`);
    const days = 10;
    const perStream = Math.max(1, Math.floor(o.retentionChunks / days / 1000));
    const rs = streams(Math.ceil(o.retentionChunks / days / perStream));
    const objects: Array<[string, Buffer]> = [];
    const body = Buffer.alloc(16, 1);
    let total = 0;
    for (let d = 0; d < days && total < o.retentionChunks; d++) {
      const dayMs = NOW - (30 + d) * DAY;
      const t = schema.tableFor(BigInt(dayMs) * NS);
      const series: IndexSeries[] = [];
      for (const s of [...rs].sort((a, b) => (a.fp < b.fp ? -1 : 1))) {
        const chunks: IndexedChunk[] = [];
        for (let n = 0; n < perStream && total < o.retentionChunks; n++, total++) {
          const ch = chunk('bench', s.fp, dayMs, n);
          chunks.push(ch);
          objects.push([schema.chunkKey(ch), body]);
        }
        if (chunks.length > 0) series.push({ fingerprint: s.fp, labels: s.labels, chunks });
      }
      objects.push([indexFileKey(t, 'bench', 'ingester-0', dayMs, d), encodeIndexFile('bench', t, series)]);
    }
    await putAll(rstore, objects);
    const setupSeconds = (performance.now() - t1) / 1000;
    log(`retention: ${total} chunk objects in ${days} tables written in ${setupSeconds.toFixed(1)} s`);
    const rclock = new ManualClock(NOW);
    const rc = compactor(rstore, rclock, 7 * DAY);
    const m0 = performance.now();
    const mark = await rc.runOnce();
    const markSeconds = (performance.now() - m0) / 1000;
    if (mark.expiredChunks !== total) throw new Error(`retention bench: ${mark.expiredChunks} of ${total} chunks marked`);
    rclock.advance(defaultConfig().compactor.retention_delete_delay);
    const s0 = performance.now();
    const sweep = await rc.runOnce();
    const sweepSeconds = (performance.now() - s0) / 1000;
    if (sweep.swept.chunks !== total) throw new Error(`retention bench: ${sweep.swept.chunks} of ${total} chunks swept`);
    log(`retention: marked ${total} chunks in ${markSeconds.toFixed(2)} s, swept them in ${sweepSeconds.toFixed(2)} s`);
    return {
      files: o.files,
      indexEntries: entries,
      outputEntries: run.indexEntries,
      compactSeconds,
      compactCpuSeconds,
      entriesPerSecond: entries / compactSeconds,
      entriesPerCpuSecond: entries / compactCpuSeconds,
      retentionChunks: total,
      markSeconds,
      sweepSeconds,
      sweepWorkers: defaultConfig().compactor.retention_delete_worker_count,
      setupSeconds,
    };
  } finally {
    removeTempDir(dir);
  }
}

/** The BENCHMARKS.md section of this benchmark. */
export function renderCompaction(r: CompactionBenchResult): string[] {
  const k = (x: number): string => `${(x / 1000).toFixed(0)}k`;
  return [
    `### Compactor (filesystem store)`,
    '',
    '| measure | input | wall | rate |',
    '| --- | ---: | ---: | ---: |',
    `| compaction: ${r.files} index files → 1 | ${k(r.indexEntries)} index entries | ${r.compactSeconds.toFixed(2)} s | ${k(r.entriesPerSecond)} entries/s (${k(r.entriesPerCpuSecond)} per CPU-second) |`,
    `| retention: mark (index rewrite + markers) | ${k(r.retentionChunks)} chunks | ${r.markSeconds.toFixed(2)} s | ${k(r.retentionChunks / r.markSeconds)} chunks/s |`,
    `| retention: sweep (${r.sweepWorkers} delete workers) | ${k(r.retentionChunks)} chunk objects | ${r.sweepSeconds.toFixed(2)} s | ${k(r.retentionChunks / r.sweepSeconds)} chunks/s |`,
    '',
  ];
}
