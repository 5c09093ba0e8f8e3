import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { decodePushBody, readPushBody } from '../../core/distributor/body.js';
import { resolveTenant } from '../../core/tenant/tenant-id.js';
import { ENGINE } from '../tokens.js';

/** Loki's push API. The body arrives as a raw stream so its size is checked while it is decompressed. */
@Controller()
export class PushController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Post(['loki/api/v1/push', 'api/prom/push'])
  @HttpCode(204)
  async push(@Req() req: FastifyRequest): Promise<void> {
    this.engine.assertRunning();
    const tenant = resolveTenant(req.headers['x-scope-orgid'], this.engine.config.auth_enabled);
    const max = this.engine.config.distributor.max_recv_msg_size;
    const body = await readPushBody(req.raw, req.headers['content-encoding'], max);
    const request = decodePushBody(body, req.headers['content-type'], max, req.headers['content-encoding']);
    await this.engine.distributor.push(tenant, request);
  }
}
