import type { Type } from '@nestjs/common';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { defaultConverters } from 'class-validator-jsonschema/build/defaultConverters.js';
// The same storage instance class-transformer's decorators write to (its package has no exports map).
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import type { JsonSchema } from '../../common/tools/tool-definition.js';
import { CUSTOM_SCHEMA_CONVERTERS } from '../../common/validation/proxmox.validators.js';

const REF_PREFIX = '#/$defs/';

/**
 * Turns class-validator DTOs into JSON Schema: the single source for MCP inputSchema/outputSchema and the
 * OpenAPI document. The result is flat (every $ref inlined), closed (additionalProperties: false) and never
 * weaker than the validators: a custom constraint without a converter stops the boot.
 */
export class ToolSchemaFactory {
  private readonly schemas: Record<string, JsonSchema>;

  constructor() {
    this.assertConvertersComplete();
    this.schemas = validationMetadatasToSchemas({
      refPointerPrefix: REF_PREFIX,
      classTransformerMetadataStorage: defaultMetadataStorage as never,
      additionalConverters: Object.fromEntries(
        Object.entries(CUSTOM_SCHEMA_CONVERTERS).map(([name, convert]) => [name, () => convert()]),
      ),
    }) as Record<string, JsonSchema>;
  }

  /** The closed object schema of one DTO class, with nested DTOs inlined. */
  forClass(dto: Type<unknown>): JsonSchema {
    const raw = this.schemas[dto.name];
    if (!raw) return { type: 'object', properties: {}, additionalProperties: false };
    return this.inline(raw, [dto.name]);
  }

  /** The properties of several DTO classes merged into one flat tool schema; a shared name is a boot error. */
  merge(dtos: Type<unknown>[], owner: string): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const dto of dtos) {
      const schema = this.forClass(dto);
      for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
        if (name in properties) {
          throw new Error(
            `${owner}: argument '${name}' is declared by more than one of its DTOs (${dto.name})`,
          );
        }
        properties[name] = prop;
      }
      required.push(...((schema.required as string[] | undefined) ?? []));
    }
    return {
      type: 'object',
      properties,
      ...(required.length ? { required: [...new Set(required)].sort() } : {}),
      additionalProperties: false,
    };
  }

  private inline(node: unknown, stack: string[]): JsonSchema {
    if (Array.isArray(node)) return node.map((n) => this.inline(n, stack)) as unknown as JsonSchema;
    if (!node || typeof node !== 'object') return node as JsonSchema;
    const obj = node as JsonSchema;
    const ref = obj.$ref;
    if (typeof ref === 'string' && ref.startsWith(REF_PREFIX)) {
      const name = ref.slice(REF_PREFIX.length);
      if (stack.includes(name)) throw new Error(`DTO ${name} is recursive; tool schemas must be finite`);
      const target = this.schemas[name];
      if (!target) throw new Error(`DTO ${name} is referenced but has no validation metadata`);
      const { $ref: _ref, ...rest } = obj;
      return { ...this.inline(target, [...stack, name]), ...rest };
    }
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.inline(v, stack);
    if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
    return out;
  }

  private assertConvertersComplete(): void {
    type AnyClass = abstract new (...args: never[]) => unknown;
    const storage = getMetadataStorage() as unknown as {
      validationMetadatas: Map<AnyClass, Array<{ type: string; constraintCls?: AnyClass }>>;
      getTargetValidatorConstraints(cls: AnyClass): Array<{ name: string }>;
    };
    const missing = new Set<string>();
    const names = new Map<string, AnyClass>();
    for (const [target, metas] of storage.validationMetadatas) {
      const seen = names.get(target.name);
      if (seen && seen !== target) throw new Error(`Two DTO classes are named ${target.name}; rename one`);
      names.set(target.name, target);
      for (const meta of metas) {
        if (meta.type !== ValidationTypes.CUSTOM_VALIDATION || !meta.constraintCls) continue;
        const name = storage.getTargetValidatorConstraints(meta.constraintCls)[0]?.name;
        if (name && !(name in CUSTOM_SCHEMA_CONVERTERS) && !(name in defaultConverters))
          missing.add(`${target.name}: ${name}`);
      }
    }
    if (missing.size) {
      throw new Error(`Custom validators without a JSON Schema converter: ${[...missing].join(', ')}`);
    }
  }
}
