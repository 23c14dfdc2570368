import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { PathTrie, splitPath } from './path-trie.js';
import { checkNamedFormat } from './schema-formats.js';

/**
 * The PVE API schema (the api-viewer dump, `apidoc.json`) and PVE's parameter verification, typed. This is our own
 * TypeScript port of ../shared/pve-api/lookup.mjs: same lookup rules, same error texts (PVE::JSONSchema's wording),
 * so the simulator's 501 and 400 answers match a real node's. The schema file is read at run time and never copied
 * into this repository.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One parameter (or property-string sub-key) as the dump describes it. */
export interface ParamSchema {
  type?: string | string[];
  /** A named format (`pve-node`) or, for property strings such as `net0`, a map of sub-keys. */
  format?: string | Record<string, ParamSchema>;
  enum?: Array<string | number>;
  pattern?: string;
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  optional?: number | boolean;
  alias?: string;
  keyAlias?: string;
  default_key?: number | boolean;
  requires?: string;
  items?: ParamSchema;
  oneOf?: ParamSchema[];
  description?: string;
  'instance-types'?: string[];
  'type-property'?: string;
}

export interface ApiOperation {
  name?: string;
  description?: string;
  method?: string;
  protected?: number;
  proxyto?: string;
  /** 0 = refused with an API token (403); absent or 1 = allowed. */
  allowtoken?: number;
  parameters?: { additionalProperties?: number | boolean; properties?: Record<string, ParamSchema> };
  returns?: unknown;
}

interface ApiTreeNode {
  path: string;
  info?: Partial<Record<HttpMethod, ApiOperation>>;
  children?: ApiTreeNode[];
}

export interface ApiEndpoint {
  path: string;
  operations: Partial<Record<HttpMethod, ApiOperation>>;
}

export type ParamMap = Record<string, unknown>;
export type ParamErrors = Record<string, string>;

export type Resolution =
  | { kind: 'found'; endpoint: ApiEndpoint; operation: ApiOperation; pathParams: Record<string, string> }
  /** No such path, or the path exists without this method: PVE answers 501 for both. */
  | { kind: 'not-implemented'; message: string };

/** lookup.mjs `checkCall` in one step: resolution, path-parameter merge and value checks. */
export interface CheckResult {
  ok: boolean;
  notFound: boolean;
  template: string | null;
  pathParams: Record<string, string>;
  errors: ParamErrors;
  message?: string;
}

const schemaCache = new Map<string, PveApiSchema>();

export class PveApiSchema {
  private readonly trie = new PathTrie<ApiEndpoint>();
  readonly endpointCount: number;

  private constructor(tree: ApiTreeNode[]) {
    let count = 0;
    const walk = (nodes: ApiTreeNode[]): void => {
      for (const node of nodes) {
        this.trie.set(node.path, { path: node.path, operations: node.info ?? {} });
        count++;
        if (node.children) walk(node.children);
      }
    };
    walk(tree);
    this.endpointCount = count;
  }

  /** Reads and indexes the dump once per process and file (tests start many simulators). */
  static load(file: string): PveApiSchema {
    const key = resolvePath(file);
    let schema = schemaCache.get(key);
    if (!schema) {
      const tree = JSON.parse(readFileSync(key, 'utf8')) as unknown;
      if (!Array.isArray(tree))
        throw new Error(`${file} is not a PVE api-viewer schema dump (expected a JSON array)`);
      schema = new PveApiSchema(tree as ApiTreeNode[]);
      schemaCache.set(key, schema);
    }
    return schema;
  }

  find(segments: readonly string[]): { endpoint: ApiEndpoint; pathParams: Record<string, string> } | null {
    const match = this.trie.match(segments);
    return match ? { endpoint: match.value, pathParams: match.params } : null;
  }

  resolve(method: string, segments: readonly string[]): Resolution {
    const message = `Method '${method} /${segments.join('/')}' not implemented`;
    const match = this.find(segments);
    const operation = match?.endpoint.operations[method as HttpMethod];
    if (!match || !operation) return { kind: 'not-implemented', message };
    return { kind: 'found', endpoint: match.endpoint, operation, pathParams: match.pathParams };
  }

  check(method: string, path: string, params: ParamMap = {}): CheckResult {
    const segments = splitPath(path.replace(/^\/?api2\/(json|extjs|html)(?=\/|$)/, ''));
    const resolution = this.resolve(method.toUpperCase(), segments);
    if (resolution.kind !== 'found') {
      const notFound = this.find(segments) === null;
      return { ok: false, notFound, template: null, pathParams: {}, errors: {}, message: resolution.message };
    }
    const merged = mergePathParams(params, resolution.pathParams);
    const errors = { ...merged.errors, ...validateParams(resolution.operation, merged.params) };
    const ok = Object.keys(errors).length === 0;
    return {
      ok,
      notFound: false,
      template: resolution.endpoint.path,
      pathParams: resolution.pathParams,
      errors,
      ...(ok ? {} : { message: 'Parameter verification failed.' }),
    };
  }
}

/**
 * Path segments become parameters too; the same name sent with another value is refused
 * (manager HTTPServer.pm: "duplicate parameter (already defined in URI) with conflicting values!").
 */
export function mergePathParams(
  params: ParamMap,
  pathParams: Record<string, string>,
): { params: ParamMap; errors: ParamErrors } {
  const all: ParamMap = { ...params };
  const errors: ParamErrors = {};
  for (const [name, value] of Object.entries(pathParams)) {
    if (name in all && scalarText(all[name]) !== value) {
      errors[name] = 'duplicate parameter (already defined in URI) with conflicting values!';
    }
    all[name] = value;
  }
  return { params: all, errors };
}

/** PVE::JSONSchema::validate for one operation: unknown, missing, `requires` and per-value errors. */
export function validateParams(operation: ApiOperation, params: ParamMap): ParamErrors {
  const errors: ParamErrors = {};
  const properties = operation.parameters?.properties ?? {};
  const additional = operation.parameters?.additionalProperties;
  const strict = additional === 0 || additional === false;

  for (const [name, value] of Object.entries(params)) {
    const resolved = resolveProperty(properties, name);
    if (!resolved) {
      if (strict) {
        errors[name] =
          'property is not defined in schema and the schema does not allow additional properties';
      }
      continue;
    }
    const error = checkValue(value, resolved, name);
    if (error) errors[name] = error;
    const required = resolved.requires;
    if (typeof required === 'string' && (params[required] === undefined || params[required] === null)) {
      errors[required] = `missing property required by '${name}'`;
    }
  }

  for (const [name, sub] of Object.entries(properties)) {
    if (sub.optional || sub.alias || name.endsWith('[n]')) continue; // an indexed family is never required
    const instanceTypes = sub['instance-types'];
    const typeProperty = sub['type-property'];
    if (instanceTypes && typeProperty) {
      const instance = params[typeProperty];
      if (instance === undefined || !instanceTypes.includes(scalarText(instance))) continue;
    }
    if (params[name] === undefined || params[name] === null) {
      errors[name] = 'property is missing and it is not optional';
    }
  }
  return errors;
}

// Highest index for `name[n]` parameters whose description does not say "(n is 0 to N)"
// (qemu-server / pve-container constants); families not listed accept any index.
const INDEX_LIMITS: Record<string, number> = {
  net: 31,
  ipconfig: 31,
  scsi: 30,
  ide: 3,
  sata: 5,
  virtio: 15,
  unused: 255,
  usb: 13,
  hostpci: 15,
  serial: 3,
  parallel: 2,
  numa: 7,
  virtiofs: 9,
  mp: 255,
  dev: 255,
};

/** `net0` → the schema of `net[n]` (the dump lists indexed parameters once). */
function resolveProperty(properties: Record<string, ParamSchema>, name: string): ParamSchema | null {
  if (Object.prototype.hasOwnProperty.call(properties, name)) return properties[name];
  const m = /^([a-z]+)(\d+)$/.exec(name);
  const family = m ? properties[`${m[1]}[n]`] : undefined;
  if (!m || !family) return null;
  const fromDescription = /\(n is 0 to (\d+)\)/.exec(family.description ?? '');
  const limit = fromDescription ? Number(fromDescription[1]) : INDEX_LIMITS[m[1]];
  return limit !== undefined && Number(m[2]) > limit ? null : family;
}

// ------------------------------------------------------------------ value checks

const regexCache = new Map<string, RegExp | null>();

/** Perl patterns from the dump; `(?^i:…)` scopes become a whole-pattern `i` flag (loose, like lookup.mjs). */
function perlRegex(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    const flags = pattern.includes('(?^i:') ? 'i' : '';
    try {
      re = new RegExp(`^(?:${pattern.replace(/\(\?\^i?:/g, '(?:')})$`, flags);
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

const isInteger = (v: string): boolean => /^[+-]?\d+$/.test(v);
const isNumber = (v: string): boolean => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);
const isHash = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Perl's view of a scalar: JSON booleans count as 1/0. */
function scalarText(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

function perlRef(value: unknown): string {
  return Array.isArray(value) ? 'ARRAY' : isHash(value) ? 'HASH' : '';
}

function checkType(type: string | string[] | undefined, value: unknown): string | null {
  if (!type || type === 'any') return null;
  if (Array.isArray(type)) {
    return type.some((t) => checkType(t, value) === null) ? null : `type check ('${type.join('|')}') failed`;
  }
  if (type === 'null') return value === null ? null : `type check ('null') failed - value is not null`;
  const ref = perlRef(value);
  if (type === 'array') return ref === 'ARRAY' ? null : `type check ('array') failed`;
  if (type === 'object') return ref === 'HASH' ? null : `type check ('object') failed`;
  if (ref) return `type check ('${type}') failed - got ${ref}`;
  const text = scalarText(value);
  if (type === 'boolean') {
    // top-level booleans: only 0/1 (or JSON true/false); "true" is refused
    if (typeof value === 'boolean') return null;
    return text === '1' || text === '0' ? null : `type check ('boolean') failed - got '${text}'`;
  }
  if (type === 'integer') return isInteger(text) ? null : `type check ('integer') failed - got '${text}'`;
  if (type === 'number') return isNumber(text) ? null : `type check ('number') failed - got '${text}'`;
  return null;
}

/**
 * Checks one value against its schema. Returns PVE's error text or null. `path` names the parameter
 * (used in property-string sub-key errors such as `net0.bridge: …`).
 */
export function checkValue(input: unknown, schema: ParamSchema, path = ''): string | null {
  if (input === undefined || input === null) return null;
  let value = input;
  // form-urlencoded normalisation PVE::RESTHandler applies before validation
  if (Array.isArray(value) && schema.type === 'string' && typeof schema.format === 'string') {
    if (schema.format.endsWith('-list')) value = value.map(scalarText).join(',');
  } else if (!Array.isArray(value) && schema.type === 'array') {
    value = [value];
  }
  if (schema.oneOf) {
    const errors = schema.oneOf.map((alt) => checkValue(value, alt, path));
    return errors.some((e) => e === null) ? null : errors.filter(Boolean).join('; ');
  }
  const typeError = checkType(schema.type, value);
  if (typeError) return typeError;
  if (Array.isArray(value)) {
    if (!schema.items) return null;
    for (let i = 0; i < value.length; i++) {
      const e = checkValue(value[i], schema.items, `${path}[${i}]`);
      if (e) return `[${i}]: ${e}`;
    }
    return null;
  }
  if (isHash(value)) return null; // nested objects are rare in parameters
  const text = scalarText(value);
  if (schema.format) {
    const formatError =
      typeof schema.format === 'object'
        ? checkPropertyString(schema.format, text, path)
        : checkNamedFormat(schema.format, text);
    if (formatError) return `invalid format - ${formatError}`;
  }
  if (schema.pattern) {
    const re = perlRegex(schema.pattern);
    if (re && !re.test(text)) return 'value does not match the regex pattern';
  }
  if (schema.maxLength !== undefined && text.length > schema.maxLength) {
    return `value may only be ${schema.maxLength} characters long`;
  }
  if (schema.minLength !== undefined && text.length < schema.minLength) {
    return `value must be at least ${schema.minLength} characters long`;
  }
  if (isNumber(text)) {
    if (schema.maximum !== undefined && Number(text) > Number(schema.maximum)) {
      return `value must have a maximum value of ${schema.maximum}`;
    }
    if (schema.minimum !== undefined && Number(text) < Number(schema.minimum)) {
      return `value must have a minimum value of ${schema.minimum}`;
    }
  }
  if (schema.enum && !schema.enum.map(String).includes(text)) {
    return `value '${text}' does not have a value in the enumeration '${schema.enum.join(', ')}'`;
  }
  return null;
}

/** Inside property strings booleans are loose (`parse_boolean`): on/yes/true and off/no/false too. */
function looseBoolean(v: string): string {
  if (/^(1|on|yes|true)$/i.test(v)) return '1';
  if (/^(0|off|no|false)$/i.test(v)) return '0';
  return v;
}

/**
 * `key=val,key2=val2` with an optional default key (`virtio=AA:…,bridge=vmbr0`). Parse errors are one line
 * ending in "\n"; sub-key errors become "format error\n<param>.<key>: <msg>\n", as PVE reports them.
 */
function checkPropertyString(
  format: Record<string, ParamSchema>,
  value: string,
  path: string,
): string | null {
  const parsed: Record<string, string> = {};
  let defaultKeyUsed = false;
  for (const part of value.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      let key = kv[1];
      if (key in parsed) return `duplicate key in comma-separated list property: ${key}\n`;
      let sub: ParamSchema | undefined = format[key];
      if (sub?.alias) {
        if (sub.keyAlias) parsed[sub.keyAlias] = key;
        key = sub.alias;
        sub = format[key];
        if (key in parsed) return `key '${key}' is already defined (via alias)\n`;
      }
      if (!sub) return `invalid key in comma-separated list property: ${key}\n`;
      parsed[key] = sub.type === 'boolean' ? looseBoolean(kv[2]) : kv[2];
    } else if (!part.includes('=')) {
      const defaultKey = Object.keys(format).find((k) => format[k].default_key);
      if (!defaultKey) return 'value without key, but schema does not define a default key\n';
      if (defaultKeyUsed || defaultKey in parsed) {
        return `duplicate key in comma-separated list property: ${defaultKey}\n`;
      }
      defaultKeyUsed = true;
      parsed[defaultKey] = format[defaultKey].type === 'boolean' ? looseBoolean(part) : part;
    } else {
      return 'missing key in comma-separated list property\n';
    }
  }
  const errors: string[] = [];
  for (const [key, sub] of Object.entries(format)) {
    if (sub.alias) continue;
    if (!(key in parsed)) {
      if (!sub.optional) errors.push(`${path}.${key}: property is missing and it is not optional\n`);
      continue;
    }
    const e = checkValue(parsed[key], sub, `${path}.${key}`);
    if (e) errors.push(`${path}.${key}: ${e}\n`);
  }
  return errors.length ? `format error\n${errors.join('')}` : null;
}
