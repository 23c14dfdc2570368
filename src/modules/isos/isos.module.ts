import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { IsosController } from './isos.controller.js';
import { IsosService } from './isos.service.js';

/** ISO images and container templates (storage content comes from the guests module). */
@Module({
  imports: [GuestsModule],
  controllers: [IsosController],
  providers: [IsosService],
})
export class IsosModule {}
