import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source.options.js';
import { openDatabase } from './database-bootstrap.js';

/**
 * The job store database (jobs, job events, approvals, audit), opened and migrated once at boot. Feature modules
 * use TypeOrmModule.forFeature([...]) and @InjectRepository as usual.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      // no retry loop: a store that cannot open is a configuration problem the CLI reports once (exit 2)
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config.jobs), toRetry: () => false }),
      // our opener refuses corrupt files and newer schemas, then runs the migrations
      dataSourceFactory: (options) => openDatabase(options as DataSourceOptions),
    }),
  ],
})
export class DatabaseModule {}
