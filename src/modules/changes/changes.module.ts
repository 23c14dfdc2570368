import { Module } from '@nestjs/common';
import { ChangeJournalModule } from '../../audit/changes/change-journal.module.js';
import { ChangesController } from './changes.controller.js';
import { ChangesService } from './changes.service.js';

/** list_changes and revert_change; the journal itself (and its hook into every PVE client) is ChangeJournalModule. */
@Module({
  imports: [ChangeJournalModule],
  controllers: [ChangesController],
  providers: [ChangesService],
})
export class ChangesModule {}
