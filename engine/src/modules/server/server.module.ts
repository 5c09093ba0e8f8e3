import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { OpsController } from './ops.controller.js';

@Module({ imports: [TerminusModule], controllers: [OpsController, HealthController] })
export class ServerModule {}
