import type { IndexSource } from '../index/index-gateway.js';
import type { Limits } from '../limits/limits.js';
import type { SampleExpr } from '../logql/syntax/ast.js';
import { selectTenants } from '../querier/multi-tenant.js';
import { DEFAULT_SHARDS } from './query-frontend.js';

/**
 * How many shards a shardable query gets, sized from the index as Loki's frontend does with TSDB: the bytes the
 * query's selectors cover, over `tsdb_max_bytes_per_shard`, rounded up to a power of two and capped by the query's
 * parallelism. A query small enough for one shard is not sharded at all (every shard costs a sub-query, an index
 * lookup and a round trip; with a constant 16, a query over a few MB paid that 16 times).
 */

/** Loki's GuessShardFactor: 0 (do not shard) when one shard is enough. */
export function guessShardFactor(bytes: number, maxBytesPerShard: number, maxShards: number): number {
  if (!(bytes > 0) || !(maxBytesPerShard > 0)) return 0;
  let factor = 2 ** Math.ceil(Math.log2(bytes / maxBytesPerShard));
  if (maxShards > 0) factor = Math.min(factor, maxShards);
  return factor >= 2 ? Math.floor(factor) : 0;
}

/** The selectors a metric query reads, each with the time range its windows reach back over. */
function leaves(expr: SampleExpr, start: bigint, end: bigint, out: Array<{ expr: SampleExpr & { kind: 'range_aggregation' }; from: bigint; through: bigint }>): void {
  switch (expr.kind) {
    case 'range_aggregation': {
      const { interval, offset } = expr.range;
      out.push({ expr, from: start - interval - offset, through: end - offset });
      return;
    }
    case 'vector_aggregation':
    case 'label_replace':
      leaves(expr.inner, start, end, out);
      return;
    case 'binary':
      leaves(expr.lhs, start, end, out);
      leaves(expr.rhs, start, end, out);
      return;
    default:
      return;
  }
}

/**
 * The uncompressed bytes of the flushed chunks the query's selectors cover in [start, end] (the index's view, as in
 * Loki: data still only in ingesters is not counted), summed over the tenants of a multi-tenant org ID.
 */
export async function indexedBytes(index: IndexSource, orgId: string, expr: SampleExpr, start: bigint, end: bigint): Promise<number> {
  const found: Array<{ expr: SampleExpr & { kind: 'range_aggregation' }; from: bigint; through: bigint }> = [];
  leaves(expr, start, end, found);
  let bytes = 0;
  const orgs = orgId.split('|');
  for (const leaf of found) {
    // A multi-tenant query's `__tenant_id__` matchers pick tenants; they are not index labels.
    const { tenants, matchers } = selectTenants(orgs, leaf.expr.range.selector.matchers);
    for (const tenant of tenants) {
      for (const s of await index.series(tenant, matchers, leaf.from, leaf.through)) {
        for (const c of s.chunks) if (c.through >= leaf.from && c.from <= leaf.through) bytes += c.uncompressedBytes;
      }
    }
  }
  return bytes;
}

export interface IndexShardCountOptions {
  index: IndexSource;
  /** The limits of an org ID (tsdb_max_bytes_per_shard, tsdb_max_query_parallelism). */
  limits(orgId: string): Readonly<Limits>;
  /** querier.query_ingesters_within, milliseconds (0: queriers always ask ingesters). */
  queryIngestersWithinMs: number;
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * The query-frontend's `shards` (QueryFrontendOptions): from the index bytes per time split. The index does not
 * know what is still only in ingesters, so a query reaching into query_ingesters_within keeps at least the fixed
 * row_shards ({@link DEFAULT_SHARDS}), as does a query whose index lookup fails.
 */
export function indexShardCount(o: IndexShardCountOptions): (orgId: string, q: { expr: SampleExpr; start: bigint; end: bigint; splits: number }) => Promise<number> {
  return async (orgId, q) => {
    const limits = o.limits(orgId);
    const within = BigInt(o.queryIngestersWithinMs) * NS_PER_MS;
    const recent = within === 0n || q.end >= BigInt(o.now()) * NS_PER_MS - within;
    let bytes: number;
    try {
      bytes = await indexedBytes(o.index, orgId, q.expr, q.start, q.end);
    } catch {
      return DEFAULT_SHARDS;
    }
    const factor = guessShardFactor(bytes / Math.max(1, q.splits), limits.tsdb_max_bytes_per_shard, limits.tsdb_max_query_parallelism);
    return recent ? Math.max(factor, DEFAULT_SHARDS) : factor;
  };
}

const NS_PER_MS = 1_000_000n;
