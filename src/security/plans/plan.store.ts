import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LessThan, MoreThan, type DataSource, type Repository } from 'typeorm';
import type { PlanDto } from '../../common/plan/plan.dto.js';
import { PlanEntity } from './plan.entity.js';

/** How long a plan can be named by `plan_digest` after its dry run. */
export const PLAN_TTL_MS = 60 * 60 * 1000;

/** The plans table: save on every dry run (same digest: refreshed), read by digest while unexpired. */
@Injectable()
export class PlanStore {
  private readonly repo: Repository<PlanEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(PlanEntity);
  }

  async save(plan: PlanDto, createdBy: string | null, now = Date.now()): Promise<number> {
    const expiresAt = now + PLAN_TTL_MS;
    await this.repo.delete({ expiresAt: LessThan(now) });
    // one statement, so replicas saving the same plan at once do not collide on the key
    await this.repo.upsert(
      {
        digest: plan.plan_digest,
        toolName: plan.tool,
        target: plan.target,
        plan: JSON.parse(JSON.stringify(plan)) as never,
        createdBy,
        createdAt: now,
        expiresAt,
      },
      ['digest'],
    );
    return expiresAt;
  }

  async get(digest: string, now = Date.now()): Promise<PlanDto | undefined> {
    const row = await this.repo.findOne({ where: { digest, expiresAt: MoreThan(now) } });
    return row ? (row.plan as unknown as PlanDto) : undefined;
  }
}
