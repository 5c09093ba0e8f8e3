import { defaultLimits, type Limits } from '../limits/limits.js';
import { QueryFrontend } from '../frontend/query-frontend.js';
import type { Downstream, DownstreamRequest, DownstreamResponse, RangeQuery } from '../frontend/types.js';
import { parseExpr } from '../logql/syntax/parser.js';
import { newStats } from '../querier/querier.js';
import { QueryScheduler } from './query-scheduler.js';
import { QuerierWorker, SchedulerDownstream } from './scheduler-downstream.js';

const S = 1_000_000_000n;
const M = 60n * S;
const H = 60n * M;
const T = 1_700_000_000n * S;

/** A querier whose sub-queries take `delayMs(tenant)`; each answers one sample at each step, valued by its shard. */
function slowQuerier(delayMs: (tenant: string) => number): Downstream & { calls: Array<{ tenant: string; req: DownstreamRequest }> } {
  const calls: Array<{ tenant: string; req: DownstreamRequest }> = [];
  return {
    calls,
    execute: (tenant, req, signal) =>
      new Promise<DownstreamResponse>((resolve, reject) => {
        calls.push({ tenant, req });
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          const ms: number[] = [];
          for (let t = req.start; t <= req.end; t += req.step) ms.push(Number(t / 1_000_000n));
          const series = [{ labels: [['tenant', tenant]] as Array<[string, string]>, ms, values: ms.map(() => 1) }];
          resolve({ result: { type: 'matrix', series }, stats: newStats() });
        }, delayMs(tenant));
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

const limits: Limits = { ...defaultLimits(), split_queries_by_interval: 30 * 60_000, max_query_parallelism: 32 };
const rangeQuery = (start: bigint, end: bigint): RangeQuery => ({
  expr: parseExpr('count_over_time({app="x"}[1m])'),
  start,
  end,
  step: M,
  interval: 0n,
  direction: 'backward',
  limit: 100,
});

describe('query-scheduler fairness', () => {
  it('keeps a quiet tenant\'s latency within the stated bound while another tenant floods the queue with slow queries', async () => {
    const D = 150; // ms per noisy sub-query
    const d = 5; // ms per quiet sub-query
    const scheduler = new QueryScheduler<DownstreamRequest, DownstreamResponse>({ maxOutstandingPerTenant: 32000 });
    const querier = slowQuerier((t) => (t === 'noisy' ? D : d));
    // Two queriers, two workers each: W = 4.
    const workers = ['q1', 'q2'].map((id) => new QuerierWorker({ scheduler, querierId: id, downstream: querier, concurrency: 2 }));
    for (const w of workers) w.start();
    const fe = new QueryFrontend({ downstream: new SchedulerDownstream(scheduler), limits: () => limits, sharding: false });
    const flood = new AbortController();
    try {
      // The flood: 30 queries of 3 hours, 6–7 splits each, every split 150 ms on a querier: ~7 s of work for 4 workers.
      const noisy = Array.from({ length: 30 }, (_, i) => fe.queryRange('noisy', rangeQuery(T + BigInt(i) * M, T + BigInt(i) * M + 3n * H), { signal: flood.signal }));
      for (const p of noisy) p.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
      const backlog = scheduler.queueLength('noisy');
      expect(backlog).toBeGreaterThan(150);

      // The quiet tenant's query: three splits.
      const started = performance.now();
      const quiet = await fe.queryRange('quiet', rangeQuery(T, T + H + 10n * M));
      const latency = performance.now() - started;
      expect(quiet.summary.splits).toBe(3);
      // 70 minutes at a 1m step, start aligned down to the step: 72 steps.
      expect(quiet.result.type === 'matrix' && quiet.result.series[0]!.ms.length).toBe(72);

      // The bound (docs/query-frontend.md): with k tenants waiting and W workers, a query of s sub-queries waits at
      // most ceil(k·s / W) noisy sub-query durations, then runs its own: ceil(2·3/4)·150 + 5 = 305 ms. First-come
      // first-served would have made it wait for the whole backlog (seconds).
      const bound = Math.ceil((2 * 3) / 4) * D + d;
      expect(latency).toBeLessThan(bound + 150); // timer slack on a loaded machine
      expect(scheduler.queueLength('noisy')).toBeGreaterThan(backlog - 20);
      expect((backlog * D) / 4).toBeGreaterThan(5 * bound);

      // The noisy tenant gives up: its queued sub-queries leave the queue, running ones are aborted on the queriers.
      flood.abort();
      const outcomes = await Promise.allSettled(noisy);
      expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'client_closed')).toBe(true);
      expect(scheduler.queueLength()).toBe(0);
      await new Promise((r) => setTimeout(r, 10));
      expect(scheduler.inflightCount).toBe(0);
    } finally {
      flood.abort();
      await Promise.all(workers.map((w) => w.stop()));
      scheduler.stop();
    }
  });

  it('answers through the scheduler exactly what the querier returns', async () => {
    const scheduler = new QueryScheduler<DownstreamRequest, DownstreamResponse>({ maxOutstandingPerTenant: 100 });
    const querier = slowQuerier(() => 1);
    const worker = new QuerierWorker({ scheduler, querierId: 'q', downstream: querier, concurrency: 3 });
    worker.start();
    const q = rangeQuery(T, T + 2n * H);
    const viaScheduler = await new QueryFrontend({ downstream: new SchedulerDownstream(scheduler), limits: () => limits }).queryRange('t', q);
    const direct = await new QueryFrontend({ downstream: querier, limits: () => limits }).queryRange('t', q);
    expect(viaScheduler.result).toEqual(direct.result);
    await worker.stop();
    scheduler.stop();
  });

  it('fails a query whose sub-queries overflow the tenant\'s queue with Loki\'s 429, without retrying', async () => {
    const scheduler = new QueryScheduler<DownstreamRequest, DownstreamResponse>({ maxOutstandingPerTenant: 2 });
    const fe = new QueryFrontend({ downstream: new SchedulerDownstream(scheduler), limits: () => limits, sharding: false });
    const e = await fe.queryRange('t', rangeQuery(T, T + 3n * H)).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'too_many_requests', message: 'too many outstanding requests' });
    // The sub-queries already queued were withdrawn.
    expect(scheduler.queueLength()).toBe(0);
    scheduler.stop();
  });
});
