import type { Limits } from '../limits/limits.js';
import { EngineError, badRequest } from '../errors.js';
import { labelsString } from '../distributor/labels.js';
import { fingerprint } from '../index/fingerprint.js';
import { cmp } from '../ingester/stream.js';
import type { LabelMatcher } from '../logql/syntax/matcher.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import type { Direction, LabelPair, Labels } from '../model.js';
import { DEFAULT_TENANT, validateTenantId } from '../tenant/tenant-id.js';
import type { LogStream, Querier, QueryStats, SelectParams, SelectStreamsParams, StreamData } from './querier.js';

/** The label multi-tenant queries add to every result, and the name an existing label of that name is moved to. */
export const TENANT_LABEL = '__tenant_id__';
export const ORIGINAL_TENANT_LABEL = 'original_' + TENANT_LABEL;

/** Loki's (dskit's) answer when several tenants are sent but multi-tenant queries are disabled. */
export const MULTIPLE_ORG_IDS = 'multiple org IDs present';

/**
 * The tenants of a read request from `X-Scope-OrgID`. `a|b` names several tenants (validated, deduplicated and
 * sorted, as dskit does); that is a 400 unless `querier.multi_tenant_queries_enabled`. With auth disabled every
 * request reads tenant `fake`.
 */
export function resolveTenants(header: string | string[] | undefined, authEnabled: boolean, multiTenantEnabled: boolean): string[] {
  if (!authEnabled) return [DEFAULT_TENANT];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') throw new EngineError('unauthorized', 'no org id');
  // As Loki: every ID is validated and duplicates dropped first, so `a|a` is tenant `a` and a bad ID is reported
  // as such even when multi-tenant queries are off.
  const tenants = [...new Set(value.split('|').map(validateTenantId))].sort();
  if (tenants.length > 1 && !multiTenantEnabled) throw badRequest(MULTIPLE_ORG_IDS);
  return tenants;
}

/**
 * Splits a selector's matchers for a multi-tenant query: matchers on `__tenant_id__` choose tenants (Loki supports
 * them in the stream selector only) and are removed; the rest go to each tenant's query. A single tenant's query is
 * left alone, as Loki runs it without the multi-tenant layer (a `__tenant_id__` matcher then matches no stream).
 */
export function selectTenants(tenants: readonly string[], matchers: readonly LabelMatcher[]): { tenants: string[]; matchers: LabelMatcher[] } {
  if (tenants.length === 1) return { tenants: [...tenants], matchers: [...matchers] };
  const onTenant = matchers.filter((m) => m.name === TENANT_LABEL);
  return {
    tenants: tenants.filter((t) => onTenant.every((m) => m.matches(t))),
    matchers: matchers.filter((m) => m.name !== TENANT_LABEL),
  };
}

/** Adds `__tenant_id__=tenant`, moving an existing `__tenant_id__` to `original___tenant_id__`; stays sorted. */
export function withTenantLabel(labels: Labels, tenant: string): Labels {
  const out: LabelPair[] = [];
  for (const [n, v] of labels) out.push(n === TENANT_LABEL ? [ORIGINAL_TENANT_LABEL, v] : [n, v]);
  out.push([TENANT_LABEL, tenant]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Runs `run` once per tenant, in parallel, and returns the results in tenant order. Requests for one tenant call
 * `run` directly; callers add {@link TENANT_LABEL} only when more than one tenant was asked for, as Loki does.
 */
export async function forEachTenant<T>(tenants: readonly string[], run: (tenant: string) => Promise<T>): Promise<Array<{ tenant: string; result: T }>> {
  const results = await Promise.all(tenants.map((t) => run(t)));
  return tenants.map((tenant, i) => ({ tenant, result: results[i]! }));
}

/**
 * A log query over several tenants (Loki's MultiTenantQuerier.SelectLogs): `__tenant_id__` matchers pick the tenants,
 * each tenant's streams get the tenant label, and the `limit` entries are cut across all tenants in the direction's
 * order. With one tenant it is exactly {@link Querier.selectLogs}.
 *
 * Wiring into query_range: resolve `tenants` with {@link resolveTenants} instead of `resolveTenant`, then call
 * `selectLogsForTenants(querier, tenants, params, stats)` where the controller calls `querier.selectLogs(params,
 * stats)` (`params.tenant` is ignored), and build the metric query's SampleSource from {@link readStreamsForTenants}.
 */
export async function selectLogsForTenants(
  querier: Pick<Querier, 'selectLogs'>,
  tenants: readonly string[],
  p: Omit<SelectParams, 'tenant'>,
  stats?: QueryStats,
): Promise<LogStream[]> {
  if (tenants.length === 1) return querier.selectLogs({ ...p, tenant: tenants[0]! }, stats);
  if (p.expr.kind !== 'log') throw badRequest('log selector expected, got a metric query');
  const sel = selectTenants(tenants, p.expr.matchers);
  const expr: LogSelectorExpr = { ...p.expr, matchers: sel.matchers };
  const perTenant = await forEachTenant(sel.tenants, (tenant) => querier.selectLogs({ ...p, expr, tenant }, stats));
  const streams: LogStream[] = [];
  for (const { tenant, result } of perTenant) {
    for (const s of result) {
      const labels = withTenantLabel(s.labels, tenant);
      const canonical = labelsString(labels);
      streams.push({
        labels,
        canonical,
        fingerprint: fingerprint(canonical),
        entries: s.entries.map((e) => (e.stream === undefined ? e : { ...e, stream: withTenantLabel(e.stream, tenant) })),
      });
    }
  }
  return cutToLimit(streams, p.limit, p.direction);
}

/**
 * The metric engine's stream reader over several tenants: each tenant's streams with the tenant label (a new
 * canonical form and fingerprint, so equal label sets of two tenants stay two series), sorted by canonical labels.
 */
export async function readStreamsForTenants(
  querier: Pick<Querier, 'selectStreams'>,
  tenants: readonly string[],
  p: Omit<SelectStreamsParams, 'tenant'>,
  stats?: QueryStats,
): Promise<StreamData[]> {
  if (tenants.length === 1) return querier.selectStreams({ ...p, tenant: tenants[0]! }, stats);
  const sel = selectTenants(tenants, p.matchers);
  const perTenant = await forEachTenant(sel.tenants, (tenant) => querier.selectStreams({ ...p, matchers: sel.matchers, tenant }, stats));
  const out: StreamData[] = [];
  for (const { tenant, result } of perTenant) {
    for (const s of result) {
      const labels = withTenantLabel(s.labels, tenant);
      const canonical = labelsString(labels);
      out.push({ labels, canonical, fingerprint: fingerprint(canonical), entries: s.entries });
    }
  }
  return out.sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0));
}

/** Keeps the first `limit` entries over all streams in the direction's order (each stream is already in order). */
function cutToLimit(streams: LogStream[], limit: number, direction: Direction): LogStream[] {
  let total = 0;
  for (const s of streams) total += s.entries.length;
  if (limit <= 0 || total <= limit) return streams;
  const heads: Array<{ ts: bigint; s: number }> = [];
  streams.forEach((st, s) => {
    for (let i = 0; i < Math.min(limit, st.entries.length); i++) heads.push({ ts: st.entries[i]!.ts, s });
  });
  const order = direction === 'forward' ? 1 : -1;
  heads.sort((a, b) => order * cmp(a.ts, b.ts) || a.s - b.s);
  const taken = new Array<number>(streams.length).fill(0);
  for (let k = 0; k < limit; k++) taken[heads[k]!.s]!++;
  const out: LogStream[] = [];
  streams.forEach((st, i) => {
    if (taken[i]! > 0) out.push({ ...st, entries: st.entries.slice(0, taken[i]) });
  });
  return out;
}

/** The smallest positive value of a limit over several tenants (0 when none sets it): the strictest one applies. */
export function smallestPositive(limits: ReadonlyArray<Readonly<Limits>>, get: (l: Readonly<Limits>) => number): number {
  let out = 0;
  for (const l of limits) {
    const v = get(l);
    if (v > 0 && (out === 0 || v < out)) out = v;
  }
  return out;
}

const QUERY_LIMITS = [
  'max_entries_limit_per_query',
  'max_query_series',
  'query_timeout',
  'max_query_length',
  'max_query_lookback',
  'max_query_range',
] as const;

/** The query limits of a multi-tenant query: for each, the strictest (smallest positive) over the tenants. */
export function queryLimits(all: ReadonlyArray<Readonly<Limits>>): Readonly<Limits> {
  if (all.length === 1) return all[0]!;
  const merged: Limits = { ...all[0]! };
  for (const k of QUERY_LIMITS) merged[k] = smallestPositive(all, (l) => l[k]);
  return merged;
}
