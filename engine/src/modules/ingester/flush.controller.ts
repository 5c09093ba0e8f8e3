import { Controller, HttpCode, Inject } from '@nestjs/common';
import type { Engine } from '../../core/engine.js';
import { GetPost } from '../http/get-post.decorator.js';
import { ENGINE } from '../tokens.js';

/** `/flush` (Loki's path): closes every head chunk and flushes everything to the store; 204 when done. */
@Controller()
export class FlushController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @GetPost('flush', 'ingester/flush')
  @HttpCode(204)
  async flush(): Promise<void> {
    await this.engine.ingester.flushAll();
  }
}
