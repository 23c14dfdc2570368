import { IsString, MaxLength, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { CommandLimitsDto, CommandOutcomeDto } from '../../../common/dto/command-output.dto.js';

/** Longest command line accepted (the reference's limit). */
export const NODE_COMMAND_MAX_LENGTH = 8192;

/** execute_node_command: `node` comes from the path (REST) or the arguments (MCP), `target` from the query. */
export class ExecuteNodeCommandBodyDto extends CommandLimitsDto {
  @IsString({ message: 'command must be one string, e.g. "pveversion"' })
  @MinLength(1)
  @MaxLength(NODE_COMMAND_MAX_LENGTH)
  @JSONSchema({
    description:
      'The command to run on the node, e.g. "zpool status -v". It runs WITHOUT a shell: it is split at spaces into ' +
      'the program and its arguments, so quotes, pipes, ;, &&, redirects and $(…) are refused. It must fully match ' +
      "one of the target's node_command_patterns (an operator's list).",
  })
  command: string;
}

export class NodeCommandResultDto extends CommandOutcomeDto {
  @IsString() target: string;
  @IsString() node: string;
}
