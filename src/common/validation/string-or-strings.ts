import { JSONSchema } from 'class-validator-jsonschema';

/**
 * JSON Schema for a field that takes one string or an array of strings. The class-validator rules use
 * `{ each: true }`, which checks every element of an array and a plain value itself, so both forms are enforced;
 * this replaces the generated `type: array` with the honest union.
 */
export const StringOrStringsSchema = (description: string, pattern: RegExp) =>
  JSONSchema((() => {
    const item = { type: 'string', pattern: pattern.source };
    return { anyOf: [item, { type: 'array', items: item }], description };
  }) as unknown as JsonSchemaOverride);

/** What @JSONSchema accepts; a function replaces the generated property schema instead of merging into it. */
export type JsonSchemaOverride = Parameters<typeof JSONSchema>[0];
