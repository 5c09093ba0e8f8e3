import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EngineError } from '../../core/errors.js';
import type { Logger } from '../../core/util/logger.js';

/**
 * Every error leaves as Loki does it: a plain-text body with the message and the status from the one error table.
 * Anything unexpected is a 500 and is logged; the process never crashes on a request.
 */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status = 500;
    let body: string;
    if (err instanceof EngineError) {
      status = err.status;
      body = err.message;
    } else if (err instanceof HttpException) {
      status = err.getStatus();
      body = status === 404 ? '404 page not found' : err.message;
    } else {
      this.logger.error('request failed', { err });
      body = err instanceof Error ? err.message : String(err);
    }
    if (reply.sent) return;
    // Loki ends push and delete-API errors with a newline (http.Error) and read-path errors without one.
    const url = reply.request.url;
    const newline = url.includes('/push') || url.includes('/loki/api/v1/delete') || status === 404 ? '\n' : '';
    void reply.status(status).header('content-type', 'text/plain; charset=utf-8').send(body + newline);
  }
}
