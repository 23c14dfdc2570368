import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { ChangeJournal } from '../../audit/changes/change-journal.js';
import { asRevertOf } from '../../audit/changes/change-scope.js';
import {
  conflictingKeys,
  digestOf,
  inverseRequest,
  objectValues,
  REDACTED,
  REVERTABLE_ENDPOINTS,
} from '../../audit/changes/revertable.js';
import { toChange } from './changes.mapper.js';
import {
  CHANGES_PAGE_DEFAULT,
  type ChangeListDto,
  type ChangeListQueryDto,
  type RevertResultDto,
} from './dto/changes.dto.js';

const show = (v: string | number | undefined) => (v === undefined ? '(unset)' : String(v));

/** list_changes and revert_change over the change journal (src/audit/changes). */
@Injectable()
export class ChangesService {
  constructor(
    private readonly journal: ChangeJournal,
    private readonly gateway: ProxmoxGateway,
  ) {}

  async list(q: ChangeListQueryDto): Promise<ChangeListDto> {
    const limit = q.limit ?? CHANGES_PAGE_DEFAULT;
    const { rows, total } = await this.journal.list({
      // like every tool: the target is optional with one configured target, required with several
      target: this.gateway.targetConfig(q.target).name,
      ...(q.kind !== undefined ? { kind: q.kind } : {}),
      ...(q.vmid !== undefined ? { vmid: q.vmid } : {}),
      ...(q.tool !== undefined ? { tool: q.tool } : {}),
      limit,
    });
    return { changes: rows.map(toChange), total, limit };
  }

  async revert(id: number, target?: string): Promise<RevertResultDto> {
    const row = await this.journal.get(id);
    if (!row) {
      throw new DomainError('NOT_FOUND', `Change ${id} is not in the change journal`, {
        hint: 'list_changes lists the recorded changes with their ids.',
      });
    }
    // the call's target (as the access guard checked it: key limits, read-only targets) must be the change's
    const targetName = this.gateway.targetConfig(target).name;
    if (targetName !== row.target) {
      throw new DomainError(
        'VALIDATION',
        `target: change ${id} was made on target '${row.target}', not '${targetName}'`,
        {
          hint: `Repeat the call with target '${row.target}'.`,
        },
      );
    }
    if (row.revertedBy !== null) {
      throw new DomainError('CONFLICT', `Change ${id} was already reverted by change ${row.revertedBy}`, {
        hint: `Revert change ${row.revertedBy} to redo it.`,
        details: { reverted_by: row.revertedBy },
      });
    }
    const endpoint = REVERTABLE_ENDPOINTS.find((e) => e.kind === row.kind);
    if (!endpoint || row.fields.length === 0) {
      throw new DomainError(
        'VALIDATION',
        `id: change ${id} changed no field, so there is nothing to put back`,
      );
    }
    const client = this.gateway.client(row.target);
    let current: unknown;
    try {
      current = await client.get<unknown>(row.path);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'NOT_FOUND') {
        throw new DomainError(
          'CONFLICT',
          `Change ${id} cannot be reverted: ${row.kind} ${row.path} no longer exists`,
        );
      }
      throw error;
    }
    const now = objectValues(endpoint, current);
    const checked = row.fields.filter((f) => row.after[f] !== REDACTED);
    const conflicts = conflictingKeys(checked, row.after, now);
    if (conflicts.length > 0) {
      const what = conflicts.map((f) => `${f} (left ${show(row.after[f])}, now ${show(now[f])})`).join(', ');
      throw new DomainError(
        'CONFLICT',
        `Change ${id} cannot be reverted: ${row.kind} ${row.path} changed since in ${what}`,
        {
          hint: 'The object was edited after this change; revert the later changes first (list_changes) or edit it by hand.',
          details: { fields: conflicts },
        },
      );
    }
    const { params, skipped } = inverseRequest(endpoint, row.fields, row.before, now, digestOf(current));
    await asRevertOf(id, () => client.put<unknown>(row.path, params));
    const after = await this.journal.get(id);
    const restored = Object.fromEntries(
      row.fields.filter((f) => f in row.before && !skipped.includes(f)).map((f) => [f, row.before[f]]),
    );
    return {
      reverted_change_id: id,
      ...(after?.revertedBy ? { change_id: after.revertedBy } : {}),
      target: row.target,
      kind: row.kind,
      path: row.path,
      fields: row.fields.filter((f) => !skipped.includes(f)),
      skipped_fields: skipped,
      restored,
    };
  }
}
