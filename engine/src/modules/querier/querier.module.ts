import { Module } from '@nestjs/common';
import { QueryController } from './query.controller.js';
import { ReadApisController } from './read-apis.controller.js';

@Module({ controllers: [QueryController, ReadApisController] })
export class QuerierModule {}
