import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Engine } from '../../core/engine.js';
import { ENGINE } from '../tokens.js';

/** `/health` for Kubernetes probes (terminus); `/ready` stays Loki's plain-text readiness endpoint. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(ENGINE) private readonly engine: Engine,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([
      (): HealthIndicatorResult => {
        const up = this.engine.state === 'Running';
        const result: HealthIndicatorResult = { engine: { status: up ? 'up' : 'down', state: this.engine.state } };
        if (!up) throw new Error(`engine is ${this.engine.state}`);
        return result;
      },
    ]);
  }
}
