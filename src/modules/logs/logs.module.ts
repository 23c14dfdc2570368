import { Module } from '@nestjs/common';
import { LogsController } from './logs.controller.js';
import { LogsService } from './logs.service.js';

/** Read-only log tools: node journal, node firewall log, cluster log. */
@Module({ controllers: [LogsController], providers: [LogsService] })
export class LogsModule {}
