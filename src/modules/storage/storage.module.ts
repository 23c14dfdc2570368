import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { StorageController } from './storage.controller.js';
import { StorageService } from './storage.service.js';

@Module({ imports: [ClusterModule], controllers: [StorageController], providers: [StorageService] })
export class StorageModule {}
