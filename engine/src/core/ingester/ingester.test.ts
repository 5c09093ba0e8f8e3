import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLimits } from '../limits/limits.js';
import { EngineMetrics } from '../metrics.js';
import { LabelMatcher } from '../logql/syntax/matcher.js';
import { FilesystemObjectClient } from '../storage/filesystem-client.js';
import { SchemaConfig } from '../storage/schema.js';
import { ManualClock } from '../util/clock.js';
import { nopLogger } from '../util/logger.js';
import { Wal } from '../wal/wal.js';
import { ChunkFlusher } from './flusher.js';
import { Ingester, type ValidStream } from './ingester.js';

const S = 1_000_000_000n;
const MIN_MS = 60_000;

function setup(dir: string, clock: ManualClock, over: Partial<{ targetSize: number }> = {}) {
  const store = new FilesystemObjectClient(join(dir, 'chunks'));
  const schema = new SchemaConfig([
    { from: '2020-01-01', store: 'tsdb', objectStore: 'filesystem', schema: 'v13', indexPrefix: 'index_', indexPeriodMs: 86_400_000 },
  ]);
  const metrics = new EngineMetrics();
  const limits = { ...defaultLimits(), per_stream_rate_limit: 0 };
  const flusher = new ChunkFlusher({ store, schema, uploaderId: 'test', concurrency: 4, timeoutMs: 10_000, logger: nopLogger, metrics });
  const ingester = new Ingester({
    chunk: { encoding: 'snappy', blockSize: 1024, targetSize: over.targetSize ?? 1_572_864 },
    maxChunkAgeMs: 120 * MIN_MS,
    chunkIdlePeriodMs: 30 * MIN_MS,
    chunkRetainPeriodMs: 0,
    flushCheckPeriodMs: 1000,
    checkpointIntervalMs: 5 * MIN_MS,
    schema,
    limits: () => limits,
    flusher,
    clock,
    logger: nopLogger,
    metrics,
  });
  return { ingester, store, metrics };
}

const stream = (app: string, entries: Array<[bigint, string]>): ValidStream => ({
  labels: [['app', app]],
  canonical: `{app="${app}"}`,
  entries: entries.map(([ts, line]) => ({ ts, line: Buffer.from(line) })),
});

async function flushedReasons(metrics: EngineMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.chunksFlushed.get()).values) out[String(v.labels.reason)] = v.value;
  return out;
}

describe('Ingester', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingester-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes an idle chunk after chunk_idle_period and releases the stream', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { ingester, store, metrics } = setup(dir, clock);
    const t = BigInt(clock.now()) * 1_000_000n;
    expect(await ingester.push('t1', [stream('idle', [[t, 'a'], [t + 1n, 'b']])])).toEqual([]);
    await ingester.sweep(false);
    expect(ingester.streamCount).toBe(1);
    clock.advance(31 * MIN_MS);
    await ingester.sweep(false);
    expect(ingester.streamCount).toBe(0);
    expect(await flushedReasons(metrics)).toEqual({ idle: 1 });
    const keys = (await store.list('')).map((o) => o.key);
    expect(keys.filter((k) => k.startsWith('t1/'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('index/'))).toHaveLength(1);
  });

  it('closes a chunk whose entries span max_chunk_age, and cuts chunks at the target size', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { ingester, metrics } = setup(dir, clock, { targetSize: 2048 });
    const t = BigInt(clock.now()) * 1_000_000n;
    const lines: Array<[bigint, string]> = [];
    // Incompressible lines: each block of 1 KiB compresses to ~1 KiB, so the 2 KiB target closes chunks.
    for (let i = 0; i < 200; i++) lines.push([t + BigInt(i), Math.random().toString(36).repeat(4)]);
    await ingester.push('t1', [stream('big', lines)]);
    await ingester.push('t1', [stream('old', [[t - 130n * 60n * S, 'start'], [t, 'end']])]);
    const all = await ingester.query('t1', [new LabelMatcher('=', 'app', 'big')], t, t + 1000n, 'forward');
    expect(all[0]!.entries.map((e) => e.line.toString())).toEqual(lines.map(([, l]) => l));
    clock.advance(1000);
    await ingester.sweep(false);
    const reasons = await flushedReasons(metrics);
    expect(reasons.full).toBeGreaterThan(1);
    expect(reasons.max_age).toBe(1);
    // `old` is gone; `big` keeps its open head chunk (neither full, idle nor old yet).
    expect(ingester.streamCount).toBe(1);
  });

  it('refuses entries older than the newest minus max_chunk_age/2, with the count per stream', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { ingester } = setup(dir, clock);
    const t = BigInt(clock.now()) * 1_000_000n;
    await ingester.push('t1', [stream('ooo', [[t, 'newest']])]);
    const failures = await ingester.push('t1', [stream('ooo', [[t - 59n * 60n * S, 'in window'], [t - 61n * 60n * S, 'too old']])]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.reason).toBe('too_far_behind');
    expect(failures[0]!.error.message).toContain("total ignored: 1 out of 2 for stream: {app=\"ooo\"}");
  });

  it('replays the WAL after a crash and checkpoints so old segments go away', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const walDir = join(dir, 'wal');
    const t = BigInt(clock.now()) * 1_000_000n;
    {
      const { ingester } = setup(dir, clock);
      const wal = await Wal.open({ dir: walDir });
      ingester.useWal(wal);
      await ingester.push('t1', [stream('w', [[t, 'one'], [t + 1n, 'two']])]);
      await ingester.push('t2', [stream('w', [[t + 2n, 'three']])]);
      // No close: a crash.
    }
    const { ingester } = setup(dir, clock);
    const wal = await Wal.open({ dir: walDir });
    ingester.useWal(wal);
    const r = await ingester.replay(walDir, Wal.replay.bind(Wal));
    expect(r.entries).toBe(3);
    const q = await ingester.query('t1', [new LabelMatcher('=', 'app', 'w')], t, t + 10n, 'forward');
    expect(q[0]!.entries.map((e) => e.line.toString())).toEqual(['one', 'two']);
    // The replay's checkpoint holds everything: a second crash and replay sees the same data exactly once.
    const { ingester: again } = setup(dir, clock);
    const r2 = await again.replay(walDir, Wal.replay.bind(Wal));
    expect(r2.entries).toBe(3);
    await wal.close();
  });
});
