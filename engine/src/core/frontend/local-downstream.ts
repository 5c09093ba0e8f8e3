import type { Limits } from '../limits/limits.js';
import { evaluate, type SampleSource } from '../logql/engine/index.js';
import { parseExpr } from '../logql/syntax/parser.js';
import { Deadline } from '../querier/deadline.js';
import { readStreamsForTenants, selectLogsForTenants } from '../querier/multi-tenant.js';
import { newStats, type Querier } from '../querier/querier.js';
import { cancelledError } from './retry.js';
import type { Downstream, DownstreamRequest, DownstreamResponse } from './types.js';

export interface LocalDownstreamOptions {
  querier: Pick<Querier, 'selectLogs' | 'selectStreams' | 'sampleSource'>;
  /** The limits of an org ID as the client sent it (`a|b` for several tenants: the strictest of theirs). */
  limits(tenant: string): Readonly<Limits>;
}

/** The query budget, also spent the moment the frontend gives up on the sub-query. */
class SignalDeadline extends Deadline {
  constructor(
    timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    super(timeoutMs);
  }

  override expired(): boolean {
    return this.signal?.aborted === true || super.expired();
  }

  override check(): void {
    if (this.signal?.aborted) throw cancelledError(this.signal);
    super.check();
  }
}

/**
 * Sub-queries executed by this process's querier: what a querier does with a request from the frontend or the
 * scheduler, and what the single binary's frontend calls directly. Log queries read through
 * selectLogsForTenants, metric queries are evaluated by the LogQL engine over the querier's sample source; both
 * restricted to the request's shard. `|`-joined org IDs are multi-tenant queries.
 */
export class LocalDownstream implements Downstream {
  constructor(private readonly opts: LocalDownstreamOptions) {}

  async execute(tenant: string, req: DownstreamRequest, signal?: AbortSignal): Promise<DownstreamResponse> {
    if (signal?.aborted) throw cancelledError(signal);
    const expr = parseExpr(req.query);
    const tenants = tenant.split('|');
    const limits = this.opts.limits(tenant);
    const deadline = new SignalDeadline(limits.query_timeout, signal);
    const stats = newStats();
    const querier = this.opts.querier;
    const work = async (): Promise<DownstreamResponse> => {
      if (expr.kind === 'log') {
        const streams = await selectLogsForTenants(
          querier,
          tenants,
          { expr, from: req.start, through: req.end, direction: req.direction, limit: req.limit, interval: req.interval, deadline, shard: req.shards },
          stats,
        );
        return { result: { type: 'streams', streams }, stats };
      }
      const source: SampleSource =
        tenants.length === 1
          ? querier.sampleSource(tenants[0]!, deadline, stats, req.shards)
          : {
              readStreams: (matchers, prefilter, from, through) =>
                readStreamsForTenants(querier, tenants, { matchers, prefilter, from, through, deadline, shard: req.shards }, stats),
            };
      const maxSeries = req.maxSeries ?? limits.max_query_series;
      const result = await evaluate({ expr, start: req.start, end: req.end, step: req.step }, { source, maxSeries, deadline });
      return { result, stats };
    };
    if (signal === undefined) return work();
    // Reject as soon as the frontend gives up; the work itself stops at its next deadline check.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelledError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const running = work();
    running.catch(() => undefined);
    try {
      return await Promise.race([running, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }
}
