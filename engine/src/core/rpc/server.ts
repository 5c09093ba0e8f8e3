import { EngineError } from '../errors.js';
import { LabelMatcher, type MatchType } from '../logql/syntax/matcher.js';
import type { Labels } from '../model.js';

/** One internal method: the tenant from the call's header (absent for tenant-free calls) and the decoded body. */
export type RpcHandler = (tenant: string | undefined, body: unknown, signal: AbortSignal) => Promise<unknown>;

/**
 * The internal methods this process serves, by name (`ingester/push`, `index/series`, …). Each component registers
 * its own; the HTTP shell routes `POST /internal/v1/<method>` here (docs/internal-protocol.md).
 */
export class RpcServer {
  private readonly handlers = new Map<string, RpcHandler>();

  register(method: string, handler: RpcHandler): void {
    if (this.handlers.has(method)) throw new Error(`internal method ${method} registered twice`);
    this.handlers.set(method, handler);
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  get methods(): string[] {
    return [...this.handlers.keys()].sort();
  }

  async handle(method: string, tenant: string | undefined, body: unknown, signal: AbortSignal): Promise<unknown> {
    const h = this.handlers.get(method);
    if (!h) throw new EngineError('not_found', `internal method ${JSON.stringify(method)} is not served by this process`);
    return h(tenant, body, signal);
  }
}

/** Requires the tenant header on a tenant-scoped method. */
export function needTenant(tenant: string | undefined): string {
  if (tenant === undefined || tenant === '') throw new EngineError('unauthorized', 'no org id');
  return tenant;
}

// ── shapes shared by clients and handlers ──────────────────────────────────────────────────────────────────────

/** A label matcher on the wire. */
export type WireMatcher = [type: MatchType, name: string, value: string];

export function matchersToWire(ms: readonly LabelMatcher[]): WireMatcher[] {
  return ms.map((m) => [m.type, m.name, m.value]);
}

export function matchersFromWire(ws: unknown): LabelMatcher[] {
  if (!Array.isArray(ws)) throw new EngineError('bad_request', 'matchers: expected an array');
  return ws.map((w) => {
    if (!Array.isArray(w) || w.length !== 3) throw new EngineError('bad_request', 'matchers: expected [type, name, value]');
    return new LabelMatcher(w[0] as MatchType, String(w[1]), String(w[2]));
  });
}

/** Label pairs arrive as plain arrays; freeze nothing, copy nothing. */
export function labelsFromWire(ls: unknown): Labels {
  if (!Array.isArray(ls)) throw new EngineError('bad_request', 'labels: expected an array of pairs');
  return ls as Labels;
}

/** A time range on the wire: nanoseconds (bigint), `through` exclusive unless the method says otherwise. */
export interface WireRange {
  from: bigint;
  through: bigint;
}

export function rangeFromWire(b: { from?: unknown; through?: unknown }): WireRange {
  if (typeof b.from !== 'bigint' || typeof b.through !== 'bigint') throw new EngineError('bad_request', 'from and through must be 64-bit integers');
  return { from: b.from, through: b.through };
}
