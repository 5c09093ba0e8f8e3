import type { Downstream, DownstreamRequest, DownstreamResponse } from '../frontend/types.js';
import type { QueryScheduler, ScheduledRequest } from './query-scheduler.js';

export type SubQueryScheduler = QueryScheduler<DownstreamRequest, DownstreamResponse>;

/** Where a querier takes work from: a scheduler in this process, or a remote one (scheduler-rpc.ts). */
export interface WorkSource {
  next(querierId: string, signal?: AbortSignal): Promise<ScheduledRequest<DownstreamRequest>>;
  complete(id: number, response: DownstreamResponse): boolean | Promise<boolean>;
  fail(id: number, error: unknown): boolean | Promise<boolean>;
}

/** The frontend's Downstream through the scheduler: every sub-query waits in its tenant's queue for a querier. */
export class SchedulerDownstream implements Downstream {
  constructor(private readonly scheduler: SubQueryScheduler) {}

  execute(tenant: string, req: DownstreamRequest, signal?: AbortSignal): Promise<DownstreamResponse> {
    return this.scheduler.enqueue(tenant, req, signal);
  }
}

export interface QuerierWorkerOptions {
  scheduler: WorkSource;
  /** The querier's identity at the scheduler (its instance ID). */
  querierId: string;
  /** Executes what the querier takes (a LocalDownstream on a querier). */
  downstream: Downstream;
  /** Requests run at once (`querier.max_concurrent`). */
  concurrency: number;
}

/**
 * A querier's pull loop: `concurrency` workers each take a request with `next`, run it, and answer with
 * `complete` or `fail` — against a scheduler in the same process, or a remote one through RemoteWorkSource.
 */
export class QuerierWorker {
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: QuerierWorkerOptions) {}

  start(): void {
    for (let i = 0; i < Math.max(1, this.opts.concurrency); i++) this.loops.push(this.loop());
  }

  /** Takes no more requests and waits for the running ones to be answered. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(): Promise<void> {
    const { scheduler, querierId, downstream } = this.opts;
    while (!this.stopping.signal.aborted) {
      let item;
      try {
        item = await scheduler.next(querierId, this.stopping.signal);
      } catch {
        // Stopped, disconnected or the scheduler is gone: this worker is done.
        return;
      }
      let response: DownstreamResponse;
      try {
        response = await downstream.execute(item.tenant, item.request, item.signal);
      } catch (e) {
        await scheduler.fail(item.id, e);
        continue;
      }
      await scheduler.complete(item.id, response);
    }
  }
}
