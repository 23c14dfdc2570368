import { Injectable } from '@nestjs/common';
import type { McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { ArgumentSlot, JsonSchema } from '../../common/tools/tool-definition.js';
import type { ToolInputArgument } from '../../common/tools/tool-input-argument.js';
import { withPlanOutput } from '../../common/plan/plan.dto.js';

export const DRY_RUN_ARG = 'dry_run';
export const PLAN_DIGEST_ARG = 'plan_digest';

export const DRY_RUN_SCHEMA: JsonSchema = Object.freeze({
  type: 'boolean',
  description:
    'Plan only: change nothing and answer the plan (the Proxmox requests it would send, the objects affected, ' +
    'the read-only checks with their outcomes, warnings, whether it would succeed, and a plan_digest). No approval ' +
    'is asked for a plan.',
});

export const PLAN_DIGEST_SCHEMA: JsonSchema = Object.freeze({
  type: 'string',
  pattern: '^[0-9a-f]{64}$',
  description:
    'Run exactly the plan with this digest (from a dry run of the identical call): the server plans again first ' +
    'and refuses with PLAN_CHANGED, naming what changed, if the plan would differ. An approval of this call is ' +
    'bound to the digest.',
});

/** Whether a tool takes part in plans: every tool that can change something. */
export const plannable = (tool: Pick<McpToolOptions, 'risk'>): boolean => tool.risk !== 'read';

/**
 * Contributes `dry_run` and `plan_digest` (body arguments, taken out by the PlanGuard before validation) to every
 * tool with risk above read, and lets its output schema admit the plan.
 */
@Injectable()
export class PlanArguments implements ToolInputArgument {
  extend(
    tool: McpToolOptions,
    inputSchema: JsonSchema,
    slots: Record<string, ArgumentSlot>,
    where: string,
  ): void {
    if (!plannable(tool)) return;
    const properties = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, schema] of [
      [DRY_RUN_ARG, DRY_RUN_SCHEMA],
      [PLAN_DIGEST_ARG, PLAN_DIGEST_SCHEMA],
    ] as const) {
      if (name in properties)
        throw new Error(`${where}: '${name}' is reserved for plans; remove it from the DTO`);
      properties[name] = { ...schema };
      slots[name] = 'body';
    }
    inputSchema.properties = properties;
  }

  extendOutput(tool: McpToolOptions, outputSchema: JsonSchema): JsonSchema {
    return plannable(tool) ? withPlanOutput(outputSchema) : outputSchema;
  }
}
