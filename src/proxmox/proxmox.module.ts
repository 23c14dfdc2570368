import { Global, Module } from '@nestjs/common';
import { InventoryService } from './inventory.service.js';
import { ProxmoxGateway } from './proxmox.gateway.js';

/**
 * Global: every domain module talks to Proxmox through the one gateway, and lists through the one inventory
 * (APP_CONFIG comes from the config module).
 */
@Global()
@Module({ providers: [ProxmoxGateway, InventoryService], exports: [ProxmoxGateway, InventoryService] })
export class ProxmoxModule {}
