import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { Component, Engine } from '../core/engine.js';
import { InternalModule } from './internal/internal.module.js';
import { DistributorModule } from './distributor/distributor.module.js';
import { EngineModule } from './engine.module.js';
import { IngesterModule } from './ingester/ingester.module.js';
import { QuerierModule } from './querier/querier.module.js';
import { ServerModule } from './server/server.module.js';
import { TailModule } from './tail/tail.module.js';
import { CompactorModule } from './compactor/compactor.module.js';

/** The module graph for a target: the server endpoints plus the HTTP surface of each component it runs. */
@Module({})
export class AppModule {
  static forEngine(engine: Engine): DynamicModule {
    const components: Type[] = [];
    const has = (c: Component): boolean => engine.components.has(c);
    if (has('distributor')) components.push(DistributorModule);
    if (has('ingester')) components.push(IngesterModule);
    // A frontend serves the whole read API: queries through itself, metadata reads like a querier.
    if (has('querier') || has('query-frontend')) components.push(QuerierModule);
    if (engine.hasTail) components.push(TailModule);
    if (has('compactor')) components.push(CompactorModule);
    if (engine.target !== 'all') components.push(InternalModule);
    return { module: AppModule, imports: [EngineModule.forEngine(engine), ServerModule, ...components] };
  }
}
