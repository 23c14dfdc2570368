import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FindOptionsWhere, Repository } from 'typeorm';
import { redactValue } from '../../common/redaction/redactor.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import type { PveMutation } from '../../proxmox/mutation-hook.js';
import { ChangeEntity } from './change.entity.js';
import { currentChangeScope } from './change-scope.js';
import { changedKeys, guestOf, matchRevertable, objectValues, REDACTED } from './revertable.js';

export interface ChangeFilters {
  target?: string;
  kind?: string;
  vmid?: number;
  tool?: string;
  limit: number;
}

const SECRET_PARAM = /password|secret|token/i;

/**
 * The change journal. Hooked into every ProxmoxClient (ProxmoxGateway.setMutationHook): a mutation of an object in
 * the revertable table (revertable.ts) reads the object first, is sent, reads it again, and — only when PVE accepted
 * it — becomes one `changes` row. Recording never fails the call it describes (a store error is logged).
 */
@Injectable()
export class ChangeJournal implements OnModuleInit {
  private readonly logger = new Logger('ChangeJournal');

  constructor(
    @InjectRepository(ChangeEntity) private readonly changes: Repository<ChangeEntity>,
    private readonly gateway: ProxmoxGateway,
  ) {}

  onModuleInit(): void {
    this.gateway.setMutationHook((mutation, send) => this.around(mutation, send));
  }

  private async around(m: PveMutation, send: () => Promise<unknown>): Promise<unknown> {
    const endpoint = matchRevertable(m.method, m.path, m.params);
    if (!endpoint) return send();
    let before: unknown;
    try {
      before = await m.read(m.path);
    } catch {
      return send(); // the object cannot be read (yet): PVE will answer the change itself; nothing to journal
    }
    const result = await send();
    // an async config change (a UPID) is applied by a worker later: its after-state cannot be read now
    if (typeof result === 'string' && result.startsWith('UPID:')) return result;
    try {
      const after = await m.read(m.path);
      const beforeValues = objectValues(endpoint, before);
      const afterValues = objectValues(endpoint, after);
      const scope = currentChangeScope();
      const guest = guestOf(m.path);
      const request = Object.fromEntries(
        Object.entries(m.params ?? {}).map(([k, v]) => [k, SECRET_PARAM.test(k) ? REDACTED : v]),
      );
      const saved = await this.changes.save(
        this.changes.create({
          at: Date.now(),
          tool: scope?.tool ?? null,
          actor: scope?.actor?.slice(0, 128) ?? null,
          target: m.target,
          kind: endpoint.kind,
          method: m.method,
          path: m.path,
          node: guest.node ?? null,
          vmid: guest.vmid ?? null,
          fields: changedKeys(beforeValues, afterValues),
          before: beforeValues,
          after: afterValues,
          request: redactValue(request),
          revertOf: scope?.revertOf ?? null,
          revertedBy: null,
        }),
      );
      if (scope?.revertOf !== undefined) {
        await this.changes.update({ id: scope.revertOf }, { revertedBy: saved.id });
      }
    } catch (error) {
      this.logger.warn(`change journal: ${m.method} ${m.path} not recorded: ${(error as Error).message}`);
    }
    return result;
  }

  async list(filters: ChangeFilters): Promise<{ rows: ChangeEntity[]; total: number }> {
    const where: FindOptionsWhere<ChangeEntity> = {};
    if (filters.target !== undefined) where.target = filters.target;
    if (filters.kind !== undefined) where.kind = filters.kind;
    if (filters.vmid !== undefined) where.vmid = filters.vmid;
    if (filters.tool !== undefined) where.tool = filters.tool;
    const [rows, total] = await this.changes.findAndCount({
      where,
      order: { id: 'DESC' },
      take: filters.limit,
    });
    return { rows, total };
  }

  async get(id: number): Promise<ChangeEntity | null> {
    return this.changes.findOneBy({ id });
  }
}
