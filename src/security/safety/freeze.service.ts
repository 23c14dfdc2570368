import { planned } from '../../common/plan/plan-mode.js';
import { open, stat } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import { redactText } from '../../common/redaction/redactor.js';
import { APP_CONFIG, type AppConfig, type SafetyConfig } from '../../config/app-config.js';
import { safetyDefaults } from '../../config/safety.defaults.js';
import { FreezeStateEntity, TOOL_FREEZE_ID } from './freeze-state.entity.js';

/** Where a freeze comes from: the configuration, the freeze file, or `freeze_changes` (the database). */
export type FreezeSource = 'config' | 'file' | 'tool';

/** One active freeze. */
export interface ActiveFreeze {
  source: FreezeSource;
  reason: string;
  /** `configuration`, `file <path>`, or the API key name that called freeze_changes. */
  frozen_by: string;
  /** ISO time: server start (config), the file's modification time, or the freeze_changes call. */
  since: string;
}

/** What get_freeze_status, /health and /readyz show. `freezes`: every active source (the first one wins). */
export interface FreezeStatus {
  frozen: boolean;
  source?: FreezeSource;
  reason?: string;
  frozen_by?: string;
  since?: string;
  freezes: ActiveFreeze[];
  /** Where the operator can create the freeze file (safety.freeze_file). */
  freeze_file: string;
}

/** How long one look at the freeze file serves (a stat per non-read call at most once a second). */
const FILE_CHECK_MS = 1_000;
/** Only the first line of the freeze file is read, and at most this much of it. */
const MAX_REASON_BYTES = 500;
const DEFAULT_FILE_REASON = 'the freeze file exists';

/**
 * The kill switch: three independent freezes, any one of which refuses every non-read tool (FreezeGuard).
 * - `safety.freeze` (config, per process), reason `safety.freeze_reason`;
 * - the freeze file `safety.freeze_file` (per host; for an operator without API access), its first line the reason,
 *   looked at with one stat at most every second;
 * - `freeze_changes` (admin tool), a row in the shared job store: every replica sees it at its next call.
 * `unfreeze_changes` lifts only the last; the other two are lifted where they were set.
 */
@Injectable()
export class FreezeService {
  private readonly logger = new Logger('FreezeService');
  private readonly safety: SafetyConfig;
  private readonly startedAt = new Date().toISOString();
  private fileCheck?: { at: number; freeze: Promise<ActiveFreeze | undefined> };

  constructor(
    @InjectRepository(FreezeStateEntity) private readonly rows: Repository<FreezeStateEntity>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.safety = config.safety ?? safetyDefaults();
  }

  async status(): Promise<FreezeStatus> {
    const [file, tool] = await Promise.all([this.fileFreeze(), this.toolFreeze()]);
    const freezes = [this.configFreeze(), file, tool].filter((f): f is ActiveFreeze => f !== undefined);
    const first = freezes[0];
    return {
      frozen: freezes.length > 0,
      ...(first
        ? { source: first.source, reason: first.reason, frozen_by: first.frozen_by, since: first.since }
        : {}),
      freezes,
      freeze_file: this.safety.freezeFile,
    };
  }

  /** freeze_changes: sets (or replaces) the tool freeze in the shared store. */
  async freeze(reason: string, by: string): Promise<void> {
    planned('UPSERT', 'server:/safety/freeze', { reason: redactText(reason) }); // a dry run ends here
    const row: FreezeStateEntity = {
      id: TOOL_FREEZE_ID,
      reason: redactText(reason),
      frozenBy: by.slice(0, 128),
      frozenAt: Date.now(),
    };
    await this.store(() => this.rows.upsert(row, ['id']));
  }

  /** unfreeze_changes: lifts the tool freeze; true when there was one. */
  async unfreeze(): Promise<boolean> {
    planned('DELETE', 'server:/safety/freeze'); // a dry run ends here
    const result = await this.store(() => this.rows.delete({ id: TOOL_FREEZE_ID }));
    return (result.affected ?? 0) > 0;
  }

  private configFreeze(): ActiveFreeze | undefined {
    if (!this.safety.freeze) return undefined;
    return {
      source: 'config',
      reason: this.safety.freezeReason ?? 'safety.freeze is on in the server configuration',
      frozen_by: 'configuration',
      since: this.startedAt,
    };
  }

  private fileFreeze(): Promise<ActiveFreeze | undefined> {
    const now = Date.now();
    if (this.fileCheck && now - this.fileCheck.at < FILE_CHECK_MS) return this.fileCheck.freeze;
    const freeze = readFreezeFile(this.safety.freezeFile);
    this.fileCheck = { at: now, freeze };
    return freeze;
  }

  /** Fail closed: when the store cannot be read, a non-read call is refused rather than run unchecked. */
  private async toolFreeze(): Promise<ActiveFreeze | undefined> {
    const row = await this.store(() => this.rows.findOneBy({ id: TOOL_FREEZE_ID }));
    if (!row) return undefined;
    return {
      source: 'tool',
      reason: row.reason,
      frozen_by: row.frozenBy,
      since: new Date(row.frozenAt).toISOString(),
    };
  }

  private async store<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.logger.error(`freeze state not readable: ${(error as Error).message}`);
      throw new DomainError(
        'STORE_UNAVAILABLE',
        'The freeze state in the job store cannot be read or written',
        {
          cause: error,
        },
      );
    }
  }
}

/** The freeze file's first line (or a default reason), or undefined when it does not exist. */
async function readFreezeFile(path: string): Promise<ActiveFreeze | undefined> {
  let modified: Date;
  try {
    modified = (await stat(path)).mtime;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // it is there but cannot be looked at: frozen all the same (the operator meant something by it)
    return fileFreeze(path, `the freeze file cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  let firstLine = '';
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_REASON_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_REASON_BYTES, 0);
      firstLine = buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0].trim();
    } finally {
      await handle.close();
    }
  } catch {
    firstLine = '';
  }
  // no control characters in what a caller is shown
  const reason = [...firstLine].filter((c) => c >= ' ' && c !== '\u007f').join('');
  return fileFreeze(path, reason || DEFAULT_FILE_REASON, modified);
}

const fileFreeze = (path: string, reason: string, modified = new Date()): ActiveFreeze => ({
  source: 'file',
  reason: redactText(reason),
  frozen_by: `file ${path}`,
  since: modified.toISOString(),
});
