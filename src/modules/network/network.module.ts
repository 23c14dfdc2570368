import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { NetworkController } from './network.controller.js';
import { NetworkService } from './network.service.js';

@Module({ imports: [ClusterModule], controllers: [NetworkController], providers: [NetworkService] })
export class NetworkModule {}
