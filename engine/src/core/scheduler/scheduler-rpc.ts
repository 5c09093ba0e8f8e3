import { EngineError, HTTP_STATUS, type ErrorCode } from '../errors.js';
import type { Downstream, DownstreamRequest, DownstreamResponse } from '../frontend/types.js';
import type { RpcClient } from '../rpc/client.js';
import { needTenant, type RpcServer } from '../rpc/server.js';
import { sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ScheduledRequest } from './query-scheduler.js';
import type { SubQueryScheduler, WorkSource } from './scheduler-downstream.js';

// The query-scheduler's internal methods (docs/internal-protocol.md):
//   scheduler/enqueue  DownstreamRequest (tenant header)  → DownstreamResponse, once a querier answered
//   scheduler/next     {querier}                          → {item: {id, tenant, request}} or {} after the poll window
//   scheduler/complete {querier, id, response}            → {accepted}
//   scheduler/fail     {querier, id, code, message}       → {accepted}
//   scheduler/alive    {querier}                          → {}

/** How long one `scheduler/next` call waits for work before answering `{}` (the querier then polls again). */
export const NEXT_POLL_MS = 15_000;
/** A querier silent for this long (no poll, no answer, no alive call) is disconnected: its work goes back to the queue. */
export const QUERIER_SILENCE_MS = 20_000;

interface WireItem {
  id: number;
  tenant: string;
  request: DownstreamRequest;
}

/**
 * Serves a scheduler to remote frontends and queriers. Frontends hold `scheduler/enqueue` open until the answer
 * (closing the call cancels the request); queriers long-poll `scheduler/next`. Queriers are tracked by their last
 * call: one that goes silent (crashed, partitioned) is disconnected and its running work is requeued.
 */
export class SchedulerService {
  private readonly lastSeen = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly scheduler: SubQueryScheduler,
    private readonly clock: Clock,
  ) {}

  register(server: RpcServer): void {
    server.register('scheduler/enqueue', async (tenant, body, signal) => this.scheduler.enqueue(needTenant(tenant), body as DownstreamRequest, signal));
    server.register('scheduler/next', async (_t, body, signal) => {
      const querier = querierOf(body);
      this.seen(querier);
      const poll = AbortSignal.any([signal, AbortSignal.timeout(NEXT_POLL_MS)]);
      try {
        const item = await this.scheduler.next(querier, poll);
        this.seen(querier);
        if (signal.aborted) {
          // The querier hung up after taking the item: give it back.
          this.scheduler.fail(item.id, new EngineError('unavailable', `querier ${querier} went away`));
          return {};
        }
        return { item: { id: item.id, tenant: item.tenant, request: item.request } satisfies WireItem };
      } catch (e) {
        if (poll.aborted && !signal.aborted) return {};
        throw e;
      }
    });
    server.register('scheduler/complete', async (_t, body) => {
      const b = body as { querier?: unknown; id?: unknown; response?: unknown };
      this.seen(querierOf(b));
      return { accepted: this.scheduler.complete(Number(b.id), b.response as DownstreamResponse) };
    });
    server.register('scheduler/fail', async (_t, body) => {
      const b = body as { querier?: unknown; id?: unknown; code?: unknown; message?: unknown };
      this.seen(querierOf(b));
      const code = typeof b.code === 'string' && b.code in HTTP_STATUS ? (b.code as ErrorCode) : 'internal';
      return { accepted: this.scheduler.fail(Number(b.id), new EngineError(code, String(b.message ?? 'query failed'))) };
    });
    server.register('scheduler/alive', async (_t, body) => {
      this.seen(querierOf(body));
      return {};
    });
  }

  start(): void {
    this.sweeper = setInterval(() => this.sweep(), Math.min(QUERIER_SILENCE_MS / 4, 5_000));
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private seen(querier: string): void {
    this.lastSeen.set(querier, this.clock.now());
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [querier, at] of this.lastSeen) {
      if (now - at > QUERIER_SILENCE_MS) {
        this.lastSeen.delete(querier);
        this.scheduler.querierDisconnected(querier);
      }
    }
  }
}

function querierOf(body: unknown): string {
  const q = (body as { querier?: unknown } | undefined)?.querier;
  if (typeof q !== 'string' || q === '') throw new EngineError('bad_request', 'querier: a querier id is required');
  return q;
}

/** The frontend's Downstream through a remote scheduler. */
export class RemoteSchedulerDownstream implements Downstream {
  constructor(
    private readonly rpc: RpcClient,
    private readonly addr: string,
    /** The longest a sub-query may wait and run (the query timeout plus a margin). */
    private readonly timeoutMs: number,
  ) {}

  execute(tenant: string, req: DownstreamRequest, signal?: AbortSignal): Promise<DownstreamResponse> {
    // Ungated: the scheduler's per-tenant queues are the fair place to wait, not this client's FIFO.
    return this.rpc.call<DownstreamResponse>(this.addr, 'scheduler/enqueue', tenant, req, { signal, timeoutMs: this.timeoutMs, ungated: true });
  }
}

/**
 * A querier's end of a remote scheduler, for QuerierWorker: long-polls for work, answers, and says it is alive
 * while it runs long requests (so the scheduler does not take them back).
 */
export class RemoteWorkSource implements WorkSource {
  private alive: NodeJS.Timeout | undefined;

  constructor(
    private readonly rpc: RpcClient,
    private readonly addr: string,
    private readonly querier: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.alive = setInterval(() => {
      this.rpc.call(this.addr, 'scheduler/alive', undefined, { querier: this.querier }, { timeoutMs: 5_000 }).catch(() => {});
    }, QUERIER_SILENCE_MS / 4);
    this.alive.unref();
  }

  stop(): void {
    if (this.alive) clearInterval(this.alive);
  }

  async next(_querierId: string, signal?: AbortSignal): Promise<ScheduledRequest<DownstreamRequest>> {
    for (;;) {
      if (signal?.aborted) throw new EngineError('client_closed', 'worker stopped');
      let res: { item?: WireItem };
      try {
        res = await this.rpc.call<{ item?: WireItem }>(
          this.addr,
          'scheduler/next',
          undefined,
          { querier: this.querier },
          { signal, timeoutMs: NEXT_POLL_MS + 10_000, ungated: true },
        );
      } catch (e) {
        if (signal?.aborted) throw e;
        // The scheduler is down or restarting: keep trying, without spinning.
        this.logger.warn('query-scheduler unreachable, retrying', { addr: this.addr, err: e });
        await sleep(1_000);
        continue;
      }
      if (res.item) {
        return { id: res.item.id, tenant: res.item.tenant, request: res.item.request, signal: new AbortController().signal, enqueuedAt: 0 };
      }
    }
  }

  async complete(id: number, response: DownstreamResponse): Promise<boolean> {
    const r = await this.rpc.call<{ accepted: boolean }>(this.addr, 'scheduler/complete', undefined, { querier: this.querier, id, response }).catch((e: unknown) => {
      this.logger.warn('could not send a query result to the scheduler', { err: e });
      return { accepted: false };
    });
    return r.accepted;
  }

  async fail(id: number, error: unknown): Promise<boolean> {
    const e = error instanceof EngineError ? error : new EngineError('internal', error instanceof Error ? error.message : String(error));
    const r = await this.rpc
      .call<{ accepted: boolean }>(this.addr, 'scheduler/fail', undefined, { querier: this.querier, id, code: e.code, message: e.message })
      .catch(() => ({ accepted: false }));
    return r.accepted;
  }
}
