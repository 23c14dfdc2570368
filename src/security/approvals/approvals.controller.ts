import { Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../../common/tools/tool-definition.js';
import { DomainError } from '../../common/errors/domain-error.js';
import {
  ApprovalsService,
  canApprove,
  type ApprovalView,
  type GrantedApproval,
} from './approvals.service.js';

/**
 * The operator's side of approvals over HTTP (admin keys). Deliberately not MCP tools: a model must not be able to
 * approve its own high-risk calls through the same tool list it uses to make them.
 */
@ApiTags('approvals')
@Controller('approvals')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get(':id')
  @ApiOperation({ summary: 'Show an approval request (admin): tool, target, arguments, who asked, status' })
  @ApiParam({ name: 'id', description: 'The request id from the APPROVAL_REQUIRED answer' })
  async show(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: { principal?: Principal },
  ): Promise<ApprovalView> {
    if (!canApprove(req.principal))
      throw new DomainError(
        'FORBIDDEN',
        'Reading approval requests needs an admin API key (or an OAuth approve role)',
      );
    return this.approvals.describe(id);
  }

  @Post(':id')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Approve a request (admin, not the requesting key): returns a single-use approval token, shown once',
  })
  @ApiParam({ name: 'id', description: 'The request id from the APPROVAL_REQUIRED answer' })
  approve(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: { principal?: Principal },
  ): Promise<GrantedApproval> {
    return this.approvals.approveAsPrincipal(id, req.principal);
  }
}
