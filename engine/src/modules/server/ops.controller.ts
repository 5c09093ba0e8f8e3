import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { configToYaml } from '../../core/config/config.js';
import { servicesFor, type Engine } from '../../core/engine.js';
import { BUILD_INFO } from '../../core/version.js';
import { ENGINE } from '../tokens.js';
import { sendJson } from '../querier/query.controller.js';

/** Loki's operational endpoints. */
@Controller()
export class OpsController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Get('ready')
  ready(@Res() reply: FastifyReply): void {
    const ok = this.engine.state === 'Running';
    const body = ok ? 'ready' : this.engine.state === 'Stopping' ? 'Application is stopping' : this.engine.stateReason;
    void reply.status(ok ? 200 : 503).header('content-type', 'text/plain; charset=utf-8').send(body + '\n');
  }

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const registry = this.engine.metrics.registry;
    void reply.status(200).header('content-type', registry.contentType).send(await registry.metrics());
  }

  @Get('config')
  config(@Res() reply: FastifyReply): void {
    void reply.status(200).header('content-type', 'text/plain; charset=utf-8').send(configToYaml(this.engine.config));
  }

  @Get('services')
  services(@Res() reply: FastifyReply): void {
    const state = this.engine.state;
    const body = servicesFor(this.engine.target)
      .map((s) => `${s} => ${state}\n`)
      .join('');
    void reply.status(200).header('content-type', 'text/plain; charset=utf-8').send(body);
  }

  @Get(['loki/api/v1/status/buildinfo', 'api/v1/status/buildinfo'])
  buildinfo(@Res() reply: FastifyReply): void {
    sendJson(reply, BUILD_INFO);
  }
}
