import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Engine } from '../core/engine.js';
import { ENGINE } from './tokens.js';

/** Makes the Engine built by main.ts available to every module. */
@Global()
@Module({})
export class EngineModule {
  static forEngine(engine: Engine): DynamicModule {
    return { module: EngineModule, providers: [{ provide: ENGINE, useValue: engine }], exports: [ENGINE] };
  }
}
