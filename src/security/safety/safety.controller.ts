import { Body, Controller, Delete, Get, HttpCode, Put, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditService } from '../../audit/audit.service.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { FreezeChangesBodyDto, FreezeStatusDto, UnfreezeResultDto } from './dto/freeze.dto.js';
import { FreezeService, type FreezeStatus } from './freeze.service.js';

export function freezeText(s: FreezeStatus): string {
  if (!s.frozen) return `Not frozen: changes are allowed (freeze file: ${s.freeze_file})`;
  return [
    `FROZEN: every non-read tool is refused`,
    ...s.freezes.map((f) => `  ${f.source}: ${f.reason} (by ${f.frozen_by} since ${f.since})`),
  ].join('\n');
}

const unfreezeText = (r: UnfreezeResultDto) =>
  `${r.lifted ? 'The freeze_changes freeze is lifted' : 'There was no freeze_changes freeze'}. ${freezeText(r)}`;

/**
 * The kill switch's tools (admin keys): freeze every change on every replica, lift that freeze, and show what is
 * frozen. The config and file freezes are shown here but lifted only where they were set.
 */
@ApiTags('safety')
@McpToolset('admin')
@Controller('safety/freeze')
export class SafetyController {
  constructor(
    private readonly freeze: FreezeService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @McpTool({
    name: 'get_freeze_status',
    title: 'Show the change freeze',
    description:
      'Whether changes are frozen (the kill switch): while frozen every tool that is not a read is refused with FROZEN. Shows each active freeze (config, freeze file, freeze_changes) with its reason, who froze and since when.',
    risk: 'read',
    privileges: [],
    output: FreezeStatusDto,
    text: freezeText,
  })
  status(): Promise<FreezeStatus> {
    return this.freeze.status();
  }

  @Put()
  @HttpCode(200)
  @McpTool({
    name: 'freeze_changes',
    title: 'Freeze all changes',
    description:
      'Kill switch (admin): from now on every tool that is not a read is refused with FROZEN and this reason, on every replica of this server, until unfreeze_changes. Read tools keep working. Calling it again replaces the reason.',
    risk: 'mutate',
    scope: 'admin',
    privileges: [],
    output: FreezeStatusDto,
    text: freezeText,
  })
  async freezeChanges(@Body() body: FreezeChangesBodyDto, @Req() req: { principal?: Principal }) {
    const by = req.principal?.name ?? 'anonymous';
    await this.freeze.freeze(body.reason, by);
    await this.audit.record({
      actor: by,
      action: 'safety.freeze',
      outcome: 'succeeded',
      reason: body.reason,
    });
    return this.freeze.status();
  }

  @Delete()
  @HttpCode(200)
  @McpTool({
    name: 'unfreeze_changes',
    title: 'Lift the change freeze',
    description:
      'Lifts the freeze set by freeze_changes (admin); works while frozen. A freeze from the configuration (safety.freeze) or the freeze file stays until an operator lifts it there; the answer shows what is still frozen.',
    risk: 'mutate',
    scope: 'admin',
    privileges: [],
    output: UnfreezeResultDto,
    text: unfreezeText,
  })
  async unfreezeChanges(@Req() req: { principal?: Principal }): Promise<UnfreezeResultDto> {
    const lifted = await this.freeze.unfreeze();
    await this.audit.record({
      actor: req.principal?.name ?? 'anonymous',
      action: 'safety.unfreeze',
      outcome: 'succeeded',
      reason: lifted ? 'freeze_changes freeze lifted' : 'no freeze_changes freeze to lift',
    });
    return { ...(await this.freeze.status()), lifted };
  }
}
