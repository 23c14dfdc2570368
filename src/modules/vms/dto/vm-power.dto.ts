import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';

// start_vm, stop_vm, reset_vm and resume_vm take only the wait options: their body is WaitOptionsDto itself (an
// empty subclass would get no schema of its own, and its inherited fields would not reach the tool schema).

export class ShutdownVmBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  @JSONSchema({
    description:
      'Seconds the guest OS gets to power off (PVE default 180 s); then the task fails, or stops with forceStop',
  })
  timeout?: number;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Hard-stop the VM when the guest did not power off within timeout, so it surely ends stopped',
  })
  forceStop?: boolean;
}

export class RebootVmBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  @JSONSchema({ description: 'Seconds the guest OS gets to shut down before the reboot fails' })
  timeout?: number;
}

export class SuspendVmBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Hibernate to disk (the VM stops; the next start_vm resumes it) instead of pausing it in memory (default false)',
  })
  todisk?: boolean;
}
