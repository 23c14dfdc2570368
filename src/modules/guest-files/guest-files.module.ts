import { Module } from '@nestjs/common';
import { GuestsModule } from '../guests/guests.module.js';
import { GuestFilesController } from './guest-files.controller.js';
import { GuestFilesService } from './guest-files.service.js';

/** read_vm_file / write_vm_file: files inside a VM through its QEMU guest agent. */
@Module({
  imports: [GuestsModule],
  controllers: [GuestFilesController],
  providers: [GuestFilesService],
})
export class GuestFilesModule {}
