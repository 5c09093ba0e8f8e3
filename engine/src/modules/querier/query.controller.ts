import { Controller, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { EngineError, badRequest } from '../../core/errors.js';
import { parseExpr, parseMatchers } from '../../core/logql/syntax/parser.js';
import { prettify } from '../../core/logql/syntax/printer.js';
import { newStats } from '../../core/querier/querier.js';
import { param, params, parseDirection, parseLimit, parseRange, type Params } from '../../core/querier/params.js';
import { CATEGORIZE_LABELS, streamsResponse } from '../../core/querier/response.js';
import { resolveTenant } from '../../core/tenant/tenant-id.js';
import { formatDuration } from '../../core/config/duration.js';
import { requestParams } from '../http/params.js';
import { GetPost } from '../http/get-post.decorator.js';
import { ENGINE } from '../tokens.js';

const SIX_HOURS_MS = 6 * 3_600_000;

/** Loki's read API over the querier: log queries, labels, label values and series (GET and POST forms). */
@Controller()
export class QueryController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @GetPost('loki/api/v1/query_range', 'api/prom/query')
  async queryRange(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { tenant, p } = await this.request(req);
    const query = param(p, 'query') ?? '';
    const limits = this.engine.overrides.forTenant(tenant);
    const limit = parseLimit(param(p, 'limit'));
    const direction = parseDirection(param(p, 'direction'));
    const { start, end } = parseRange(p, this.nowNs());
    const expr = parseExpr(query);
    const maxEntries = limits.max_entries_limit_per_query;
    if (maxEntries > 0 && limit > maxEntries) {
      throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxEntries})`);
    }
    checkQueryLength(start, end, limits.max_query_length);
    const stats = newStats();
    const streams = await this.engine.querier.selectLogs(
      { tenant, expr, from: start, through: end, direction, limit },
      stats,
    );
    const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '')
      .split(',')
      .some((f) => f.trim() === CATEGORIZE_LABELS);
    const body = streamsResponse(streams, categorize, stats, process.hrtime.bigint() - started);
    sendJson(reply, body);
  }

  @GetPost('loki/api/v1/labels', 'loki/api/v1/label', 'api/prom/label')
  async labels(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenant, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const names = await this.engine.querier.labelNames(tenant, start, end);
    sendJson(reply, names.length > 0 ? { status: 'success', data: names } : { status: 'success' });
  }

  @GetPost('loki/api/v1/label/:name/values', 'api/prom/label/:name/values')
  async labelValues(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('name') name: string,
  ): Promise<void> {
    const { tenant, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const q = param(p, 'query');
    const matchers = q ? parseMatchers(q) : [];
    const values = await this.engine.querier.labelValues(tenant, name, start, end, matchers);
    sendJson(reply, values.length > 0 ? { status: 'success', data: values } : { status: 'success' });
  }

  @GetPost('loki/api/v1/series', 'api/prom/series')
  async series(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const { tenant, p } = await this.request(req);
    const { start, end } = parseRange(p, this.nowNs(), SIX_HOURS_MS);
    const selectors = [...params(p, 'match[]'), ...params(p, 'match')];
    if (selectors.length === 0) throw badRequest('0 matchers provided');
    const series = await this.engine.querier.series(tenant, selectors.map(parseMatchers), start, end);
    sendJson(reply, { status: 'success', data: series.map((l) => Object.fromEntries(l)) });
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

  private async request(req: FastifyRequest): Promise<{ tenant: string; p: Params }> {
    this.engine.assertRunning();
    const tenant = resolveTenant(req.headers['x-scope-orgid'], this.engine.config.auth_enabled);
    return { tenant, p: await requestParams(req) };
  }

  private nowNs(): bigint {
    return BigInt(this.engine.clock.now()) * 1_000_000n;
  }
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
