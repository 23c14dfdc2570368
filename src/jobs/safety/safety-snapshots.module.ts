import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { SafetySnapshots } from './safety-snapshots.js';

/** `safety_snapshot` on risky guest operations (the argument itself is added by McpModule: SafetySnapshotArgument). */
@Module({
  providers: [SafetySnapshots, { provide: APP_INTERCEPTOR, useExisting: SafetySnapshots }],
})
export class SafetySnapshotsModule {}
