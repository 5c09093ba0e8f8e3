import { EngineError } from '../errors.js';
import type { Limits } from '../limits/limits.js';
import { seriesLimitError, type MetricResult } from '../logql/engine/index.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { printExpr } from '../logql/syntax/printer.js';
import { NS_PER_MS } from '../model.js';
import { addStats, newStats, type LogStream, type QueryStats } from '../querier/querier.js';
import type { SchemaConfig } from '../storage/schema.js';
import { systemClock, type Clock } from '../util/clock.js';
import { Limiter } from './limiter.js';
import { asMetric, asStreams, concatShards, entryCount, mergeLogSplits, mergeSplits } from './merge.js';
import { evaluatePlan } from './plan-eval.js';
import type { ResultsCache } from './results-cache.js';
import { cancelledError, withRetries } from './retry.js';
import { planQuery, type LeafNode, type QueryPlan } from './shard-plan.js';
import { alignToStep, floorDiv, metricSplitInterval, splitLogsByInterval, splitMetricByInterval } from './split.js';
import type {
  Downstream,
  DownstreamRequest,
  FrontendRequestOptions,
  FrontendResponse,
  FrontendSummary,
  InstantQuery,
  QueryResult,
  RangeQuery,
} from './types.js';

/** Loki's `row_shards` default: how many shards a shardable sub-query is split into unless configured. */
export const DEFAULT_SHARDS = 16;

export interface QueryFrontendOptions {
  downstream: Downstream;
  /**
   * The limits of an org ID (`a|b` for a multi-tenant query: the strictest of the tenants', see
   * querier/multi-tenant.ts queryLimits). Read: split_queries_by_interval, max_query_parallelism,
   * tsdb_max_query_parallelism, max_cache_freshness_per_query, max_query_series.
   */
  limits(tenant: string): Readonly<Limits>;
  /** `query_range.max_retries`: attempts per sub-query (default 5). */
  maxRetries?: number;
  /** Backoff between attempts (default Loki's: 250 ms doubling up to 5 s). */
  retryBackoff?: { minMs: number; maxMs: number };
  /** `query_range.parallelise_shardable_queries` (default true). */
  sharding?: boolean;
  /**
   * Shards per sharded sub-query: a number, or chosen per query — `splits` is how many time splits the range was cut
   * into (the count applies to each); 0 or 1 means not sharded (default {@link DEFAULT_SHARDS}; the engine sizes
   * them from the index, see shard-factor.ts).
   */
  shards?: number | ((tenant: string, q: { expr: SampleExpr; start: bigint; end: bigint; splits: number }) => number | Promise<number>);
  /** The results cache for metric range queries (`query_range.cache_results`); absent: no caching. */
  cache?: ResultsCache;
  /**
   * The schema periods: as in Loki, a query's parallelism is tsdb_max_query_parallelism over TSDB periods and
   * max_query_parallelism over others, weighted by how much of the query falls in each. Absent:
   * max_query_parallelism.
   */
  schema?: SchemaConfig;
  clock?: Clock;
}

/** One query's execution state. */
interface Run {
  tenant: string;
  limits: Readonly<Limits>;
  limiter: Limiter;
  signal: AbortSignal;
  stats: QueryStats;
  summary: FrontendSummary;
}

const newSummary = (): FrontendSummary => ({
  splits: 0,
  shards: 0,
  subqueries: 0,
  retries: 0,
  shardFallbacks: 0,
  cache: { requests: 0, hits: 0, stored: 0, queryLengthServedNs: 0n },
});

/** The smallest offset of the query's range aggregations (negative offsets read data after the step). */
function minOffset(e: SampleExpr): bigint {
  switch (e.kind) {
    case 'range_aggregation':
      return e.range.offset;
    case 'vector_aggregation':
    case 'label_replace':
      return minOffset(e.inner);
    case 'binary': {
      const l = minOffset(e.lhs);
      const r = minOffset(e.rhs);
      return l < r ? l : r;
    }
    default:
      return 0n;
  }
}

function unshardedPlan(expr: SampleExpr): QueryPlan {
  const leaf: LeafNode = { kind: 'leaf', expr, query: printExpr(expr), sharded: false, collisions: 'fallback', limited: true };
  return { root: leaf, sharded: false, leaves: [leaf] };
}

/**
 * Loki's query-frontend, without the transport: range queries are split by time (split_queries_by_interval, steps
 * aligned so each step is evaluated by exactly one split), shardable metric queries are split by stream shard and
 * recombined (shard-plan.ts), sub-queries run through `downstream` with at most max_query_parallelism of one query
 * in flight and failed ones retried, results are merged, and metric range results are cached per split with their
 * recent part always recomputed. The answer is the one the querier would give for the whole query.
 */
export class QueryFrontend {
  private readonly clock: Clock;

  constructor(private readonly opts: QueryFrontendOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The plan a metric query would run with (for logs, tests and debugging). */
  plan(expr: SampleExpr): QueryPlan {
    return this.opts.sharding === false ? unshardedPlan(expr) : planQuery(expr);
  }

  /** A range query: a log query's streams, or a metric query's matrix. */
  async queryRange(tenant: string, q: RangeQuery, options: FrontendRequestOptions = {}): Promise<FrontendResponse> {
    return this.withRun(tenant, q.start, q.end, options, (run) =>
      q.expr.kind === 'log' ? this.logQuery(run, q) : this.metricRange(run, q, q.expr, options),
    );
  }

  /** An instant metric query: a vector (or a scalar for a bare number). */
  async query(tenant: string, q: InstantQuery, options: FrontendRequestOptions = {}): Promise<FrontendResponse> {
    return this.withRun(tenant, q.time, q.time, options, async (run) => {
      const plan = await this.planFor(run, q.expr, q.time, q.time, 0n, 1);
      run.summary.splits = 1;
      const req = { start: q.time, end: q.time, step: 0n, direction: q.direction ?? 'backward', limit: q.limit ?? 100 } as const;
      return this.runPlan(run, plan, q.expr, req);
    });
  }

  private async withRun(
    tenant: string,
    start: bigint,
    end: bigint,
    options: FrontendRequestOptions,
    body: (run: Run) => Promise<QueryResult>,
  ): Promise<FrontendResponse> {
    const limits = this.opts.limits(tenant);
    // One controller per query: the caller's abort, or the first failure, cancels every other sub-query.
    const ac = new AbortController();
    const outer = options.signal;
    const onAbort = (): void => ac.abort(cancelledError(outer));
    if (outer?.aborted) throw cancelledError(outer);
    outer?.addEventListener('abort', onAbort, { once: true });
    const run: Run = {
      tenant,
      limits,
      limiter: new Limiter(this.parallelism(limits, start, end)),
      signal: ac.signal,
      stats: newStats(),
      summary: newSummary(),
    };
    try {
      const result = await body(run);
      return { result, stats: run.stats, summary: run.summary };
    } catch (e) {
      if (!ac.signal.aborted) ac.abort(e instanceof EngineError ? e : new EngineError('internal', String(e)));
      if (outer?.aborted) throw cancelledError(outer);
      throw e;
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
  }

  /** max_query_parallelism, or the TSDB/non-TSDB weighted value when the schema is known. */
  private parallelism(limits: Readonly<Limits>, start: bigint, end: bigint): number {
    const schema = this.opts.schema;
    if (schema === undefined) return Math.max(1, limits.max_query_parallelism);
    const spans = schema.periodsBetween(start, end > start ? end : start);
    let total = 0n;
    let weighted = 0n;
    for (const s of spans) {
      const len = s.through - s.from + 1n;
      const p = s.period.store === 'tsdb' ? limits.tsdb_max_query_parallelism : limits.max_query_parallelism;
      total += len;
      weighted += len * BigInt(Math.max(0, p));
    }
    if (total === 0n) return Math.max(1, limits.max_query_parallelism);
    return Math.max(1, Number((weighted + total - 1n) / total));
  }

  private async planFor(run: Run, expr: SampleExpr, start: bigint, end: bigint, step: bigint, splits: number): Promise<QueryPlan> {
    // Sub-millisecond steps share millisecond timestamps, so shards' samples could not be put back on their steps.
    if (this.opts.sharding === false || (step > 0n && step < NS_PER_MS)) return unshardedPlan(expr);
    const plan = planQuery(expr);
    if (!plan.sharded) return plan;
    const n = await this.shardCount(run.tenant, expr, start, end, splits);
    if (n <= 1) return unshardedPlan(expr);
    run.summary.shards = n;
    return plan;
  }

  private async shardCount(tenant: string, expr: SampleExpr, start: bigint, end: bigint, splits: number): Promise<number> {
    const s = this.opts.shards ?? DEFAULT_SHARDS;
    return Math.floor(typeof s === 'number' ? s : await s(tenant, { expr, start, end, splits }));
  }

  // ── metric range queries ─────────────────────────────────────────────────────────────────────────────────────

  private async metricRange(run: Run, q: RangeQuery, expr: SampleExpr, options: FrontendRequestOptions): Promise<MetricResult> {
    const splitBy = BigInt(run.limits.split_queries_by_interval) * NS_PER_MS;
    let { start, end } = q;
    const step = q.step;
    if (splitBy > 0n) ({ start, end } = alignToStep(start, end, step));
    const interval = metricSplitInterval(splitBy, expr);
    const splits = splitMetricByInterval(start, end, step, interval);
    run.summary.splits = splits.length;
    const plan = await this.planFor(run, expr, start, end, step, splits.length);
    const cache = this.opts.cache;
    const useCache = cache !== undefined && options.noCache !== true && interval > 0n && step >= NS_PER_MS;
    const query = printExpr(expr);
    const freshNs = BigInt(run.limits.max_cache_freshness_per_query) * NS_PER_MS;
    const lookAhead = minOffset(expr) < 0n ? -minOffset(expr) : 0n;
    const cacheableUntil = BigInt(this.clock.now()) * NS_PER_MS - freshNs - lookAhead;
    const base = { direction: q.direction, limit: q.limit } as const;

    const parts = await Promise.all(
      splits.map(async (sp) => {
        const exec = (s: bigint, e: bigint): Promise<MetricResult> => this.runPlan(run, plan, expr, { ...base, start: s, end: e, step });
        if (!useCache) return exec(sp.start, sp.end);
        // Loki's key: tenant, query, step and the split interval the split starts in.
        const key = `${run.tenant}:${query}:${step}:${floorDiv(sp.start, interval)}:${interval}`;
        const got = await cache.fetchRange(key, run.tenant, { start: sp.start, end: sp.end, step }, cacheableUntil, exec);
        run.summary.cache.requests++;
        if (got.hit) run.summary.cache.hits++;
        if (got.stored) run.summary.cache.stored++;
        run.summary.cache.queryLengthServedNs += got.servedNs;
        return got.result;
      }),
    );
    const merged = mergeSplits(parts);
    const maxSeries = run.limits.max_query_series;
    if (merged.type === 'matrix' && maxSeries > 0 && merged.series.length > maxSeries) throw seriesLimitError(maxSeries);
    return merged;
  }

  /** One split (or an instant query): every leaf of the plan, then the frontend's part of the plan over them. */
  private async runPlan(
    run: Run,
    plan: QueryPlan,
    expr: SampleExpr,
    r: { start: bigint; end: bigint; step: bigint; direction: RangeQuery['direction']; limit: number },
  ): Promise<MetricResult> {
    const results = new Map<LeafNode, MetricResult>();
    await Promise.all(
      plan.leaves.map(async (leaf) => {
        results.set(leaf, await this.runLeaf(run, plan, leaf, r));
      }),
    );
    const root = plan.root;
    if (root.kind === 'leaf' && !root.sharded) return results.get(root)!;
    return evaluatePlan(root, expr, r, results, run.limits.max_query_series);
  }

  private async runLeaf(
    run: Run,
    plan: QueryPlan,
    leaf: LeafNode,
    r: { start: bigint; end: bigint; step: bigint; direction: RangeQuery['direction']; limit: number },
  ): Promise<MetricResult> {
    const req: DownstreamRequest = {
      query: leaf.query,
      start: r.start,
      end: r.end,
      step: r.step,
      interval: 0n,
      direction: r.direction,
      limit: r.limit,
      ...(leaf.limited ? {} : { maxSeries: 0 }),
    };
    const n = run.summary.shards;
    if (!leaf.sharded || !plan.sharded || n <= 1) return asMetric(await this.subquery(run, req));
    const parts = await Promise.all(Array.from({ length: n }, (_, index) => this.subquery(run, { ...req, shards: { index, of: n } })));
    const merged = concatShards(parts.map(asMetric), leaf.collisions === 'fallback');
    if (merged !== undefined) return merged;
    // Two shards returned the same series: labels collided across streams, so this leaf is not shardable after all.
    run.summary.shardFallbacks++;
    return asMetric(await this.subquery(run, req));
  }

  /**
   * One sub-query: waits for a parallelism slot, retried on server errors; its stats are added to the query's.
   * `done` runs before the slot is given to the next sub-query (so it can cancel the ones still waiting).
   */
  private subquery(run: Run, req: DownstreamRequest, done?: (r: QueryResult) => void): Promise<QueryResult> {
    return run.limiter.run(async () => {
      const result = await withRetries(
        async () => {
          run.summary.subqueries++;
          const res = await this.opts.downstream.execute(run.tenant, req, run.signal);
          addStats(run.stats, res.stats);
          return res.result;
        },
        {
          maxRetries: this.opts.maxRetries ?? 5,
          minBackoffMs: this.opts.retryBackoff?.minMs ?? 250,
          maxBackoffMs: this.opts.retryBackoff?.maxMs ?? 5000,
          signal: run.signal,
          onRetry: () => void run.summary.retries++,
        },
      );
      done?.(result);
      return result;
    }, run.signal);
  }

  // ── log queries ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Splits in the direction's order (newest first going backward), at most the query's parallelism at a time; once
   * the splits done in order from the first hold `limit` entries, the later ones are cancelled. A query with an
   * `interval` is not split: the spacing between returned entries runs across split boundaries.
   */
  private async logQuery(run: Run, q: RangeQuery): Promise<QueryResult> {
    const splitBy = BigInt(run.limits.split_queries_by_interval) * NS_PER_MS;
    const splits = q.interval > 0n ? [{ start: q.start, end: q.end }] : splitLogsByInterval(q.start, q.end, splitBy);
    if (q.direction === 'backward') splits.reverse();
    run.summary.splits = splits.length;
    const query = printExpr(q.expr);
    const enough = new AbortController();
    const onAbort = (): void => enough.abort(run.signal.reason);
    run.signal.addEventListener('abort', onAbort, { once: true });
    const sub: Run = { ...run, signal: enough.signal };
    const done: Array<LogStream[] | undefined> = new Array(splits.length).fill(undefined);
    let prefix = 0;
    let prefixEntries = 0;
    try {
      const settled = await Promise.allSettled(
        splits.map(async (sp, i) => {
          const req: DownstreamRequest = { query, start: sp.start, end: sp.end, step: 0n, interval: q.interval, direction: q.direction, limit: q.limit };
          await this.subquery(sub, req, (r) => {
            done[i] = asStreams(r);
            while (prefix < done.length && done[prefix] !== undefined) prefixEntries += entryCount(done[prefix++]!);
            if (q.limit > 0 && prefixEntries >= q.limit && !enough.signal.aborted) enough.abort(new EngineError('client_closed', 'limit reached'));
          });
        }),
      );
      const ordered: LogStream[][] = [];
      let total = 0;
      for (let i = 0; i < splits.length; i++) {
        if (q.limit > 0 && total >= q.limit) break;
        const s = settled[i]!;
        if (s.status === 'rejected') {
          if (run.signal.aborted) throw cancelledError(run.signal);
          throw s.reason;
        }
        ordered.push(done[i]!);
        total += entryCount(done[i]!);
      }
      return { type: 'streams', streams: mergeLogSplits(ordered, q.limit, q.direction) };
    } finally {
      run.signal.removeEventListener('abort', onAbort);
    }
  }
}
