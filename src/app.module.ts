import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { CallContextInterceptor } from './common/context/call-context.interceptor.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { AppConfigModule } from './config/config.module.js';
import { HttpExceptionFilter } from './common/errors/http-exception.filter.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsEndpointModule } from './health/metrics-endpoint.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { McpModule } from './mcp/mcp.module.js';
import { ClusterModule } from './modules/cluster/cluster.module.js';
import { ClusterServicesModule } from './modules/cluster-services/cluster-services.module.js';
import { ContainersModule } from './modules/containers/containers.module.js';
import { DisksModule } from './modules/disks/disks.module.js';
import { FirewallModule } from './modules/firewall/firewall.module.js';
import { HaModule } from './modules/ha/ha.module.js';
import { MetricsHistoryModule } from './modules/metrics-history/metrics-history.module.js';
import { MigrationModule } from './modules/migration/migration.module.js';
import { NetworkModule } from './modules/network/network.module.js';
import { LogsModule } from './modules/logs/logs.module.js';
import { StorageModule } from './modules/storage/storage.module.js';
import { VmsModule } from './modules/vms/vms.module.js';
import { SnapshotsModule } from './modules/snapshots/snapshots.module.js';
import { BackupsModule } from './modules/backups/backups.module.js';
import { BackupJobsModule } from './modules/backup-jobs/backup-jobs.module.js';
import { ChangesModule } from './modules/changes/changes.module.js';
import { SafetySnapshotsModule } from './jobs/safety/safety-snapshots.module.js';
import { IsosModule } from './modules/isos/isos.module.js';
import { NodeCommandsModule } from './modules/node-commands/node-commands.module.js';
import { GuestFilesModule } from './modules/guest-files/guest-files.module.js';
import { ToolCatalogModule } from './modules/tool-catalog/tool-catalog.module.js';
import { ProxmoxModule } from './proxmox/proxmox.module.js';
import { ThrottlerModule } from '@nestjs/throttler';
import { PrincipalGuard } from './security/principal.guard.js';
import { ApiValidationPipe } from './common/validation/api-validation.pipe.js';
import { RestListInterceptor } from './common/http/rest-list.interceptor.js';
import { RATE_LIMIT_PER_ADDRESS, RATE_LIMIT_PER_KEY, RateLimitGuard } from './security/rate-limit.guard.js';
import { ToolAccessGuard } from './security/tool-access.guard.js';
import { AuditInterceptor } from './audit/audit.interceptor.js';
import { AuditModule } from './audit/audit.module.js';
import { JobOutcomeInterceptor } from './jobs/job-outcome.interceptor.js';
import { ApprovalInterceptor } from './security/approvals/approval.interceptor.js';
import { ApprovalGuard } from './security/approvals/approval.guard.js';
import { PlanGuard } from './security/plans/plan.guard.js';
import { PlanInterceptor } from './security/plans/plan.interceptor.js';
import { PlansModule } from './security/plans/plans.module.js';
import { ApprovalsModule } from './security/approvals/approvals.module.js';
import { OAuthModule } from './security/oauth/oauth.service.js';
import { CommandPolicyGuard } from './security/policy/command-policy.guard.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SafetyModule } from './security/safety/safety.module.js';
import { FreezeGuard } from './security/safety/freeze.guard.js';
import { ProtectionGuard } from './security/safety/protection.guard.js';

/**
 * The whole application. Enforcement is registered here as global providers (APP_PIPE/GUARD/FILTER), which
 * apply identically to REST routes and to MCP tool calls; scoped enhancers would be skipped on the MCP path.
 * They run once per REST request and once per tool call: the routes that carry tool calls (POST /mcp,
 * POST /{tool}) are route middleware (McpModule), so the HTTP request around a tool call does not pass them too.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        ThrottlerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig) => ({
            throttlers: [RATE_LIMIT_PER_KEY, RATE_LIMIT_PER_ADDRESS].map((name) => ({
              name,
              ttl: 60_000,
              limit: Math.max(1, c.http.rateLimitRpm),
            })),
            skipIf: () => c.http.rateLimitRpm === 0,
          }),
        }),
        ProxmoxModule,
        DatabaseModule,
        AuditModule,
        JobsModule,
        McpModule,
        HealthModule,
        ClusterModule,
        ClusterServicesModule,
        VmsModule,
        SnapshotsModule,
        ContainersModule,
        DisksModule,
        HaModule,
        FirewallModule,
        MigrationModule,
        MetricsHistoryModule,
        NodeCommandsModule,
        GuestFilesModule,
        StorageModule,
        IsosModule,
        BackupsModule,
        BackupJobsModule,
        ChangesModule,
        SafetySnapshotsModule,
        NetworkModule,
        LogsModule,
        ToolCatalogModule,
        ApprovalsModule,
        SafetyModule,
        PlansModule,
        OAuthModule,
        MetricsModule,
        MetricsEndpointModule.forRoot(config),
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ApiValidationPipe({
            transform: true,
            whitelist: true,
            forbidNonWhitelisted: true,
            forbidUnknownValues: false,
            transformOptions: { enableImplicitConversion: false },
            validationError: { target: false, value: false },
          }),
        },
        { provide: APP_GUARD, useClass: PrincipalGuard },
        // http.rate_limit_rpm per API key and per client address (skipped when 0)
        { provide: APP_GUARD, useClass: RateLimitGuard },
        // scope, key limits, tool exposure, read-only targets (refusals are audited)
        { provide: APP_GUARD, useClass: ToolAccessGuard },
        // the kill switch (src/security/safety): before the command policy and approvals, so a frozen call never
        // creates an approval request
        { provide: APP_GUARD, useClass: FreezeGuard },
        // keep these two last among the guards (but ProtectionGuard, which wraps the approval): a caller refused by identity/scope checks never reaches the command
        // policy, and a refused command never creates an approval request
        { provide: APP_GUARD, useClass: CommandPolicyGuard },
        { provide: APP_GUARD, useClass: ApprovalGuard },
        // protected guests (src/security/safety): checked at the call's first change, ahead of its approval
        { provide: APP_GUARD, useClass: ProtectionGuard },
        // after approvals (plan_digest is bound into the approval digest): dry_run / plan_digest out of the body
        { provide: APP_GUARD, useClass: PlanGuard },
        // outermost: GET /jobs answers the reference's JSON array (paging in headers); MCP keeps the object
        { provide: APP_INTERCEPTOR, useClass: RestListInterceptor },
        { provide: APP_INTERCEPTOR, useClass: CallContextInterceptor },
        // every mutating tool call's outcome (and refusals raised after the guards) becomes an audit event
        { provide: APP_INTERCEPTOR, useExisting: AuditInterceptor },
        // inside the audit: a waited-for job that failed is a failed call (JOB_FAILED with the job attached)
        { provide: APP_INTERCEPTOR, useClass: JobOutcomeInterceptor },
        // inside the audit: a gated call's approval is settled at its first change, after its read-only checks
        { provide: APP_INTERCEPTOR, useClass: ApprovalInterceptor },
        // innermost: a dry run answers its plan; a plan_digest call is planned again and compared first
        { provide: APP_INTERCEPTOR, useClass: PlanInterceptor },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
