import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, registerDecorator, type ValidationOptions } from 'class-validator';
import {
  isNodeName,
  isPoolId,
  isStorageId,
  isTargetName,
  isVmid,
  NODE_NAME_MAX,
  NODE_NAME_PATTERN,
  POOL_ID_PATTERN,
  STORAGE_ID_MAX,
  STORAGE_ID_PATTERN,
  TARGET_NAME_PATTERN,
  VMID_MAX,
  VMID_MIN,
  VMID_PATTERN,
} from './proxmox-formats.js';

/**
 * Custom class-validator constraints. Each one has a JSON Schema converter in CUSTOM_SCHEMA_CONVERTERS below,
 * keyed by the constraint name; the MCP schema factory refuses to boot if a DTO uses a constraint without one,
 * so the advertised schema can never be weaker than what is enforced.
 */
type JsonSchema = Record<string, unknown>;

function constraint(
  name: string,
  test: (v: unknown) => boolean,
  message: string,
  options?: ValidationOptions,
) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options: { message: `$property ${message}`, ...options },
      validator: { validate: (value: unknown) => test(value) },
    });
}

/** A VM/CT id, accepted as a number or a string of digits; after validation it is always a number. */
export const IsVmid =
  (o?: ValidationOptions) =>
  (target: object, propertyName: string): void => {
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && isVmid(value) ? Number(value) : value,
    )(target, propertyName);
    constraint(
      'isVmid',
      isVmid,
      `must be a Proxmox VM/CT ID: an integer ${VMID_MIN}-${VMID_MAX} (as a number or a string of digits without leading zeros)`,
      o,
    )(target, propertyName);
  };
export const IsNodeName = (o?: ValidationOptions) =>
  constraint(
    'isNodeName',
    isNodeName,
    `must be a Proxmox node name: letters, digits and '-', not starting or ending with '-', at most ${NODE_NAME_MAX} characters`,
    o,
  );
export const IsStorageId = (o?: ValidationOptions) =>
  constraint(
    'isStorageId',
    isStorageId,
    "must be a Proxmox storage ID: starts with a letter, then letters, digits, '-', '_' or '.', ending with a letter or digit",
    o,
  );
export const IsPoolId = (o?: ValidationOptions) =>
  constraint(
    'isPoolId',
    isPoolId,
    "must be a Proxmox pool ID: letters, digits, '.', '-', '_'; a nested pool is parent/child (at most 3 levels)",
    o,
  );
export const IsTargetName = (o?: ValidationOptions) =>
  constraint(
    'isTargetName',
    isTargetName,
    "must name a configured target: letters, digits, '_', '.', '-' (see list_targets)",
    o,
  );

/** Query strings carry booleans as text: accept true/false/1/0 exactly, never JavaScript truthiness. */
export const IsBooleanFlag = (o?: ValidationOptions) =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value,
    ),
    IsBoolean(o),
  );

/** Integers from query strings: only plain digit strings convert ("1e3", " 10", "0x10" stay invalid). */
export const IsIntParam = (o?: ValidationOptions) =>
  applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value,
    ),
    IsInt(o),
  );

export const CUSTOM_SCHEMA_CONVERTERS: Record<string, () => JsonSchema> = {
  isVmid: () => ({
    type: ['integer', 'string'],
    pattern: VMID_PATTERN,
    minimum: VMID_MIN,
    maximum: VMID_MAX,
  }),
  isNodeName: () => ({ type: 'string', pattern: NODE_NAME_PATTERN, maxLength: NODE_NAME_MAX }),
  isStorageId: () => ({
    type: 'string',
    pattern: STORAGE_ID_PATTERN,
    minLength: 2,
    maxLength: STORAGE_ID_MAX,
  }),
  isPoolId: () => ({ type: 'string', pattern: POOL_ID_PATTERN }),
  isTargetName: () => ({ type: 'string', pattern: TARGET_NAME_PATTERN }),
};
