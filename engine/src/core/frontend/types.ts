import type { MetricResult } from '../logql/engine/index.js';
import type { Expr, SampleExpr } from '../logql/syntax/ast.js';
import type { Direction } from '../model.js';
import type { LogStream, QueryStats } from '../querier/querier.js';
import type { Shard } from './shard.js';

/**
 * What a query answers: the streams of a log query (LogStream: entries with bigint nanosecond timestamps, the line
 * as bytes, structured metadata and parsed labels), or a metric query's matrix, vector or scalar. These are the
 * querier's own result types, so a remote querier can send them as they are (cbor-x keeps bigint and Buffer).
 */
export type QueryResult = { type: 'streams'; streams: LogStream[] } | MetricResult;

/**
 * One sub-query as the frontend hands it to a querier. Parameters are already parsed and validated; `query` is the
 * canonical LogQL text (printer.ts), which the querier parses again.
 */
export interface DownstreamRequest {
  query: string;
  /** Nanoseconds. Log queries read [start, end); metric queries evaluate the steps start, start+step, … ≤ end. */
  start: bigint;
  end: bigint;
  /** Nanoseconds; 0 for an instant query (then start == end). */
  step: bigint;
  /** Log queries: Loki's `interval` (0: every entry). */
  interval: bigint;
  direction: Direction;
  limit: number;
  /** Read only the streams of this shard (the `shards` parameter). */
  shards?: Shard;
  /**
   * `max_query_series` for this sub-query: absent = the tenant's limit; 0 = no limit (the frontend sets 0 on
   * sub-queries whose series it reduces further, and checks the limit on the final result itself).
   */
  maxSeries?: number;
}

export interface DownstreamResponse {
  result: QueryResult;
  stats: QueryStats;
}

/**
 * Executes sub-queries on a querier: in process (LocalDownstream), through the query-scheduler
 * (SchedulerDownstream), or over the internal HTTP protocol. `tenant` is the org ID as the client sent it, possibly
 * several tenants joined with `|`. Implementations reject with an EngineError (its code gives the HTTP status) and
 * stop work when `signal` aborts.
 */
export interface Downstream {
  execute(tenant: string, req: DownstreamRequest, signal?: AbortSignal): Promise<DownstreamResponse>;
}

/** A range query as the HTTP handler parsed it (limits such as max_query_length already checked). */
export interface RangeQuery {
  expr: Expr;
  /** Nanoseconds. */
  start: bigint;
  end: bigint;
  /** Metric queries; nanoseconds, > 0. */
  step: bigint;
  /** Log queries; nanoseconds, 0 when absent. */
  interval: bigint;
  direction: Direction;
  limit: number;
}

/** An instant metric query at `time` (nanoseconds). */
export interface InstantQuery {
  expr: SampleExpr;
  time: bigint;
  limit?: number;
  direction?: Direction;
}

/** Per-request options. */
export interface FrontendRequestOptions {
  /** Abort: every queued and running sub-query is cancelled and the call rejects. */
  signal?: AbortSignal;
  /** Neither read nor write the results cache (Loki: `Cache-Control: no-cache`). */
  noCache?: boolean;
}

/** What the frontend did for one query (Loki's `splits`, `shards`, `subqueries` stats and results-cache counts). */
export interface FrontendSummary {
  /** Time splits evaluated. */
  splits: number;
  /** Shards per sharded sub-query (0 when the query was not sharded). */
  shards: number;
  /** Sub-queries sent downstream, retries included. */
  subqueries: number;
  retries: number;
  /** Sharded sub-queries re-run unsharded because two shards returned the same series. */
  shardFallbacks: number;
  cache: { requests: number; hits: number; stored: number; queryLengthServedNs: bigint };
}

export interface FrontendResponse {
  result: QueryResult;
  /** The sum of every sub-query's stats. */
  stats: QueryStats;
  summary: FrontendSummary;
}
