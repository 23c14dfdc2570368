import { Module } from '@nestjs/common';
import { ToolCatalogController } from './tool-catalog.controller.js';
import { ToolCatalogService } from './tool-catalog.service.js';

@Module({ controllers: [ToolCatalogController], providers: [ToolCatalogService] })
export class ToolCatalogModule {}
