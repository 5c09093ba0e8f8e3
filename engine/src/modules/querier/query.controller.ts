import { Controller, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { EngineError, badRequest } from '../../core/errors.js';
import { parseExpr, parseMatchers } from '../../core/logql/syntax/parser.js';
import { prettify } from '../../core/logql/syntax/printer.js';
import { evaluate, INSTANT_LOG_QUERY, maxRangeInterval, type MetricQuery, type MetricResult, type SampleSource } from '../../core/logql/engine/index.js';
import type { Expr, SampleExpr } from '../../core/logql/syntax/ast.js';
import { NS_PER_MS } from '../../core/model.js';
import { DEADLINE_EXCEEDED, Deadline } from '../../core/querier/deadline.js';
import { addStats, newStats, type QueryStats } from '../../core/querier/querier.js';
import {
  param,
  params,
  parseDirection,
  parseInterval,
  parseLimit,
  parseRange,
  parseStep,
  parseTime,
  type Params,
} from '../../core/querier/params.js';
import { CATEGORIZE_LABELS, legacyStreamsResponse, metricResponse, streamsResponse } from '../../core/querier/response.js';
import type { Limits } from '../../core/limits/limits.js';
import {
  forEachTenant,
  queryLimits,
  readStreamsForTenants,
  resolveTenants,
  selectLogsForTenants,
  withTenantLabel,
} from '../../core/querier/multi-tenant.js';
import { formatDuration } from '../../core/config/duration.js';
import { asMetric, asStreams } from '../../core/frontend/merge.js';
import type { FrontendResponse, QueryResult, RangeQuery } from '../../core/frontend/types.js';
import { parseShardsParam, type Shard } from '../../core/frontend/shard.js';
import { requestParams } from '../http/params.js';
import { GetPost } from '../http/get-post.decorator.js';
import { ENGINE } from '../tokens.js';

const SIX_HOURS_MS = 6 * 3_600_000;

/** `Cache-Control: no-cache` (one of the header's comma-separated directives, any case). */
function noCache(req: FastifyRequest): boolean {
  const h = req.headers['cache-control'];
  return (Array.isArray(h) ? h : [h ?? ''])
    .flatMap((v) => v.split(','))
    .some((d) => d.trim().toLowerCase() === 'no-cache');
}


/** Loki's read API over the querier: log queries, labels, label values and series (GET and POST forms). */
@Controller()
export class QueryController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  /**
   * Range queries: log queries (streams, with limit, direction and interval) and metric queries (matrix, with step).
   * `/api/prom/query` is Loki's legacy form: log queries only, in the legacy body.
   */
  @GetPost('loki/api/v1/query_range', 'api/prom/query')
  async queryRange(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { tenants, p } = await this.request(req);
    const legacy = req.url.startsWith('/api/prom/');
    // Parameters are validated in Loki's order, before the query is parsed.
    let { start, end } = parseRange(p, this.nowNs());
    const limit = parseLimit(param(p, 'limit'));
    const direction = parseDirection(param(p, 'direction'));
    let step = parseStep(p, start, end);
    const interval = parseInterval(p);
    // A frontend's sub-query: only the streams of one shard (`shards=<i>_of_<n>`).
    const shard = parseShardsParam(params(p, 'shards'));
    let expr = parseExpr(param(p, 'query') ?? '');
    if (legacy) expr = withLegacyRegexp(expr, param(p, 'regexp'));
    const limits = this.limitsFor(tenants);
    const deadline = new Deadline(limits.query_timeout);
    const stats = newStats();

    if (expr.kind === 'log') {
      const maxEntries = limits.max_entries_limit_per_query;
      if (maxEntries > 0 && limit > maxEntries) {
        throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxEntries})`);
      }
      const clamped = this.clampLookback(start, end, limits.max_query_lookback);
      checkQueryLength(clamped?.start ?? start, end, limits.max_query_length);
      const streams =
        clamped === undefined
          ? []
          : await withDeadline(
              this.engine.frontend
                ? this.viaFrontend(req, tenants, { expr, start: clamped.start, end, step: 0n, interval, direction, limit }, stats).then(asStreams)
                : selectLogsForTenants(this.engine.querier, tenants, { expr, from: clamped.start, through: end, direction, limit, interval, deadline, shard }, stats),
              limits.query_timeout,
            );
      const execNs = process.hrtime.bigint() - started;
      if (legacy) return sendJson(reply, legacyStreamsResponse(streams, stats, execNs));
      const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '')
        .split(',')
        .some((f) => f.trim() === CATEGORIZE_LABELS);
      return sendJson(reply, streamsResponse(streams, categorize, stats, execNs));
    }

    if (legacy) throw badRequest('legacy endpoints only support streams result type');
    checkRangeInterval(expr, limits.max_query_range);
    const clamped = this.clampLookback(start, end, limits.max_query_lookback);
    if (clamped === undefined) return sendJson(reply, metricResponse({ type: 'matrix', series: [] }, stats, process.hrtime.bigint() - started));
    start = clamped.start;
    checkQueryLength(start, end, limits.max_query_length);
    // Loki's query frontend works in milliseconds and, when it splits queries by time (the default), aligns start
    // down and end up to a multiple of the step: the sample timestamps a client sees are those.
    const stepMs = step / NS_PER_MS;
    if (stepMs > 0n) {
      step = stepMs * NS_PER_MS;
      if (limits.split_queries_by_interval > 0) {
        start -= ((start % step) + step) % step;
        const over = ((end % step) + step) % step;
        if (over !== 0n) end += step - over;
      }
    }
    const result = this.engine.frontend
      ? await withDeadline(this.viaFrontend(req, tenants, { expr, start, end, step, interval: 0n, direction, limit }, stats).then(asMetric), limits.query_timeout)
      : await this.evaluate(tenants, { expr, start, end, step }, limits.max_query_series, deadline, stats, limits.query_timeout, shard);
    sendJson(reply, metricResponse(result, stats, process.hrtime.bigint() - started));
  }

  /**
   * Instant queries: a metric query evaluated at `time` (default now) gives a vector, or a scalar for a bare number.
   * A log query is refused, as Loki does.
   */
  @GetPost('loki/api/v1/query')
  async query(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { tenants, p } = await this.request(req);
    parseLimit(param(p, 'limit'));
    const time = parseTime(param(p, 'time'), this.nowNs(), 'time');
    parseDirection(param(p, 'direction'));
    const shard = parseShardsParam(params(p, 'shards'));
    const expr = parseExpr(param(p, 'query') ?? '');
    if (expr.kind === 'log') throw badRequest(INSTANT_LOG_QUERY);
    const limits = this.limitsFor(tenants);
    checkRangeInterval(expr, limits.max_query_range);
    const stats = newStats();
    if (this.clampLookback(time, time, limits.max_query_lookback) === undefined) {
      return sendJson(reply, metricResponse(expr.kind === 'literal' ? { type: 'scalar', ms: Number(time / NS_PER_MS), value: expr.value } : { type: 'vector', samples: [] }, stats, process.hrtime.bigint() - started));
    }
    const deadline = new Deadline(limits.query_timeout);
    const frontend = this.engine.frontend;
    const result = frontend
      ? await withDeadline(
          frontend.query(tenants.join('|'), { expr, time }).then((r) => (addFrontendStats(stats, r), asMetric(r.result))),
          limits.query_timeout,
        )
      : await this.evaluate(tenants, { expr, start: time, end: time, step: 0n }, limits.max_query_series, deadline, stats, limits.query_timeout, shard);
    sendJson(reply, metricResponse(result, stats, process.hrtime.bigint() - started));
  }

  /**
   * A range query through the query-frontend (processes that run it): split, sharded, cached, sent on. A request
   * with `Cache-Control: no-cache` neither reads nor writes the results cache, as in Loki.
   */
  private async viaFrontend(req: FastifyRequest, tenants: readonly string[], q: RangeQuery, stats: QueryStats): Promise<QueryResult> {
    const r = await this.engine.frontend!.queryRange(tenants.join('|'), q, { noCache: noCache(req) });
    addFrontendStats(stats, r);
    return r.result;
  }

  private evaluate(
    tenants: readonly string[],
    q: MetricQuery,
    maxSeries: number,
    deadline: Deadline,
    stats: QueryStats,
    timeoutMs: number,
    shard?: Shard,
  ): Promise<MetricResult> {
    const querier = this.engine.querier;
    // One tenant: the querier's scanning source (no entry objects for queries without stages). Several: the
    // per-tenant reader, which adds __tenant_id__ to each stream.
    const source: SampleSource =
      tenants.length === 1
        ? querier.sampleSource(tenants[0]!, deadline, stats, shard)
        : {
            readStreams: (matchers, prefilter, from, through) =>
              readStreamsForTenants(querier, tenants, { matchers, prefilter, from, through, deadline, shard }, stats),
          };
    return withDeadline(evaluate(q, { source, maxSeries, deadline }), timeoutMs);
  }

  /**
   * `max_query_lookback`: a query entirely older than the lookback has an empty answer (undefined here); one that
   * starts before it starts at the lookback instead.
   */
  private clampLookback(start: bigint, end: bigint, lookbackMs: number): { start: bigint } | undefined {
    if (lookbackMs <= 0) return { start };
    const min = this.nowNs() - BigInt(lookbackMs) * NS_PER_MS;
    if (end < min) return undefined;
    return { start: start < min ? min : start };
  }

  @GetPost('loki/api/v1/labels', 'loki/api/v1/label', 'api/prom/label')
  async labels(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const names = union(await forEachTenant(tenants, (t) => this.engine.querier.labelNames(t, start, end)));
    sendJson(reply, names.length > 0 ? { status: 'success', data: names } : { status: 'success' });
  }

  @GetPost('loki/api/v1/label/:name/values', 'api/prom/label/:name/values')
  async labelValues(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('name') name: string,
  ): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const q = param(p, 'query');
    const matchers = q ? parseMatchers(q) : [];
    const values = union(await forEachTenant(tenants, (t) => this.engine.querier.labelValues(t, name, start, end, matchers)));
    sendJson(reply, values.length > 0 ? { status: 'success', data: values } : { status: 'success' });
  }

  @GetPost('loki/api/v1/series', 'api/prom/series')
  async series(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const selectors = [...params(p, 'match[]'), ...params(p, 'match')];
    if (selectors.length === 0) throw badRequest('0 matchers provided');
    const matchers = selectors.map(parseMatchers);
    const perTenant = await forEachTenant(tenants, (t) => this.engine.querier.series(t, matchers, start, end));
    const data = perTenant.flatMap(({ tenant, result }) =>
      result.map((l) => Object.fromEntries(tenants.length > 1 ? withTenantLabel(l, tenant) : l)),
    );
    sendJson(reply, { status: 'success', data });
  }

  /** Loki's formatter: the query pretty-printed, or 400 `{status: "invalid-query", error}`. */
  @GetPost('loki/api/v1/format_query')
  async formatQuery(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const p = await requestParams(req);
    try {
      sendJson(reply, { status: 'success', data: prettify(parseExpr(param(p, 'query') ?? '')) });
    } catch (e) {
      if (!(e instanceof EngineError)) throw e;
      void reply
        .status(400)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ status: 'invalid-query', error: e.message }) + '\n');
    }
  }

  /** The request's tenants (several with `a|b` when multi-tenant queries are enabled) and its parameters. */
  private async request(req: FastifyRequest): Promise<{ tenants: string[]; p: Params }> {
    this.engine.assertRunning();
    const cfg = this.engine.config;
    const tenants = resolveTenants(req.headers['x-scope-orgid'], cfg.auth_enabled, cfg.querier.multi_tenant_queries_enabled);
    return { tenants, p: await requestParams(req) };
  }

  private limitsFor(tenants: readonly string[]): Readonly<Limits> {
    return queryLimits(tenants.map((t) => this.engine.overrides.forTenant(t)));
  }

  private nowNs(): bigint {
    return BigInt(this.engine.clock.now()) * 1_000_000n;
  }
}

/** `max_query_range`: the longest `[range]` a query may use. */
function checkRangeInterval(expr: SampleExpr, maxMs: number): void {
  if (maxMs <= 0) return;
  const longest = maxRangeInterval(expr);
  if (longest > BigInt(maxMs) * NS_PER_MS) {
    throw badRequest(`[interval] value exceeds limit: [${formatDuration(Number(longest / NS_PER_MS))}] > [${formatDuration(maxMs)}]`);
  }
}

/** Legacy `regexp` parameter: a `|~` line filter appended to the log query. */
function withLegacyRegexp(expr: Expr, regexp: string | undefined): Expr {
  if (regexp === undefined || regexp === '') return expr;
  if (expr.kind !== 'log') throw badRequest('legacy endpoints only support streams result type');
  return { ...expr, stages: [...expr.stages, { kind: 'line_filter', op: '|~', values: [{ value: regexp, ip: false }] }] };
}

/**
 * Answers 504 once `query_timeout` has passed even when the work is stuck in I/O; the work itself stops at its
 * next deadline check.
 */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  if (timeoutMs <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EngineError('timeout', DEADLINE_EXCEEDED)), timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sorted union of per-tenant string lists. */
function union(perTenant: ReadonlyArray<{ result: readonly string[] }>): string[] {
  const all = new Set<string>();
  for (const { result } of perTenant) for (const v of result) all.add(v);
  return [...all].sort();
}

function checkQueryLength(start: bigint, end: bigint, maxMs: number): void {
  if (maxMs <= 0) return;
  const lengthMs = Number((end - start) / 1_000_000n);
  if (lengthMs > maxMs) {
    throw new EngineError(
      'bad_request',
      `the query time range exceeds the limit (query length: ${formatDuration(lengthMs)}, limit: ${formatDuration(maxMs)})`,
    );
  }
}

export function sendJson(reply: FastifyReply, body: unknown): void {
  void reply.status(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body) + '\n');
}

/** The sub-queries' stats, and the frontend's splits, shards and sub-query count (Loki's summary fields). */
function addFrontendStats(stats: QueryStats, r: FrontendResponse): void {
  addStats(stats, r.stats);
  stats.frontend = { splits: r.summary.splits, shards: r.summary.shards, subqueries: r.summary.subqueries };
}
