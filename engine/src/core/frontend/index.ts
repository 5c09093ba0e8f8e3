/** Loki's query-frontend without the transport: time splitting, shard planning, merging, results cache, retries. */
export { QueryFrontend, DEFAULT_SHARDS, type QueryFrontendOptions } from './query-frontend.js';
export { LocalDownstream, type LocalDownstreamOptions } from './local-downstream.js';
export { ResultsCache, type CacheLookup, type Extent, type ResultsCacheOptions } from './results-cache.js';
export { planQuery, printPlan, shardable, additive, seriesPerStream, type PlanNode, type LeafNode, type QueryPlan } from './shard-plan.js';
export { evaluatePlan } from './plan-eval.js';
export { alignToStep, metricSplitInterval, splitLogsByInterval, splitMetricByInterval, type TimeSplit } from './split.js';
export { concatShards, mergeLogSplits, mergeSplits } from './merge.js';
export { formatShard, inShard, parseShard, parseShardsParam, type Shard } from './shard.js';
export { Limiter } from './limiter.js';
export { isRetryable, withRetries, type RetryOptions } from './retry.js';
export type {
  Downstream,
  DownstreamRequest,
  DownstreamResponse,
  FrontendRequestOptions,
  FrontendResponse,
  FrontendSummary,
  InstantQuery,
  QueryResult,
  RangeQuery,
} from './types.js';
