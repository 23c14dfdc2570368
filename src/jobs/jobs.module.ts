import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChangeFeed } from './change-feed.js';
import { JobCountsMetric } from './job-counts.metric.js';
import { JobEntity, JobEventEntity } from './job.entity.js';
import { JobWatchers } from './job-watchers.js';
import { JobsController } from './jobs.controller.js';
import { JobsPoller } from './jobs.poller.js';
import { JobsService } from './jobs.service.js';
import { JobsStore } from './jobs.store.js';
import { TasksService } from './tasks.service.js';

/** Durable jobs: global so every domain module can inject JobsService for its mutations. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([JobEntity, JobEventEntity])],
  controllers: [JobsController],
  providers: [ChangeFeed, JobsStore, JobsService, JobsPoller, TasksService, JobCountsMetric, JobWatchers],
  exports: [JobsService, JobsStore, JobsPoller, JobWatchers, ChangeFeed],
})
export class JobsModule {}
