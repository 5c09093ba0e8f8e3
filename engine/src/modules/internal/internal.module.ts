import { Module } from '@nestjs/common';
import { InternalController } from './internal.controller.js';

/** The internal API other components call (distributed mode). */
@Module({ controllers: [InternalController] })
export class InternalModule {}
