import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { formatTs } from '../../core/util/time.js';
import { sendJson } from '../querier/query.controller.js';
import { ENGINE } from '../tokens.js';

/**
 * `/compactor/ring`: Loki shows its compactor ring here; Strata's compactors share a lease instead (ADR 0009), so
 * the page lists the lease holder — the one active compactor — and this instance. JSON with `Accept:
 * application/json`, else a small HTML table.
 */
@Controller()
export class CompactorStatusController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Get('compactor/ring')
  async ring(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const c = this.engine.compactor;
    const lease = await c.lock.holder();
    const now = this.engine.clock.now();
    const status = {
      instance: c.instanceId,
      active: c.active,
      holder: lease === undefined || lease.expiresAtMs <= now ? null : lease.holder,
      acquired_at: lease === undefined ? null : formatTs(BigInt(lease.acquiredAtMs) * 1_000_000n),
      renewed_at: lease === undefined ? null : formatTs(BigInt(lease.renewedAtMs) * 1_000_000n),
      expires_at: lease === undefined ? null : formatTs(BigInt(lease.expiresAtMs) * 1_000_000n),
    };
    if ((req.headers.accept ?? '').includes('application/json')) {
      sendJson(reply, status);
      return;
    }
    const esc = (v: unknown): string => String(v).replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
    const rows = Object.entries(status)
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v ?? '')}</td></tr>`)
      .join('');
    const html = `<!DOCTYPE html><html><head><title>compactor</title></head><body><h1>Compactor</h1><table border="1">${rows}</table></body></html>`;
    void reply.status(200).header('content-type', 'text/html; charset=utf-8').send(html);
  }
}
