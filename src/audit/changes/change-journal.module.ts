import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ChangeEntity } from './change.entity.js';
import { ChangeJournal } from './change-journal.js';
import { ChangeScopeInterceptor } from './change-scope.js';

/** The change journal and the global interceptor that tells it which tool call a change belongs to. */
@Module({
  imports: [TypeOrmModule.forFeature([ChangeEntity])],
  providers: [ChangeJournal, { provide: APP_INTERCEPTOR, useClass: ChangeScopeInterceptor }],
  exports: [ChangeJournal],
})
export class ChangeJournalModule {}
