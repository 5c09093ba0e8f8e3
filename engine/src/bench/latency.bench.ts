/**
 * Push latency at a fixed offered load, open loop: batch i is sent at its scheduled time whether or not earlier
 * pushes have answered, and its latency is measured from that scheduled time (so a stalled engine cannot hide
 * behind a client that waits for it — no coordinated omission).
 */
import { EngineChild, PushClient, sleep } from './engine-process.js';
import { CONTENT_TYPE, type PreparedCorpus, type PushFormat } from './ingest.bench.js';

export interface LatencyOptions {
  /** Offered load in line bytes per second (10^6 = 1 MB/s). */
  rateBytesPerSecond: number;
  /** Length of the schedule; the number of requests follows from the batch sizes. */
  seconds: number;
  format: PushFormat;
  warmupBatches: number;
}

export interface LatencyResult {
  format: PushFormat;
  requests: number;
  offeredMBps: number;
  achievedMBps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Engine CPU use over the run, in cores (1.0 = one core busy). */
  engineCores: number;
  errors: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export async function runLatency(corpus: PreparedCorpus, o: LatencyOptions): Promise<LatencyResult> {
  // Shippers' batches interleaved round robin, so each shipper's own batches still go out in order.
  const order = [];
  const longest = Math.max(...corpus.queues.map((q) => q.length));
  for (let i = 0; i < longest; i++) for (const q of corpus.queues) if (i < q.length) order.push(q[i]!);
  const warm = order.slice(0, o.warmupBatches);
  const planned = order.slice(o.warmupBatches);
  const engine = await EngineChild.start();
  const client = new PushClient(engine.port, Infinity);
  const ct = CONTENT_TYPE[o.format];
  const body = (i: number): Buffer => (o.format === 'json' ? planned[i]!.json : planned[i]!.proto);
  try {
    for (const b of warm) {
      const r = await client.push(o.format === 'json' ? b.json : b.proto, ct);
      if (r.status !== 204) throw new Error(`warm-up push failed: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    }
    // The schedule: batch i leaves when the bytes before it have had their time at the offered rate.
    const at: number[] = [];
    let cum = 0;
    const budget = o.rateBytesPerSecond * o.seconds;
    for (let i = 0; i < planned.length && cum < budget; i++) {
      at.push((cum / o.rateBytesPerSecond) * 1000);
      cum += planned[i]!.lineBytes;
    }
    if (cum < budget * 0.9) throw new Error(`latency bench: corpus too small for ${o.seconds} s at the offered rate`);
    const latencies: number[] = [];
    let errors = 0;
    let sentBytes = 0;
    const cpu0 = engine.cpuSeconds();
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < at.length; i++) {
      const wait = t0 + at[i]! - performance.now();
      if (wait > 1) await sleep(wait);
      const scheduled = t0 + at[i]!;
      sentBytes += planned[i]!.lineBytes;
      inflight.push(
        client.push(body(i), ct).then(
          (r) => {
            latencies.push(performance.now() - scheduled);
            if (r.status !== 204) errors++;
          },
          () => {
            latencies.push(performance.now() - scheduled);
            errors++;
          },
        ),
      );
    }
    await Promise.all(inflight);
    const wall = (performance.now() - t0) / 1000;
    const cpu = engine.cpuSeconds() - cpu0;
    latencies.sort((a, b) => a - b);
    return {
      format: o.format,
      requests: at.length,
      offeredMBps: o.rateBytesPerSecond / 1e6,
      achievedMBps: sentBytes / 1e6 / wall,
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      max: latencies[latencies.length - 1]!,
      engineCores: cpu / wall,
      errors,
    };
  } finally {
    client.close();
    await engine.stop();
  }
}
