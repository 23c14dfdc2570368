import { Module } from '@nestjs/common';
import { ContainerStateReader, VmStateReader } from './guest-state.js';
import { GuestConfigService } from './guest-config.service.js';
import { GuestNotesService } from './guest-notes.service.js';
import { StorageContentService } from './storage-content.service.js';
import { VmidAllocator } from './vmid-allocator.js';

/**
 * What several domains share about guests (VMs and containers): their state, config and notes, vmid allocation,
 * and the storage content they are made from and backed up to. The domains import this module, never each other.
 */
const SHARED = [
  VmStateReader,
  ContainerStateReader,
  GuestConfigService,
  GuestNotesService,
  StorageContentService,
  VmidAllocator,
];

@Module({ providers: SHARED, exports: SHARED })
export class GuestsModule {}
