import { ValidationPipe, type ArgumentMetadata, type ValidationPipeOptions } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { DomainError } from '../errors/domain-error.js';

/** One field error the way FastAPI/pydantic clients read them (`detail` of the reference's 422 answers). */
export interface FieldError {
  loc: string[];
  msg: string;
  type: 'missing' | 'value_error';
}

class ValidationFailure {
  constructor(readonly errors: ValidationError[]) {}
}

const SLOT_LOC: Record<ArgumentMetadata['type'], string> = {
  body: 'body',
  query: 'query',
  param: 'path',
  custom: 'body',
};

/**
 * The global ValidationPipe, with errors that name each field the way the reference's did: a required argument
 * that is absent is `<field>: Field required` in the message (beside our explanation of what it accepts), and
 * `details.fields` lists every failing field as pydantic's `{loc, msg, type}` (REST sends it as `detail`).
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions) {
    super({ ...options, exceptionFactory: (errors: ValidationError[]) => new ValidationFailure(errors) });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (error) {
      if (!(error instanceof ValidationFailure)) throw error;
      throw this.toDomainError(error.errors, value, SLOT_LOC[metadata.type] ?? 'body');
    }
  }

  private toDomainError(errors: ValidationError[], value: unknown, slot: string): DomainError {
    const given = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    const messages: string[] = [];
    const fields: FieldError[] = [];
    for (const error of errors) {
      const own = this.flattenValidationErrors([error]);
      const missing =
        (given[error.property] === undefined || given[error.property] === null) &&
        !error.constraints?.whitelistValidation;
      if (missing) {
        messages.push(`${error.property}: Field required (${own.join('; ')})`);
        fields.push({ loc: [slot, error.property], msg: 'Field required', type: 'missing' });
      } else {
        messages.push(...own);
        fields.push({ loc: [slot, error.property], msg: own.join('; '), type: 'value_error' });
      }
    }
    return new DomainError('VALIDATION', `Invalid arguments: ${messages.join('; ')}`, {
      details: { errors: messages, fields },
      hint: 'Fix the named arguments and call again; the tool schema lists what each one accepts.',
    });
  }
}
