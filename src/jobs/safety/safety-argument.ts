import { Injectable } from '@nestjs/common';
import type { McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { ArgumentSlot, JsonSchema } from '../../common/tools/tool-definition.js';
import type { ToolInputArgument } from '../../common/tools/tool-input-argument.js';
import { SAFETY_SNAPSHOT_ARG, SAFETY_SNAPSHOT_TOOLS } from './safety-tools.js';

const INPUT: JsonSchema = Object.freeze({
  type: 'boolean',
  description:
    'Take a snapshot of the guest first (named safety-<tool>-<UTC time>, waited for), after the checks and any approval; ' +
    'if it fails, nothing else is done. The result names it in safety_snapshot: roll back to it to undo. Default: ' +
    'false, unless the server lists this tool or its risk in command_policy.safety_snapshot_default.',
});

const OUTPUT: JsonSchema = Object.freeze({
  type: 'string',
  description:
    'The safety snapshot taken before the operation (rollback_snapshot to it undoes the operation)',
});

/** Adds `safety_snapshot` to the input of the tools in SAFETY_SNAPSHOT_TOOLS, and the snapshot's name to their output. */
@Injectable()
export class SafetySnapshotArgument implements ToolInputArgument {
  extend(
    tool: McpToolOptions,
    inputSchema: JsonSchema,
    slots: Record<string, ArgumentSlot>,
    where: string,
  ): void {
    if (!Object.hasOwn(SAFETY_SNAPSHOT_TOOLS, tool.name)) return;
    const properties = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
    if (SAFETY_SNAPSHOT_ARG in properties) {
      throw new Error(
        `${where}: '${SAFETY_SNAPSHOT_ARG}' is reserved for safety snapshots; remove it from the DTO`,
      );
    }
    properties[SAFETY_SNAPSHOT_ARG] = { ...INPUT };
    inputSchema.properties = properties;
    slots[SAFETY_SNAPSHOT_ARG] = 'body';
  }

  extendOutput(tool: McpToolOptions, outputSchema: JsonSchema): JsonSchema {
    if (!Object.hasOwn(SAFETY_SNAPSHOT_TOOLS, tool.name)) return outputSchema;
    const properties = (outputSchema.properties ?? {}) as Record<string, JsonSchema>;
    return { ...outputSchema, properties: { ...properties, [SAFETY_SNAPSHOT_ARG]: { ...OUTPUT } } };
  }
}
