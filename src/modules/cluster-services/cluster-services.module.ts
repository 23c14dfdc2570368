import { Module } from '@nestjs/common';
import { ClusterServicesController } from './cluster-services.controller.js';
import { ClusterServicesService } from './cluster-services.service.js';

@Module({ controllers: [ClusterServicesController], providers: [ClusterServicesService] })
export class ClusterServicesModule {}
