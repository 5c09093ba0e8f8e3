import { Controller, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { parseTailRequest, requireOrgId, resolveTailTenant } from '../../core/tail/tail-request.js';
import { GetPost } from '../http/get-post.decorator.js';
import { requestParams } from '../http/params.js';
import { ENGINE } from '../tokens.js';

/**
 * A tail request without a WebSocket upgrade (the upgrade itself never reaches Fastify: see TailGateway). Loki checks
 * the parameters first, then its WebSocket library refuses the request: 400 `Bad Request` with the protocol version
 * it speaks. Grafana probes `/loki/api/v2alpha/tail` the same way and must get anything but a 400 there (404 here).
 */
@Controller()
export class TailController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @GetPost('loki/api/v1/tail', 'api/prom/tail')
  async tail(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.engine.assertRunning();
    const orgId = req.headers['x-scope-orgid'];
    requireOrgId(orgId, this.engine.config.auth_enabled);
    parseTailRequest(await requestParams(req), BigInt(this.engine.clock.now()) * 1_000_000n);
    resolveTailTenant(orgId, this.engine.config.auth_enabled);
    void reply
      .status(400)
      .header('sec-websocket-version', '13')
      .header('content-type', 'text/plain; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .send('Bad Request\n');
  }
}
