import { randomBytes } from 'node:crypto';
import { badRequest, EngineError } from '../errors.js';
import { compileLogSelector, type Pipeline } from '../logql/log/pipeline.js';
import type { LinePredicate } from '../logql/log/line-filter.js';
import { parseExpr } from '../logql/syntax/parser.js';
import { matchesAll, type LabelMatcher } from '../logql/syntax/matcher.js';
import type { LabelPair, Labels } from '../model.js';
import { NS_PER_MS } from '../model.js';
import { param, type Params } from '../querier/params.js';
import { validateKeyTenant } from '../storage/chunk-key.js';
import { isObjectNotFound, type ObjectClient } from '../storage/object-client.js';
import type { Clock } from '../util/clock.js';
import { formatGoDuration, parseGoDuration } from '../util/go/duration.js';
import { parseRfc3339Ns } from '../util/time.js';

/** Loki's statuses; a request is `received` until the compactor has removed its lines from every chunk. */
export type DeleteRequestStatus = 'received' | 'processed';

/** One delete request as stored (docs/compactor.md, "Delete requests"). Times are Unix milliseconds, as in Loki. */
export interface DeleteRequest {
  requestId: string;
  tenant: string;
  /** A LogQL log selector: stream matchers plus optional filter stages. */
  query: string;
  /** Inclusive. */
  startMs: number;
  /** Inclusive. */
  endMs: number;
  /** The validated `max_interval` (ms; 0 = not given). Recorded only: Strata processes a request in one piece. */
  maxIntervalMs: number;
  status: DeleteRequestStatus;
  createdAtMs: number;
  processedAtMs?: number;
}

/** What Loki's GET /loki/api/v1/delete lists per request (times are seconds as JSON numbers, as model.Time). */
export interface DeleteRequestJson {
  request_id: string;
  start_time: number;
  end_time: number;
  query: string;
  status: DeleteRequestStatus;
  created_at: number;
}

export function toApiJson(r: DeleteRequest): DeleteRequestJson {
  return {
    request_id: r.requestId,
    start_time: r.startMs / 1000,
    end_time: r.endMs / 1000,
    query: r.query,
    status: r.status,
    created_at: r.createdAtMs / 1000,
  };
}

export const DELETE_REQUESTS_PREFIX = 'delete_requests/';
const RECORD_FORMAT = 1;
const REQUEST_ID = /^[0-9a-f]{8}$/;
const KEY = /^delete_requests\/([^/]+)\/([0-9a-f]{8})\.json$/;

export function deleteRequestKey(tenant: string, requestId: string): string {
  validateKeyTenant(tenant);
  if (!REQUEST_ID.test(requestId)) throw new Error(`invalid delete request id ${JSON.stringify(requestId)}`);
  return `${DELETE_REQUESTS_PREFIX}${tenant}/${requestId}.json`;
}

export function encodeDeleteRequest(r: DeleteRequest): Buffer {
  const doc: Record<string, unknown> = {
    format: RECORD_FORMAT,
    request_id: r.requestId,
    user_id: r.tenant,
    query: r.query,
    start_time_ms: r.startMs,
    end_time_ms: r.endMs,
    max_interval_ms: r.maxIntervalMs,
    status: r.status,
    created_at_ms: r.createdAtMs,
  };
  if (r.processedAtMs !== undefined) doc.processed_at_ms = r.processedAtMs;
  return Buffer.from(JSON.stringify(doc) + '\n');
}

export function decodeDeleteRequest(buf: Buffer, key: string): DeleteRequest {
  const bad = (why: string): Error => new Error(`corrupt delete request ${key}: ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('not an object');
  const d = doc as Record<string, unknown>;
  if (d.format !== RECORD_FORMAT) throw bad(`unsupported format ${String(d.format)}`);
  const str = (k: string): string => {
    if (typeof d[k] !== 'string') throw bad(`${k} is not a string`);
    return d[k];
  };
  const int = (k: string): number => {
    if (typeof d[k] !== 'number' || !Number.isSafeInteger(d[k])) throw bad(`${k} is not an integer`);
    return d[k];
  };
  const status = str('status');
  if (status !== 'received' && status !== 'processed') throw bad(`unknown status ${JSON.stringify(status)}`);
  const r: DeleteRequest = {
    requestId: str('request_id'),
    tenant: str('user_id'),
    query: str('query'),
    startMs: int('start_time_ms'),
    endMs: int('end_time_ms'),
    maxIntervalMs: int('max_interval_ms'),
    status,
    createdAtMs: int('created_at_ms'),
  };
  if (d.processed_at_ms !== undefined) r.processedAtMs = int('processed_at_ms');
  return r;
}

// ── the store ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface DeleteRequestStoreOptions {
  /** How long another process's changes may take to be seen (ms); this process's own changes are seen at once. */
  cacheTtlMs?: number;
}

/**
 * Delete requests in the object store, one small JSON object per request under `delete_requests/<tenant>/`, so every
 * compactor and querier sharing the bucket sees the same requests (ADR 0009). Writes are whole-object puts, atomic
 * per request. Listings are cached per tenant for `cacheTtlMs` (reads consult this on every query).
 */
export class DeleteRequestStore {
  private readonly ttlMs: number;
  private readonly cache = new Map<string, { at: number; requests: DeleteRequest[] }>();
  private readonly loading = new Map<string, Promise<DeleteRequest[]>>();

  constructor(
    private readonly store: ObjectClient,
    private readonly clock: Clock,
    opts: DeleteRequestStoreOptions = {},
  ) {
    this.ttlMs = opts.cacheTtlMs ?? 60_000;
  }

  /** Stores a new request with a fresh 8-hex-digit ID; `received` until processed. */
  async add(tenant: string, spec: { query: string; startMs: number; endMs: number; maxIntervalMs: number }): Promise<DeleteRequest> {
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (await this.store.exists(deleteRequestKey(tenant, id)));
    const r: DeleteRequest = { requestId: id, tenant, ...spec, status: 'received', createdAtMs: this.clock.now() };
    await this.store.put(deleteRequestKey(tenant, id), encodeDeleteRequest(r));
    this.cache.delete(tenant);
    return r;
  }

  /** A tenant's requests, oldest first (created_at, then ID). */
  async list(tenant: string, fresh = false): Promise<DeleteRequest[]> {
    validateKeyTenant(tenant);
    const now = this.clock.now();
    const hit = this.cache.get(tenant);
    if (!fresh && hit !== undefined && now - hit.at < this.ttlMs && now >= hit.at) return hit.requests;
    let p = this.loading.get(tenant);
    if (p === undefined) {
      p = this.load(tenant).finally(() => this.loading.delete(tenant));
      this.loading.set(tenant, p);
    }
    const requests = await p;
    this.cache.set(tenant, { at: now, requests });
    return requests;
  }

  private async load(tenant: string): Promise<DeleteRequest[]> {
    const prefix = `${DELETE_REQUESTS_PREFIX}${tenant}/`;
    const out: DeleteRequest[] = [];
    for (const o of await this.store.list(prefix)) {
      const m = KEY.exec(o.key);
      // Only this tenant's records: other objects (a tenant named `delete_requests` has chunks here) are not ours.
      if (m === null || m[1] !== tenant) continue;
      let buf: Buffer;
      try {
        buf = await this.store.get(o.key);
      } catch (e) {
        if (isObjectNotFound(e)) continue; // cancelled between the listing and the read
        throw e;
      }
      try {
        out.push(decodeDeleteRequest(buf, o.key));
      } catch (e) {
        throw new EngineError('internal', (e as Error).message);
      }
    }
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.requestId < b.requestId ? -1 : 1));
  }

  async get(tenant: string, requestId: string): Promise<DeleteRequest | undefined> {
    if (!REQUEST_ID.test(requestId)) return undefined;
    try {
      return decodeDeleteRequest(await this.store.get(deleteRequestKey(tenant, requestId)), requestId);
    } catch (e) {
      if (isObjectNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Cancels a request (Loki removes it from the store). */
  async remove(tenant: string, requestId: string): Promise<void> {
    await this.store.delete(deleteRequestKey(tenant, requestId));
    this.cache.delete(tenant);
  }

  /** Records that a request's lines are gone from every chunk; false when it was cancelled meanwhile. */
  async markProcessed(r: DeleteRequest): Promise<boolean> {
    const current = await this.get(r.tenant, r.requestId);
    if (current === undefined) return false;
    const done: DeleteRequest = { ...current, status: 'processed', processedAtMs: this.clock.now() };
    await this.store.put(deleteRequestKey(r.tenant, r.requestId), encodeDeleteRequest(done));
    this.cache.delete(r.tenant);
    return true;
  }

  /** Tenants with at least one stored request. */
  async tenants(): Promise<string[]> {
    const out = new Set<string>();
    for (const o of await this.store.list(DELETE_REQUESTS_PREFIX)) {
      const m = KEY.exec(o.key);
      if (m !== null) out.add(m[1]!);
    }
    return [...out].sort();
  }
}

// ── the API's parameters ───────────────────────────────────────────────────────────────────────────────────────

export interface DeleteRequestSpec {
  query: string;
  startMs: number;
  endMs: number;
  maxIntervalMs: number;
}

/**
 * Validates the parameters of POST/PUT /loki/api/v1/delete in Loki's order and with its messages (all 400):
 * `query` (a log selector, optionally with filter stages), `start` (required; Unix seconds with exactly 10 digits or
 * RFC3339), `end` (default now; same forms; not in the future, not before start), and — only when the query has
 * filter stages — `max_interval` (a Go duration ≥ 1s, at most `delete_max_interval` and the deleted span).
 */
export function parseDeleteRequestParams(p: Params, nowMs: number, maxIntervalMs: number): DeleteRequestSpec {
  const query = param(p, 'query') ?? '';
  if (query === '') throw badRequest('query not set');
  const compiled = compileDeleteQuery(query);
  const startParam = param(p, 'start') ?? '';
  if (startParam === '') throw badRequest('start time not set');
  const startMs = parseDeleteTime(startParam, nowMs);
  if (startMs === undefined) throw badRequest('invalid start time: require unix seconds or RFC3339 format');
  const endMs = parseDeleteTime(param(p, 'end') ?? '', nowMs);
  if (endMs === undefined) throw badRequest('invalid end time: require unix seconds or RFC3339 format');
  if (endMs > nowMs) throw badRequest('deletes in the future are not allowed');
  if (startMs > endMs) throw badRequest("start time can't be greater than end time");
  let maxInterval = 0;
  if (compiled.hasFilter) maxInterval = intervalOf(param(p, 'max_interval') ?? '', startMs, endMs, maxIntervalMs);
  return { query, startMs, endMs, maxIntervalMs: maxInterval };
}

/** Loki's delete-time forms: empty = now, RFC3339, or Unix seconds written with exactly 10 digits. */
function parseDeleteTime(v: string, nowMs: number): number | undefined {
  if (v === '') return nowMs;
  const ns = parseRfc3339Ns(v);
  if (ns !== undefined) return Number(ns / NS_PER_MS);
  if (!/^\d{10}$/.test(v)) return undefined;
  return Number(v) * 1000;
}

function intervalOf(v: string, startMs: number, endMs: number, maxMs: number): number {
  const spanMs = endMs - startMs;
  if (v === '') {
    if (spanMs < 1000) throw badRequest('difference between start time and end time must be at least one second');
    return maxMs === 0 ? spanMs : Math.min(spanMs, maxMs);
  }
  const d = parseGoDuration(v);
  if (typeof d !== 'bigint' || d < 1_000_000_000n) throw badRequest("invalid max_interval: valid time units are 's', 'm', 'h'");
  const ms = Number(d / NS_PER_MS);
  if (maxMs !== 0 && ms > maxMs) throw badRequest(`max_interval can't be greater than ${formatGoDuration(BigInt(maxMs) * NS_PER_MS)}`);
  if (ms > spanMs) {
    throw badRequest(`max_interval can't be greater than the interval to be deleted (${formatGoDuration(BigInt(spanMs) * NS_PER_MS)})`);
  }
  return ms;
}

// ── filtering ──────────────────────────────────────────────────────────────────────────────────────────────────

/** A delete request's query compiled once. */
export interface CompiledDeleteQuery {
  matchers: LabelMatcher[];
  /** The query has stages after the selector: only matching lines are deleted, not whole streams. */
  hasFilter: boolean;
  prefilter: LinePredicate | undefined;
  pipeline: Pipeline | undefined;
}

/** Parses a delete query; a 400 `invalid query expression: …` as Loki answers for anything but a log selector. */
export function compileDeleteQuery(query: string): CompiledDeleteQuery {
  try {
    const expr = parseExpr(query);
    if (expr.kind !== 'log') throw badRequest('only log selector is supported');
    const { matchers, prefilter, pipeline } = compileLogSelector(expr);
    return { matchers, hasFilter: expr.stages.length > 0, prefilter, pipeline };
  } catch (e) {
    if (e instanceof EngineError && e.code === 'bad_request') throw badRequest(`invalid query expression: ${e.message}`);
    throw e;
  }
}

/** Decides for one entry whether a delete request removes it. */
export type DeletePredicate = (ts: bigint, line: Buffer, metadata: readonly LabelPair[] | undefined) => boolean;

/** A stored request ready to apply: its query compiled and its range in nanoseconds (both ends inclusive). */
export class ActiveDelete {
  readonly query: CompiledDeleteQuery;
  readonly fromNs: bigint;
  readonly throughNs: bigint;

  constructor(readonly request: DeleteRequest) {
    this.query = compileDeleteQuery(request.query);
    this.fromNs = BigInt(request.startMs) * NS_PER_MS;
    this.throughNs = BigInt(request.endMs) * NS_PER_MS;
  }

  appliesTo(labels: Labels): boolean {
    return matchesAll(this.query.matchers, labels);
  }

  overlaps(fromNs: bigint, throughNs: bigint): boolean {
    return fromNs <= this.throughNs && throughNs >= this.fromNs;
  }

  /** The request removes every entry in [fromNs, throughNs] (no filter stages and the range covers it). */
  covers(fromNs: bigint, throughNs: bigint): boolean {
    return !this.query.hasFilter && this.fromNs <= fromNs && this.throughNs >= throughNs;
  }
}

/**
 * One predicate for the requests that apply to a stream (already matched against its labels), or undefined when
 * none do. An entry is deleted when one request's range holds its timestamp and the request's pipeline keeps the line
 * (Loki: a delete query selects what to delete).
 */
export function deletePredicate(deletes: readonly ActiveDelete[], labels: Labels): DeletePredicate | undefined {
  if (deletes.length === 0) return undefined;
  const parts = deletes.map((d) => ({
    from: d.fromNs,
    through: d.throughNs,
    pre: d.query.prefilter,
    sp: d.query.pipeline?.forStream(labels),
  }));
  return (ts, line, metadata) => {
    for (const p of parts) {
      if (ts < p.from || ts > p.through) continue;
      if (p.pre !== undefined && !p.pre(line)) continue;
      if (p.sp !== undefined && p.sp.process(ts, line, metadata) === undefined) continue;
      return true;
    }
    return false;
  };
}
