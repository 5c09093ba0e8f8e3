import { EngineError, badRequest } from '../errors.js';
import { parseError } from '../logql/syntax/lexer.js';
import { parseExpr } from '../logql/syntax/parser.js';
import type { LogSelectorExpr } from '../logql/syntax/ast.js';
import { MULTIPLE_ORG_IDS, resolveTenants } from '../querier/multi-tenant.js';
import { durationNs, param, parseLimit, parseTime, type Params } from '../querier/params.js';

/** Loki refuses a longer `delay_for` (seconds). */
export const MAX_DELAY_FOR_SECONDS = 5;

/** A validated `/loki/api/v1/tail` (or legacy `/api/prom/tail`) request. */
export interface TailRequest {
  /** The log query: entries must match its selector and survive its pipeline. */
  expr: LogSelectorExpr;
  /** How many historic entries (the newest in [start, now)) are sent first. Live entries are not limited. */
  limit: number;
  /** Nanoseconds: where the historic entries begin (default: an hour ago). */
  start: bigint;
  /** Seconds an entry is held back after its timestamp, so late entries can be sent in order. */
  delayForSeconds: number;
}

/**
 * Parses a tail request's parameters in Loki's order (query, legacy `regexp`, limit, start, delay_for), with Loki's
 * messages. Every failure is a 400 answered before the WebSocket upgrade.
 */
export function parseTailRequest(p: Params, nowNs: bigint): TailRequest {
  const parsed = parseExpr(param(p, 'query') ?? '');
  if (parsed.kind !== 'log') throw parseError(0, 0, 'only log selector is supported');
  let expr: LogSelectorExpr = parsed;
  const regexp = param(p, 'regexp');
  if (regexp !== undefined && regexp !== '') {
    // The legacy parameter: a `|~` filter appended to the query.
    expr = { ...expr, stages: [...expr.stages, { kind: 'line_filter', op: '|~', values: [{ value: regexp, ip: false }] }] };
  }
  const limit = parseLimit(param(p, 'limit'));
  const start = parseStart(p, nowNs);
  const delayForSeconds = parseDelayFor(param(p, 'delay_for'));
  return { expr, limit, start, delayForSeconds };
}

/**
 * `start` (default: `since`, one hour by default, before the earlier of `end` and now). Unlike a range query, a tail
 * accepts a start after its end: it then simply has no history.
 */
function parseStart(p: Params, nowNs: bigint): bigint {
  const since = param(p, 'since');
  const sinceNs = since !== undefined && since !== '' ? durationNs(since) : DEFAULT_SINCE_NS;
  const end = parseTime(param(p, 'end'), nowNs, 'end');
  return parseTime(param(p, 'start'), (end < nowNs ? end : nowNs) - sinceNs, 'start');
}

const DEFAULT_SINCE_NS = 3_600_000_000_000n;

function parseDelayFor(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^[+-]?\d+$/.test(value)) throw badRequest(`strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
  const n = Number(value);
  // Loki stores the value as an unsigned 32-bit integer, so a negative delay wraps around and is too large too.
  if (n < 0 || n > MAX_DELAY_FOR_SECONDS) throw badRequest(`delay_for can't be greater than ${MAX_DELAY_FOR_SECONDS}`);
  return n;
}

/** Loki's authentication middleware, which runs before the tail handler: with auth a tenant is required (401). */
export function requireOrgId(header: string | string[] | undefined, authEnabled: boolean): void {
  const value = Array.isArray(header) ? header[0] : header;
  if (authEnabled && (value === undefined || value === '')) throw new EngineError('unauthorized', 'no org id');
}

/**
 * The one tenant a tail reads. Loki serves tails for a single tenant only (tenant.TenantID): each tenant ID of
 * `a|b` is validated, duplicates fold into one, and two or more distinct tenants are a 400 "multiple org IDs present"
 * whether or not multi-tenant queries are enabled (Loki's multi-tenancy documentation lists tail among the endpoints
 * that refuse several tenants). With auth disabled every tail reads tenant `fake`.
 */
export function resolveTailTenant(header: string | string[] | undefined, authEnabled: boolean): string {
  const tenants = resolveTenants(header, authEnabled, true);
  if (tenants.length > 1) throw badRequest(MULTIPLE_ORG_IDS);
  return tenants[0]!;
}
