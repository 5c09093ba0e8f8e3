import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { Engine } from '../core/engine.js';
import { DistributorModule } from './distributor/distributor.module.js';
import { EngineModule } from './engine.module.js';
import { IngesterModule } from './ingester/ingester.module.js';
import { QuerierModule } from './querier/querier.module.js';
import { ServerModule } from './server/server.module.js';
import { TailModule } from './tail/tail.module.js';

/** The module graph for a target: the server endpoints plus the HTTP surface of each component it runs. */
@Module({})
export class AppModule {
  static forEngine(engine: Engine): DynamicModule {
    const components: Type[] = [];
    if (engine.target === 'all') components.push(DistributorModule, IngesterModule, QuerierModule, TailModule);
    return { module: AppModule, imports: [EngineModule.forEngine(engine), ServerModule, ...components] };
  }
}
