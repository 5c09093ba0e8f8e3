import { Module } from '@nestjs/common';
import { CompactorStatusController } from './compactor-status.controller.js';
import { DeleteRequestsController } from './delete-requests.controller.js';

/** The compactor's HTTP surface: Loki's delete request API and the compactor status page. */
@Module({ controllers: [DeleteRequestsController, CompactorStatusController] })
export class CompactorModule {}
