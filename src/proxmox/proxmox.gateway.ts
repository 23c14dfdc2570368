import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type TargetConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ProxmoxClient, type ProxmoxLogger } from './proxmox-client.js';
import type { MutationHook } from './mutation-hook.js';

/**
 * The one way services reach Proxmox: picks the target (optional when only one is configured) and hands out
 * that target's ProxmoxClient, created on first use so an unreachable or misconfigured target does not stop
 * the server from booting.
 */
@Injectable()
export class ProxmoxGateway implements OnModuleDestroy {
  private readonly clients = new Map<string, ProxmoxClient>();
  private readonly logger: ProxmoxLogger;
  private readonly changeListeners: ((target: string) => void)[] = [];
  private mutationHook?: MutationHook;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // PVE latency and errors for /metrics; absent where a gateway is built without the app (tests, CLI)
    @Optional() private readonly metrics?: MetricsService,
  ) {
    const nest = new Logger('ProxmoxGateway');
    this.logger = {
      warn: (obj, msg) => nest.warn(`${msg} ${JSON.stringify(obj)}`),
      debug: (obj, msg) => nest.debug(`${msg} ${JSON.stringify(obj)}`),
    };
  }

  /** A higher layer wraps every mutation of every client (the change journal); one hook, set at boot. */
  setMutationHook(hook: MutationHook): void {
    this.mutationHook = hook;
  }

  client(target?: string): ProxmoxClient {
    return this.resolve(target).client;
  }

  /** The target's config and its client from one lookup, for callers that need both. */
  resolve(target?: string): { config: TargetConfig; client: ProxmoxClient } {
    const config = this.targetConfig(target);
    let client = this.clients.get(config.name);
    if (!client) {
      const name = config.name;
      client = new ProxmoxClient(config, {
        logger: this.logger,
        onMutation: () => this.changed(name),
        mutationHook: (m, send) => (this.mutationHook ? this.mutationHook(m, send) : send()),
        ...(this.metrics?.enabled ? { onCall: this.metrics.observeUpstream.bind(this.metrics) } : {}),
      });
      this.clients.set(config.name, client);
    }
    return { config, client };
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

  /**
   * Something on this target changed (a mutation we sent ended, or a task we track finished): listeners drop
   * what they cached of it. Mutations sent through a client report themselves.
   */
  changed(target: string): void {
    for (const listener of this.changeListeners) listener(target);
  }

  onChange(listener: (target: string) => void): void {
    this.changeListeners.push(listener);
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
