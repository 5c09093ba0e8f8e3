import { Module } from '@nestjs/common';
import { TailController } from './tail.controller.js';
import { TailGateway } from './tail.gateway.js';

/** `/loki/api/v1/tail` and the legacy `/api/prom/tail`: live tailing over WebSocket. */
@Module({ controllers: [TailController], providers: [TailGateway] })
export class TailModule {}
