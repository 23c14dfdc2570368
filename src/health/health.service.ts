import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ProxmoxGateway } from '../proxmox/proxmox.gateway.js';
import { answeredWithoutVersion } from '../proxmox/version-probe.js';

export interface TargetProbe {
  target: string;
  reachable: boolean;
  pve_version?: string;
  latency_ms?: number;
  error?: { code: string; message: string };
  checked_at: string;
}

const PROBE_TTL_MS = 5_000;
const PROBE_TIMEOUT_MS = 5_000;

/** Reaches each target's PVE (GET /version) with a short deadline; results are cached briefly. */
@Injectable()
export class HealthService {
  private readonly cache = new Map<string, { at: number; probe: Promise<TargetProbe> }>();
  readonly startedAt = Date.now();

  constructor(
    private readonly gateway: ProxmoxGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  probeAll(): Promise<TargetProbe[]> {
    return Promise.all(this.config.targets.map((t) => this.probe(t.name)));
  }

  probe(target: string): Promise<TargetProbe> {
    const cached = this.cache.get(target);
    if (cached && Date.now() - cached.at < PROBE_TTL_MS) return cached.probe;
    const probe = this.runProbe(target);
    this.cache.set(target, { at: Date.now(), probe });
    return probe;
  }

  private async runProbe(target: string): Promise<TargetProbe> {
    const started = Date.now();
    try {
      const version = await this.gateway
        .client(target)
        .get<{ version?: string; release?: string }>('/version', undefined, { timeoutMs: PROBE_TIMEOUT_MS });
      return {
        target,
        reachable: true,
        pve_version: version?.version,
        latency_ms: Date.now() - started,
        checked_at: new Date().toISOString(),
      };
    } catch (error) {
      if (answeredWithoutVersion(error)) {
        // reachable, token accepted, only the version is not served (a PVE-compatible emulator): unknown version
        return {
          target,
          reachable: true,
          latency_ms: Date.now() - started,
          checked_at: new Date().toISOString(),
        };
      }
      const e = error instanceof DomainError ? error : new DomainError('INTERNAL', 'probe failed');
      return {
        target,
        reachable: false,
        error: { code: e.code, message: e.message },
        latency_ms: Date.now() - started,
        checked_at: new Date().toISOString(),
      };
    }
  }
}
