import { Module } from '@nestjs/common';
import { FirewallController } from './firewall.controller.js';
import { FirewallService } from './firewall.service.js';

/** The PVE firewall of the cluster, the nodes and the guests: rules, options, aliases and ipsets. */
@Module({
  controllers: [FirewallController],
  providers: [FirewallService],
})
export class FirewallModule {}
