import { Controller, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Engine } from '../../core/engine.js';
import { readPushBody } from '../../core/distributor/body.js';
import { CBOR_CONTENT_TYPE, decodeBody, encodeBody, errorBody } from '../../core/rpc/codec.js';
import { ENGINE } from '../tokens.js';

/**
 * The internal API between components (docs/internal-protocol.md): `POST /internal/v1/<component>/<method>` with a
 * CBOR body, answered in CBOR; errors carry the EngineError's code so the caller rethrows the same error.
 */
@Controller()
export class InternalController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Post('internal/v1/:component/:method')
  async call(
    @Param('component') component: string,
    @Param('method') method: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // The caller gave up (closed the connection before the answer): stop the work (e.g. a queued sub-query).
    // The response's `close` tells that apart from the request body merely having been read.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    try {
      this.engine.assertRunning();
      // A forwarded push is as large as the decompressed client push it came from.
      const cfg = this.engine.config;
      const max = Math.max(cfg.server.grpc_server_max_recv_msg_size, cfg.distributor.max_decompressed_size);
      const body = decodeBody(await readPushBody(req.raw, undefined, max));
      const tenant = req.headers['x-scope-orgid'];
      const result = await this.engine.rpc.handle(`${component}/${method}`, typeof tenant === 'string' ? tenant : undefined, body, abort.signal);
      void reply.status(200).header('content-type', CBOR_CONTENT_TYPE).send(encodeBody(result ?? {}));
    } catch (e) {
      const { status, body } = errorBody(e);
      if (!reply.sent) void reply.status(status).header('content-type', CBOR_CONTENT_TYPE).send(body);
    }
  }
}
