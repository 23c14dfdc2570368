import { Global, Module } from '@nestjs/common';
import { ProxmoxGateway } from './proxmox.gateway.js';

/** Global: every domain module talks to Proxmox through the one gateway (APP_CONFIG comes from the config module). */
@Global()
@Module({ providers: [ProxmoxGateway], exports: [ProxmoxGateway] })
export class ProxmoxModule {}
