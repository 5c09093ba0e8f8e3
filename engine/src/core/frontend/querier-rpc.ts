import type { RpcClient } from '../rpc/client.js';
import { needTenant, type RpcServer } from '../rpc/server.js';
import type { Downstream, DownstreamRequest, DownstreamResponse } from './types.js';

// A querier's internal method (docs/internal-protocol.md):
//   querier/execute  DownstreamRequest (tenant header)  → DownstreamResponse
// used by a frontend that calls queriers directly (`frontend.downstream_url`) instead of through a scheduler.

export function registerQuerierMethods(server: RpcServer, local: Downstream): void {
  server.register('querier/execute', async (tenant, body, signal) => local.execute(needTenant(tenant), body as DownstreamRequest, signal));
}

/** A remote querier as the frontend's Downstream. */
export class RemoteQuerierDownstream implements Downstream {
  constructor(
    private readonly rpc: RpcClient,
    private readonly addr: string,
    private readonly timeoutMs: number,
  ) {}

  execute(tenant: string, req: DownstreamRequest, signal?: AbortSignal): Promise<DownstreamResponse> {
    return this.rpc.call<DownstreamResponse>(this.addr, 'querier/execute', tenant, req, { signal, timeoutMs: this.timeoutMs, idempotent: true });
  }
}
