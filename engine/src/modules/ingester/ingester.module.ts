import { Module } from '@nestjs/common';
import { FlushController } from './flush.controller.js';

@Module({ controllers: [FlushController] })
export class IngesterModule {}
