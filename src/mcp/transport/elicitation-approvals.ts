import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  type CallToolResult,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { DomainError } from '../../common/errors/domain-error.js';
import { toolErrorText } from '../../common/errors/mcp-error.mapper.js';
import { redactText } from '../../common/redaction/redactor.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { approvalDigest, callTarget } from '../../security/approvals/approval-digest.js';
import { ApprovalsService } from '../../security/approvals/approvals.service.js';
import { PolicyAudit } from '../../security/approvals/policy-audit.js';

/**
 * Approvals by elicitation (MCP 2026-07-28 multi round-trip requests). A gated call from a client that can show a
 * form is answered `input_required`: a form stating the tool, target, arguments and risk, and a request state
 * sealed with HMAC and bound to the caller, the approval request and the digest of that exact call, expiring with
 * the request. When the client calls again with the user's accept and that state, the approval request is
 * granted as `elicitation:<caller>` (audited) and the call runs with the single-use token, so every rule of the
 * token flow still holds: same caller, same digest, once. Which risks may be approved this way is
 * command_policy.elicitation_approval_risks (destroy-level calls need a second key by default); 2025-era clients
 * and clients that cannot elicit get today's APPROVAL_REQUIRED answer.
 */
export interface ApprovalState {
  kind: 'approval';
  request_id: string;
  tool: string;
  digest: string;
  caller: string;
}

const INPUT_KEY = 'approval';
const DEFAULT_RISKS = ['power', 'mutate', 'exec'];

/** What the retried call carries: the token to run with, or the answer to give instead of running. */
export type ElicitedApproval = { token: string } | { refused: CallToolResult };

@Injectable()
export class ElicitationApprovals {
  private readonly logger = new Logger('ElicitationApprovals');
  private readonly codec: RequestStateCodec<ApprovalState>;
  private readonly risks: ReadonlySet<string>;
  private readonly targets: ReadonlyArray<{ name: string }>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    // absent only where the approval store is not loaded (the registry's unit harness): then nobody is asked
    @Optional() private readonly approvals?: ApprovalsService,
    @Optional() private readonly audit?: PolicyAudit,
  ) {
    this.codec = createRequestStateCodec<ApprovalState>({
      // one key for every replica when configured; else this process's own (a retry must then reach it)
      key: config.mcp.requestStateSecret ?? randomBytes(32).toString('hex'),
      ttlSeconds: config.commandPolicy.approvalTtlSeconds,
      bind: (ctx) => callerOf(ctx),
    });
    this.risks = new Set(config.commandPolicy.elicitationApprovalRisks ?? DEFAULT_RISKS);
    this.targets = config.targets;
  }

  /** The SDK's requestState hook: a forged, altered, expired or other caller's state is refused (-32602). */
  verify = (state: string, ctx: ServerContext): Promise<ApprovalState> => this.codec.verify(state, ctx);

  /**
   * For a call refused with APPROVAL_REQUIRED: the input_required answer asking the user, when the client can
   * show a form and the policy lets the user approve this risk; undefined keeps the refusal as it is.
   */
  async ask(error: DomainError, ctx: ServerContext): Promise<CallToolResult | undefined> {
    const details = error.details;
    const requestId = details?.request_id;
    const risk = details?.risk;
    if (!this.approvals || typeof requestId !== 'string' || typeof risk !== 'string') return undefined;
    if (!this.risks.has(risk) || !clientCanElicit(ctx)) return undefined;
    const request = await this.approvals.describe(requestId);
    const state: ApprovalState = {
      kind: 'approval',
      request_id: requestId,
      tool: request.tool,
      digest: typeof details?.digest === 'string' ? details.digest : '',
      caller: callerOf(ctx),
    };
    const target = request.target || 'the default target';
    const message =
      `Approve ${request.tool} on ${target}?\n` +
      `Risk: ${risk}. ${typeof details?.reason === 'string' ? details.reason : ''}\n` +
      `Arguments: ${JSON.stringify(request.arguments)}\n` +
      planLine(request.plan) +
      `This approves this exact call once, for ${state.caller}, until ${request.request_expires_at}; ` +
      `changed arguments need a new approval. Approval request ${requestId}.`;
    return inputRequired({
      inputRequests: {
        [INPUT_KEY]: inputRequired.elicit({
          mode: 'form',
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              confirm: {
                type: 'boolean',
                title: `Run ${request.tool} on ${target}`,
                description: 'Tick to let this exact call run once.',
              },
            },
            required: ['confirm'],
          },
        }),
      },
      requestState: await this.codec.mint(state, ctx),
    }) as unknown as CallToolResult;
  }

  /**
   * A retried call that carries a verified approval state: the user's answer decides. Accepted, for this exact
   * call: the approval request is granted and its single-use token returned. Anything else is answered without
   * running the tool (nothing reaches Proxmox): declined, another call's state, a request already used (replay).
   */
  async answered(
    state: ApprovalState,
    call: { name: string; arguments?: Record<string, unknown> },
    ctx: ServerContext,
  ): Promise<ElicitedApproval> {
    const args = call.arguments ?? {};
    const digest = approvalDigest({ tool: call.name, target: callTarget(this.targets, args.target), args });
    const who = callerOf(ctx);
    if (
      state.kind !== 'approval' ||
      state.tool !== call.name ||
      state.digest !== digest ||
      state.caller !== who
    ) {
      return this.refused(
        state,
        who,
        'APPROVAL_MISMATCH',
        'The approval state was given for a different call (tool, arguments or target); nothing was sent. ' +
          'Call again without it to be asked for this call.',
      );
    }
    const answer = inputResponse(ctx.mcpReq.inputResponses, INPUT_KEY);
    if (answer.kind !== 'elicit' || answer.action !== 'accept' || answer.content?.confirm !== true) {
      return this.refused(
        state,
        who,
        'APPROVAL_DECLINED',
        `The user did not approve ${call.name}${answer.kind === 'elicit' ? ` (${answer.action})` : ''}; nothing was sent to Proxmox.`,
      );
    }
    if (!this.approvals)
      return this.refused(state, who, 'APPROVAL_USED', 'approvals are not available here.');
    try {
      const client = clientName(ctx);
      const granted = await this.approvals.approve(
        state.request_id,
        `elicitation:${who}${client ? ` via ${client}` : ''}`,
      );
      return { token: granted.approval_token };
    } catch (error) {
      // already granted (a replayed state) or expired: the approval request decides, nothing runs
      const message = error instanceof DomainError ? error.message : 'the approval could not be granted';
      if (!(error instanceof DomainError))
        this.logger.error(`approval ${state.request_id}: ${String(error)}`);
      return this.refused(state, who, 'APPROVAL_USED', `${message}; nothing was sent to Proxmox.`, false);
    }
  }

  private async refused(
    state: ApprovalState,
    who: string,
    code: string,
    message: string,
    audit = true,
  ): Promise<ElicitedApproval> {
    if (audit && this.audit) {
      await this.audit.record({
        actor: who,
        action: 'approval.elicitation',
        outcome: 'denied',
        reason: code,
        details: { request_id: state.request_id, tool: state.tool, approval_digest: state.digest },
      });
    }
    const error = new DomainError('POLICY_DENIED', `${code}: ${message}`);
    return {
      refused: { content: [{ type: 'text', text: redactText(toolErrorText(error)) }], isError: true },
    };
  }
}

/** The caller as the HTTP middleware authenticated it (the API key's name), or the local stdio user. */
function callerOf(ctx: ServerContext): string {
  return ctx.http?.authInfo?.clientId ?? 'stdio';
}

function clientName(ctx: ServerContext): string | undefined {
  const info = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_INFO_META_KEY] as
    { name?: unknown } | undefined;
  return typeof info?.name === 'string' ? info.name.slice(0, 80) : undefined;
}

/** A 2026-07-28 request whose client declared form elicitation (`elicitation: {}` counts as form). */
function clientCanElicit(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY] as { elicitation?: unknown } | undefined;
  const elicitation = capabilities?.elicitation as Record<string, unknown> | undefined;
  if (typeof elicitation !== 'object' || elicitation === null) return false;
  return Object.keys(elicitation).length === 0 || 'form' in elicitation;
}

/** The plan a plan-bound call would carry out, in one line per request, for the approval form. */
function planLine(plan: Record<string, unknown> | null): string {
  const requests = plan?.requests;
  if (!Array.isArray(requests)) return '';
  const lines = (requests as Array<{ method?: string; path?: string }>).map((r) => `  ${r.method} ${r.path}`);
  return `Plan ${String(plan?.plan_digest).slice(0, 12)}… would send:\n${lines.join('\n') || '  nothing'}\n`;
}
