import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type TargetConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ProxmoxClient, type ProxmoxLogger } from './proxmox-client.js';

/**
 * The one way services reach Proxmox: picks the target (optional when only one is configured) and hands out
 * that target's ProxmoxClient, created on first use so an unreachable or misconfigured target does not stop
 * the server from booting.
 */
@Injectable()
export class ProxmoxGateway implements OnModuleDestroy {
  private readonly clients = new Map<string, ProxmoxClient>();
  private readonly logger: ProxmoxLogger;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const nest = new Logger('ProxmoxGateway');
    this.logger = {
      warn: (obj, msg) => nest.warn(`${msg} ${JSON.stringify(obj)}`),
      debug: (obj, msg) => nest.debug(`${msg} ${JSON.stringify(obj)}`),
    };
  }

  client(target?: string): ProxmoxClient {
    const config = this.targetConfig(target);
    let client = this.clients.get(config.name);
    if (!client) {
      client = new ProxmoxClient(config, { logger: this.logger });
      this.clients.set(config.name, client);
    }
    return client;
  }

  targetConfig(target?: string): TargetConfig {
    const targets = this.config.targets;
    if (target === undefined || target === '') {
      if (targets.length === 1) return targets[0];
      if (targets.length === 0) {
        throw new DomainError('VALIDATION', 'No Proxmox target is configured', {
          hint: 'Add a proxmox section (or targets) to the configuration.',
        });
      }
      throw new DomainError(
        'VALIDATION',
        `target is required: this server has several targets (${this.targetNames().join(', ')}); see list_targets`,
        { details: { targets: this.targetNames() } },
      );
    }
    const found = targets.find((t) => t.name === target);
    if (!found) {
      throw new DomainError(
        'NOT_FOUND',
        `Unknown target ${JSON.stringify(target.slice(0, 64))}; configured targets: ${this.targetNames().join(', ') || '(none)'}`,
        {
          hint: 'Use one of the configured target names; list_targets shows them.',
          details: { targets: this.targetNames() },
        },
      );
    }
    return found;
  }

  targetNames(): string[] {
    return this.config.targets.map((t) => t.name);
  }

  async onModuleDestroy(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
