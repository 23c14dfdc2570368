import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service.js';
import { JobEntity } from './job.entity.js';
import { JOB_STATUSES } from './job.types.js';

/** Job counts come from one GROUP BY on the job store, at most this often however often Prometheus scrapes. */
const JOB_COUNTS_TTL_MS = 5_000;

/** The `proxmox_mcp_jobs` gauge: jobs in the store by status, counted when /metrics is scraped. */
@Injectable()
export class JobCountsMetric implements OnModuleInit {
  private readonly logger = new Logger('Metrics');
  private jobCounts?: { at: number; value: Promise<Map<string, number>> };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onModuleInit(): void {
    if (!this.metrics) return;
    const jobs: Gauge<'status'> = this.metrics.addGauge({
      name: 'proxmox_mcp_jobs',
      help: 'Jobs in the job store by status (running, pending, failed, ...)',
      labelNames: ['status'] as const,
      collect: async () => {
        jobs.reset();
        try {
          const counts = await this.countJobs();
          for (const status of JOB_STATUSES) jobs.set({ status }, counts.get(status) ?? 0);
        } catch (error) {
          // the scrape still answers; the series are absent, which an absent() alert can see
          this.logger.warn(
            `job counts unavailable: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
    });
  }

  private countJobs(): Promise<Map<string, number>> {
    if (!this.jobCounts || Date.now() - this.jobCounts.at > JOB_COUNTS_TTL_MS) {
      const value = this.dataSource
        .getRepository(JobEntity)
        .createQueryBuilder('j')
        .select('j.status', 'status')
        .addSelect('COUNT(*)', 'count')
        .groupBy('j.status')
        .getRawMany<{ status: string; count: string | number }>()
        .then((rows) => new Map(rows.map((r) => [r.status, Number(r.count)])));
      // a failed count is not cached: the next scrape asks again
      const entry = { at: Date.now(), value };
      value.catch(() => {
        if (this.jobCounts === entry) this.jobCounts = undefined;
      });
      this.jobCounts = entry;
    }
    return this.jobCounts.value;
  }
}
