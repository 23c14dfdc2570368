import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { callArguments, toolCallFacts } from '../../audit/tool-call-facts.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { APP_CONFIG, type AppConfig, type SafetyConfig } from '../../config/app-config.js';
import { safetyDefaults } from '../../config/safety.defaults.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { parseUpid } from '../../proxmox/upid.js';
import { TOOL_TABLE, type ToolTable } from '../../common/tools/tool-table.js';
import { JobsStore } from '../../jobs/jobs.store.js';
import { RETRY_TOOL } from '../approvals/approval-gate.js';
import { DeferredApproval } from '../approvals/deferred-approval.js';
import {
  dropsProtectionTag,
  guestReferences,
  protectionLevel,
  protectionMessage,
  protectionOf,
  referencedGuests,
  TAGS_ARGUMENT,
  type Protection,
  type ProtectionLevel,
} from './protected-guests.js';

interface GuardedRequest {
  principal?: Principal;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  /** Set by ApprovalGuard for a gated call; settled at the call's first change (ApprovalInterceptor). */
  approval?: DeferredApproval;
}

/**
 * Global guard, registered right after ApprovalGuard: a guest carrying `safety.protected_tag` or listed in
 * `safety.protected_vmids` refuses destroy-level tools and, with `safety.protect_all_mutations`, every change,
 * whoever asks and whatever approval the call carries (PROTECTED, audited). The check is put in front of the
 * call's approval at its first change (approvalCheckpoint), the way approvals are settled: validation and the
 * service's read-only checks run first, and no approval is consumed or requested for a protected guest. The
 * guest's tags are read fresh from /cluster/resources, and only for calls that need the check
 * (protected-guests.ts says which).
 */
@Injectable()
export class ProtectionGuard implements CanActivate {
  private readonly safety: SafetyConfig;

  constructor(
    private readonly inventory: InventoryService,
    private readonly audit: AuditService,
    private readonly jobs: JobsStore,
    @Inject(TOOL_TABLE) private readonly registry: ToolTable,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.safety = config.safety ?? safetyDefaults();
  }

  canActivate(context: ExecutionContext): boolean {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    if (!tool || tool.runsTools) return true;
    const req = context.switchToHttp().getRequest<GuardedRequest>();
    const args = callArguments(req);
    const retry = tool.name === RETRY_TOOL && typeof args.job_id === 'string';
    const level = protectionLevel(tool, args, this.safety);
    if (!retry && (!level || !guestReferences(args).length)) return true;
    const approval = req.approval;
    req.approval = new DeferredApproval(async () => {
      if (retry) await this.checkRetry(context, tool, String(args.job_id));
      else if (level) await this.check(context, tool, level, args);
      await approval?.settle();
    });
    return true;
  }

  /** retry_job redoes a job's tool on the job's guest: judged as that tool on that guest. */
  private async checkRetry(context: ExecutionContext, tool: McpToolOptions, jobId: string) {
    const job = await this.jobs.find(jobId).catch(() => null);
    if (!job) return;
    // a job of a tool this build no longer has is treated as destructive (fail closed), as its approval is
    const risk = this.registry.get(job.toolName)?.risk ?? 'destroy';
    // the guest: the job's metadata.vmid, else the id of its PVE task (qmdestroy:100, vzdump:100 …)
    const taskId = job.upid ? parseUpid(job.upid)?.id : undefined;
    const facts = { vmid: taskId, ...(job.metadata ?? {}), target: job.target };
    const level = protectionLevel({ name: job.toolName, risk }, facts, this.safety);
    if (level) await this.check(context, tool, level, facts, `retry_job of ${job.toolName}`);
  }

  /** At the call's first change: the guests the arguments name, as PVE has them now. */
  private async check(
    context: ExecutionContext,
    tool: McpToolOptions,
    level: ProtectionLevel & string,
    args: Record<string, unknown>,
    what = tool.name,
  ) {
    const refs = guestReferences(args);
    if (!refs.length) return;
    const target = typeof args.target === 'string' ? args.target : undefined;
    const { items } = await this.inventory.clusterResources('vm', target, { fresh: true });
    const protections = referencedGuests(refs, items)
      .map((guest) => protectionOf(guest, this.safety))
      .filter((p): p is Protection => p !== undefined);
    const refused =
      level === 'tags'
        ? protections.find((p) => p.byTag && dropsProtectionTag(args[TAGS_ARGUMENT], this.safety))
        : protections[0];
    if (!refused) return;

    const message = protectionMessage(what, level, refused, this.safety);
    const facts = toolCallFacts(context);
    const single = this.config.targets.length === 1 ? this.config.targets[0].name : undefined;
    const details = {
      vmid: Number(refused.guest.vmid),
      node: refused.guest.node,
      ...(refused.byTag ? { protected_tag: this.safety.protectedTag } : {}),
      ...(refused.byVmid ? { protected_vmids: this.safety.protectedVmids } : {}),
      level,
    };
    await this.audit.record({
      actor: facts.actor,
      action: tool.name,
      target: facts.target ?? single,
      outcome: 'denied',
      reason: `PROTECTED: ${message}`,
      args_digest: facts.args_digest,
      details: { via: facts.via, risk: tool.risk, ...details },
    });
    throw new DomainError('PROTECTED', message, {
      hint:
        'Nothing was sent to Proxmox. Choose another guest, or ask an operator: the protection ends only when the ' +
        `tag '${this.safety.protectedTag}' is removed in PVE or the ID is taken out of safety.protected_vmids.`,
      details,
    });
  }
}
