import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

  /**
   * The ingester ring (Loki's `/ring` status page): JSON with `Accept: application/json`, else a plain HTML table.
   * 404 in the single binary, which has no ring.
   */
  @Get(['ring', 'ingester/ring', 'distributor/ring'])
  ring(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const status = this.engine.ringStatus();
    if (status === undefined) {
      void reply.status(404).header('content-type', 'text/plain; charset=utf-8').send('404 page not found\n');
      return;
    }
    if ((req.headers.accept ?? '').includes('application/json')) {
      sendJson(reply, status);
      return;
    }
    const esc = (v: unknown): string => String(v).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const rows = status.instances
      .map((i) => `<tr><td>${esc(i.id)}</td><td>${esc(i.zone)}</td><td>${esc(i.state)}</td><td>${esc(i.addr)}</td><td>${esc(i.heartbeat)}</td><td>${i.tokens}</td><td>${(i.ownership * 100).toFixed(1)}%</td></tr>`)
      .join('');
    const html = `<!DOCTYPE html><html><head><title>${esc(status.name)} ring</title></head><body><h1>${esc(status.name)} ring</h1><p>replication factor ${status.replicationFactor}, at ${esc(status.now)}</p><table border="1"><tr><th>Instance ID</th><th>Availability Zone</th><th>State</th><th>Address</th><th>Last Heartbeat</th><th>Tokens</th><th>Ownership</th></tr>${rows}</table></body></html>`;
    void reply.status(200).header('content-type', 'text/html; charset=utf-8').send(html);
  }

  @Get(['loki/api/v1/status/buildinfo', 'api/v1/status/buildinfo'])
  buildinfo(@Res() reply: FastifyReply): void {
    sendJson(reply, BUILD_INFO);
  }
}
