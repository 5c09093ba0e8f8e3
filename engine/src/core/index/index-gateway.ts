import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { CallOptions, RpcClient } from '../rpc/client.js';
import { matchersFromWire, matchersToWire, needTenant, rangeFromWire, type RpcServer } from '../rpc/server.js';
import type { IndexStats, SeriesChunks } from './index-reader.js';

/**
 * What the querier asks of the label index: the IndexReader over the object store (single binary, or a querier
 * without a gateway) or an index gateway over the internal protocol. Ranges are [from, through], both inclusive.
 */
export interface IndexSource {
  series(tenant: string, matchers: readonly LabelMatcher[], fromNs: bigint, throughNs: bigint): Promise<SeriesChunks[]>;
  labelNames(tenant: string, fromNs: bigint, throughNs: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]>;
  labelValues(tenant: string, name: string, fromNs: bigint, throughNs: bigint, matchers?: readonly LabelMatcher[]): Promise<string[]>;
  stats(tenant: string, matchers: readonly LabelMatcher[], fromNs: bigint, throughNs: bigint): Promise<IndexStats>;
}

// The index gateway's internal methods (docs/internal-protocol.md), every range inclusive:
//   index/series        {matchers, from, through}        → {series: SeriesChunks[]}
//   index/label_names   {matchers, from, through}        → {names: string[]}
//   index/label_values  {name, matchers, from, through}  → {values: string[]}
//   index/stats         {matchers, from, through}        → IndexStats

interface RangeBody {
  matchers?: unknown;
  from?: unknown;
  through?: unknown;
  name?: unknown;
}

/** Serves lookups from the index files in the object store, so queriers need no index of their own. */
export function registerIndexGatewayMethods(server: RpcServer, index: IndexSource): void {
  const args = (tenant: string | undefined, body: unknown) => {
    const b = body as RangeBody;
    const { from, through } = rangeFromWire(b);
    return { t: needTenant(tenant), matchers: matchersFromWire(b.matchers ?? []), from, through, b };
  };
  server.register('index/series', async (tenant, body) => {
    const { t, matchers, from, through } = args(tenant, body);
    return { series: await index.series(t, matchers, from, through) };
  });
  server.register('index/label_names', async (tenant, body) => {
    const { t, matchers, from, through } = args(tenant, body);
    return { names: await index.labelNames(t, from, through, matchers) };
  });
  server.register('index/label_values', async (tenant, body) => {
    const { t, matchers, from, through, b } = args(tenant, body);
    return { values: await index.labelValues(t, String(b.name ?? ''), from, through, matchers) };
  });
  server.register('index/stats', async (tenant, body) => {
    const { t, matchers, from, through } = args(tenant, body);
    return await index.stats(t, matchers, from, through);
  });
}

/** An index gateway as an IndexSource (calls are reads: retried on 503). */
export class IndexGatewayClient implements IndexSource {
  constructor(
    private readonly rpc: RpcClient,
    private readonly addr: string,
    private readonly opts: CallOptions = {},
  ) {}

  async series(tenant: string, matchers: readonly LabelMatcher[], fromNs: bigint, throughNs: bigint): Promise<SeriesChunks[]> {
    return (await this.call<{ series: SeriesChunks[] }>('index/series', tenant, { matchers: matchersToWire(matchers), from: fromNs, through: throughNs })).series;
  }

  async labelNames(tenant: string, fromNs: bigint, throughNs: bigint, matchers: readonly LabelMatcher[] = []): Promise<string[]> {
    return (await this.call<{ names: string[] }>('index/label_names', tenant, { matchers: matchersToWire(matchers), from: fromNs, through: throughNs })).names;
  }

  async labelValues(tenant: string, name: string, fromNs: bigint, throughNs: bigint, matchers: readonly LabelMatcher[] = []): Promise<string[]> {
    return (
      await this.call<{ values: string[] }>('index/label_values', tenant, { name, matchers: matchersToWire(matchers), from: fromNs, through: throughNs })
    ).values;
  }

  async stats(tenant: string, matchers: readonly LabelMatcher[], fromNs: bigint, throughNs: bigint): Promise<IndexStats> {
    return await this.call<IndexStats>('index/stats', tenant, { matchers: matchersToWire(matchers), from: fromNs, through: throughNs });
  }

  private call<T>(method: string, tenant: string, body: unknown): Promise<T> {
    return this.rpc.call<T>(this.addr, method, tenant, body, { idempotent: true, ...this.opts });
  }
}
