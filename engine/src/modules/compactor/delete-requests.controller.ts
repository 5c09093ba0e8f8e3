import { Controller, Delete, Get, Inject, NotFoundException, Post, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDeleteRequestParams, toApiJson } from '../../core/compactor/delete-requests.js';
import type { Engine } from '../../core/engine.js';
import { badRequest, EngineError } from '../../core/errors.js';
import { param } from '../../core/querier/params.js';
import { resolveTenant } from '../../core/tenant/tenant-id.js';
import { requestParams } from '../http/params.js';
import { sendJson } from '../querier/query.controller.js';
import { ENGINE } from '../tokens.js';

const PATH = 'loki/api/v1/delete';

/**
 * Loki's delete request API, served by the compactor: POST/PUT adds a request (204), GET lists the tenant's
 * requests, DELETE cancels one (204). As in Loki the routes exist only with `compactor.retention_enabled` (404
 * otherwise) and answer 403 for a tenant whose `deletion_mode` is `disabled`.
 */
@Controller()
export class DeleteRequestsController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Post(PATH)
  async addPost(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.add(req, reply);
  }

  @Put(PATH)
  async addPut(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.add(req, reply);
  }

  @Get(PATH)
  async list(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = this.tenant(req);
    const requests = await this.engine.compactor.deletes.list(tenant, true);
    sendJson(reply, requests.map(toApiJson));
  }

  @Delete(PATH)
  async cancel(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const tenant = this.tenant(req);
    const p = await requestParams(req);
    const deletes = this.engine.compactor.deletes;
    const r = await deletes.get(tenant, param(p, 'request_id') ?? '');
    if (r === undefined) throw new EngineError('not_found', 'could not find delete request with given id');
    if (r.status !== 'received') throw badRequest('deletion of request which is in process or already processed is not allowed');
    // Past its cancel period a request may be in process (some chunks already rewritten): only a forced cancel.
    const due = r.createdAtMs + this.engine.config.compactor.delete_request_cancel_period <= this.engine.clock.now();
    if (due && param(p, 'force') !== 'true') {
      throw badRequest('Unable to cancel partially completed delete request. To force, use the ?force query parameter');
    }
    await deletes.remove(tenant, r.requestId);
    void reply.status(204).send();
  }

  private async add(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const tenant = this.tenant(req);
    const spec = parseDeleteRequestParams(await requestParams(req), this.engine.clock.now(), this.engine.config.compactor.delete_max_interval);
    const compactor = this.engine.compactor;
    const r = await compactor.deletes.add(tenant, spec);
    compactor.metrics?.deleteRequestsReceived.inc({ user: tenant });
    this.engine.logger.info('delete request for user added', { tenant, request_id: r.requestId, query: r.query });
    void reply.status(204).send();
  }

  /** The tenant, after Loki's compactor middleware checks: retention enabled, deletion allowed for the tenant. */
  private tenant(req: FastifyRequest): string {
    this.engine.assertRunning();
    const cfg = this.engine.config;
    if (!cfg.compactor.retention_enabled) throw new NotFoundException();
    const tenant = resolveTenant(req.headers['x-scope-orgid'], cfg.auth_enabled);
    if (this.engine.overrides.forTenant(tenant).deletion_mode === 'disabled') {
      throw new EngineError('forbidden', 'deletion is not available for this tenant');
    }
    return tenant;
  }
}
