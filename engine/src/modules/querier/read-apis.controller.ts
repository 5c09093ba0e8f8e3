import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { EngineError, badRequest } from '../../core/errors.js';
import type { LogSelectorExpr } from '../../core/logql/syntax/ast.js';
import { parseExpr, parseMatchers } from '../../core/logql/syntax/parser.js';
import type { LabelMatcher } from '../../core/logql/syntax/matcher.js';
import { DEADLINE_EXCEEDED, Deadline } from '../../core/querier/deadline.js';
import { DEFAULT_FIELD_LIMIT, DEFAULT_LINE_LIMIT } from '../../core/querier/detected-fields.js';
import { drilldownLimits } from '../../core/querier/drilldown-limits.js';
import { IndexStatsReader } from '../../core/querier/index-stats.js';
import { resolveTenants, smallestPositive } from '../../core/querier/multi-tenant.js';
import {
  param,
  parseDirection,
  parseInterval,
  parseLimit,
  parseRange,
  parseStep,
  parseTime,
  type Params,
} from '../../core/querier/params.js';
import { ReadApis, type LogFieldsQuery } from '../../core/querier/read-apis.js';
import { statsBlock } from '../../core/querier/response.js';
import { newStats } from '../../core/querier/querier.js';
import { DEFAULT_VOLUME_LIMIT, MATCH_ANY, parseAggregateBy, parseTargetLabels } from '../../core/querier/volume.js';
import { resolveTenant } from '../../core/tenant/tenant-id.js';
import { goQuote } from '../../core/util/go/quote.js';
import { VERSION } from '../../core/version.js';
import { GetPost } from '../http/get-post.decorator.js';
import { requestParams } from '../http/params.js';
import { ENGINE } from '../tokens.js';
import { sendJson } from './query.controller.js';

/**
 * The read APIs Grafana's Logs Drilldown calls besides queries and labels: index stats and volumes, detected fields
 * and labels, patterns and drilldown-limits. Parameters are read and validated in Loki's order with Loki's messages;
 * `X-Scope-OrgID: a|b` reads several tenants when `querier.multi_tenant_queries_enabled` is set.
 */
@Controller()
export class ReadApisController {
  private readonly apis: ReadApis;

  constructor(@Inject(ENGINE) private readonly engine: Engine) {
    // The querier keeps its index reader private, so this one caches parsed index files on its own (an
    // `Engine.index` shared by both would halve that memory).
    const stats = new IndexStatsReader(engine.indexSource, engine.ingesterReader);
    this.apis = new ReadApis(engine.querier, stats);
  }

  /** `{streams, chunks, bytes, entries}` of the selector, from the index and the ingester's memory. */
  @GetPost('loki/api/v1/index/stats')
  async indexStats(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = rangeQuery(p, this.nowNs());
    const matchers = parseMatchers(param(p, 'query') ?? '');
    const budget = this.budget(tenants);
    const s = await budget.run(this.apis.indexStats(tenants, matchers, start, end, budget.deadline));
    sendJson(reply, { streams: s.streams, chunks: s.chunks, bytes: s.bytes, entries: s.entries });
  }

  /** One vector sample per series at `end`: the bytes each aggregate holds in [start, end]. */
  @GetPost('loki/api/v1/index/volume')
  async volume(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { tenants, p } = await this.request(req);
    const limit = volumeLimit(param(p, 'limit'));
    parseTime(param(p, 'time'), 0n, 'time');
    parseDirection(param(p, 'direction'));
    const aggregateBy = parseAggregateBy(param(p, 'aggregateBy'));
    const { start, end } = parseRange(p, this.nowNs());
    await this.sendVolume(reply, tenants, p, { start, end, step: 0n, limit, aggregateBy }, started);
  }

  /** A sample per step: the bytes each aggregate holds in each step of [start, end]. */
  @GetPost('loki/api/v1/index/volume_range')
  async volumeRange(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { tenants, p } = await this.request(req);
    const limit = volumeLimit(param(p, 'limit'));
    const { start, end, step } = rangeQuery(p, this.nowNs());
    const aggregateBy = parseAggregateBy(param(p, 'aggregateBy'));
    await this.sendVolume(reply, tenants, p, { start, end, step, limit, aggregateBy }, started);
  }

  private async sendVolume(
    reply: FastifyReply,
    tenants: string[],
    p: Params,
    q: { start: bigint; end: bigint; step: bigint; limit: number; aggregateBy: 'series' | 'labels' },
    started: bigint,
  ): Promise<void> {
    const limits = tenants.map((t) => this.engine.overrides.forTenant(t));
    // Loki answers a plain 404 when the volume endpoints are disabled for the tenant.
    if (!limits.every((l) => l.volume_enabled)) throw new EngineError('not_found', 'not found');
    const query = param(p, 'query') ?? '';
    // `{}` (Loki's "match any") is not a valid selector, but the volume endpoints accept it.
    const matchers: LabelMatcher[] = query === MATCH_ANY ? [] : parseMatchers(query);
    const budget = this.budget(tenants);
    const data = await budget.run(
      this.apis.volume(
        tenants,
        {
          matchers,
          targetLabels: parseTargetLabels(param(p, 'targetLabels')),
          aggregateBy: q.aggregateBy,
          limit: q.limit,
          maxSeries: smallestPositive(limits, (l) => l.volume_max_series),
          start: q.start,
          end: q.end,
          step: q.step,
        },
        budget.deadline,
      ),
    );
    const stats = statsBlock(newStats(), process.hrtime.bigint() - started, 0);
    sendJson(reply, { status: 'success', data: { resultType: data.resultType, result: data.result, stats } });
  }

  /** The fields (structured metadata, json or logfmt keys) of the newest `line_limit` lines of a log query. */
  @GetPost('loki/api/v1/detected_fields')
  async detectedFields(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { q, limit, budget } = this.fieldsQuery(tenants, p);
    const fields = await budget.run(this.apis.detectedFields(tenants, q, limit));
    sendJson(reply, fields.length > 0 ? { fields, limit } : {});
  }

  /** The distinct values of one detected field. */
  @GetPost('loki/api/v1/detected_field/:name/values')
  async detectedFieldValues(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('name') name: string): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { q, limit, budget } = this.fieldsQuery(tenants, p);
    const values = await budget.run(this.apis.detectedFieldValues(tenants, q, name, limit));
    sendJson(reply, values.length > 0 ? { values, limit } : {});
  }

  /** Loki's ParseDetectedFieldsQuery, then the log selector and the entries limit. */
  private fieldsQuery(tenants: string[], p: Params): { q: LogFieldsQuery; limit: number; budget: Budget } {
    const { start, end } = parseRange(p, this.nowNs());
    const lineLimit = parseLimit(param(p, 'line_limit'), DEFAULT_LINE_LIMIT);
    const limitParam = param(p, 'limit');
    const limit = parseLimit(limitParam === undefined || limitParam === '' ? param(p, 'field_limit') : limitParam, DEFAULT_FIELD_LIMIT);
    parseStep(p, start, end);
    const expr = parseExpr(param(p, 'query') ?? '');
    if (expr.kind !== 'log') throw badRequest('only log queries are supported');
    const limits = tenants.map((t) => this.engine.overrides.forTenant(t));
    const maxEntries = smallestPositive(limits, (l) => l.max_entries_limit_per_query);
    if (maxEntries > 0 && lineLimit > maxEntries) {
      throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${lineLimit} > ${maxEntries})`);
    }
    const budget = this.budget(tenants);
    return { q: { expr: expr as LogSelectorExpr, start, end, lineLimit, deadline: budget.deadline }, limit, budget };
  }

  /** Stream labels of the matching streams with their cardinality, minus id-like labels. */
  @GetPost('loki/api/v1/detected_labels')
  async detectedLabels(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs());
    const query = param(p, 'query') ?? '';
    const matchers = query === '' ? [] : parseMatchers(query);
    const detectedLabels = await this.budget(tenants).run(this.apis.detectedLabels(tenants, matchers, start, end));
    sendJson(reply, { detectedLabels });
  }

  /** Log templates mined from the lines of the matching streams, with their counts per step. */
  @GetPost('loki/api/v1/patterns')
  async patterns(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenants, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs());
    const step = parseStep(p, start, end);
    const matchers = parseMatchers(param(p, 'query') ?? '');
    const budget = this.budget(tenants);
    const levelFields = this.engine.overrides.forTenant(tenants[0]!).log_level_fields;
    const data = await budget.run(
      this.apis.patterns(tenants, matchers, start, end, { stepMs: Number(step / 1_000_000n), levelFields, deadline: budget.deadline }),
    );
    sendJson(reply, { status: 'success', data });
  }

  /** The tenant's limits Drilldown adapts to, whether patterns are available, and the version. */
  @Get('loki/api/v1/drilldown-limits')
  drilldownLimits(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    this.engine.assertRunning();
    const tenant = resolveTenant(req.headers['x-scope-orgid'], this.engine.config.auth_enabled);
    // Patterns are mined at query time from stored lines, so they are available without a pattern ingester.
    sendJson(reply, drilldownLimits(this.engine.overrides.forTenant(tenant), true, VERSION));
  }

  private async request(req: FastifyRequest): Promise<{ tenants: string[]; p: Params }> {
    this.engine.assertRunning();
    const cfg = this.engine.config;
    const tenants = resolveTenants(req.headers['x-scope-orgid'], cfg.auth_enabled, cfg.querier.multi_tenant_queries_enabled);
    return { tenants, p: await requestParams(req) };
  }

  /** `query_timeout`, the smallest of the tenants'. */
  private budget(tenants: readonly string[]): Budget {
    return new Budget(smallestPositive(tenants.map((t) => this.engine.overrides.forTenant(t)), (l) => l.query_timeout));
  }

  private nowNs(): bigint {
    return BigInt(this.engine.clock.now()) * 1_000_000n;
  }
}

/** Loki's ParseRangeQuery validation (the index stats and volume_range parameters are a subset of it). */
function rangeQuery(p: Params, nowNs: bigint): { start: bigint; end: bigint; step: bigint } {
  const { start, end } = parseRange(p, nowNs);
  parseLimit(param(p, 'limit'));
  parseDirection(param(p, 'direction'));
  const step = parseStep(p, start, end);
  parseInterval(p);
  return { start, end, step };
}

/** The volume `limit`: 100 when absent or 0, as Loki reads it. */
function volumeLimit(v: string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_VOLUME_LIMIT;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${goQuote(v)}: invalid syntax`);
  const n = Number(v);
  if (n === 0) return DEFAULT_VOLUME_LIMIT;
  if (n < 0) throw badRequest('limit must be a positive value');
  return n;
}

/** The smallest positive value of a limit over several tenants (0 when none sets it), as Loki combines them. */
/**
 * A query's time budget: the work checks the deadline between units, and the request is answered with 504 once the
 * budget is spent even when the work waits on I/O.
 */
class Budget {
  readonly deadline: Deadline;

  constructor(private readonly timeoutMs: number) {
    this.deadline = new Deadline(timeoutMs);
  }

  async run<T>(work: Promise<T>): Promise<T> {
    if (this.timeoutMs <= 0) return work;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError('timeout', DEADLINE_EXCEEDED)), this.timeoutMs);
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
