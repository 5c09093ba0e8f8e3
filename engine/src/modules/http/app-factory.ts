import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { LoggerService } from '@nestjs/common';
import type { Engine } from '../../core/engine.js';
import type { Logger } from '../../core/util/logger.js';
import { AppModule } from '../app.module.js';
import { ErrorsFilter } from './errors.filter.js';

/** Grafana sends long LogQL queries as GET URLs: allow request lines and headers well beyond Node's 16 KiB. */
const MAX_HEADER_BYTES = 1024 * 1024;

class NestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(): void {}
  error(message: unknown): void {
    this.logger.error(String(message), { component: 'nest' });
  }
  warn(message: unknown): void {
    this.logger.warn(String(message), { component: 'nest' });
  }
}

/**
 * Builds the HTTP application for an engine. Bodies are not parsed by the framework: every content type arrives as
 * the raw request stream, so the push path can limit the decompressed size while it reads (a gzip bomb never
 * reaches memory) and the query path can read forms itself.
 */
export async function createApp(engine: Engine, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    routerOptions: { maxParamLength: 8192 },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    requestTimeout: 0,
    keepAliveTimeout: 65_000,
  } as ConstructorParameters<typeof FastifyAdapter>[0]);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forEngine(engine), adapter, {
    bodyParser: false,
    logger: new NestLogger(logger),
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.useGlobalFilters(new ErrorsFilter(logger));
  await app.init();
  return app;
}
