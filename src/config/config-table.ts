import {
  REDACTED,
  envSection,
  fileSection,
  overlay,
  type Field,
  type PathContext,
  type Problems,
  type Section,
} from './config-fields.js';

/**
 * The shape of the field tables (config-schema.ts): each setting is declared once, with its config-file key, its
 * environment variable(s), its parser and how describeConfig shows it. The loader, the environment overlay, the
 * allowed-key lists and describeConfig are all read off these tables.
 */

/** Environment variable(s) of a setting; with several, the first one set wins. */
export type EnvNames = string | readonly string[];

/** What a parser needs besides its Field: where problems go and what the loader knows so far. */
export interface ParseContext {
  problems: Problems;
  paths: PathContext;
  env: NodeJS.ProcessEnv;
  /** security.dev_mode / PROXMOX_DEV_MODE, parsed before anything else (it allows verify_ssl=false). */
  devMode: boolean;
  /** Names of the configured targets, known once the targets are parsed (API keys may name them). */
  targetNames: string[];
  /** Where the loader looked, said with the first missing target setting only. */
  whereWeLooked: () => string;
}

export interface FieldSpec<T> {
  /** The config-file key (snake_case, the reference's name); `section.key` for a key of another section. */
  key?: string;
  /** Read without a config file; over the file too when the section says `envOverFile`. */
  env?: EnvNames;
  /** Never shown in a message or by describeConfig. */
  secret?: boolean;
  /** Further keys of the section this setting is made from (read through `section`), with their variables. */
  companions?: Readonly<Record<string, EnvNames | undefined>>;
  /** The name describeConfig uses for a setting that is not a file key (an environment-only switch). */
  shownAs?: string;
  /** The typed value; problems go to ctx.problems. `undefined` leaves an optional property out. */
  parse(field: Field, ctx: ParseContext, section: Section): T;
  /** describeConfig's view; by default the value (unset = null), and "<redacted>" for a set secret. */
  show?(value: T): unknown;
}

/**
 * One entry per property of the typed config part T, in config-file order: a missing or extra property fails
 * compilation. `Elsewhere` names properties that are not settings of this section (derived or set by the program).
 */
export type FieldTable<T, Elsewhere extends keyof T = never> = {
  [P in Exclude<keyof T, Elsewhere>]-?: FieldSpec<T[P]>;
};

export interface SectionSpec<T, Elsewhere extends keyof T = never> {
  /** The config-file section (`mcp`); for targets, the part of `targets.<name>`. */
  name: string;
  fields: FieldTable<T, Elsewhere>;
  /** Environment variables win over the file too (Docker and the CLI set them); otherwise they apply without one. */
  envOverFile?: boolean;
  /** Reference keys that are checked but change nothing here; listed among the keys before `before`. */
  ignored?: Readonly<Record<string, IgnoredKey>>;
  /** Sub-sections with tables of their own (accepted keys of this section). */
  nested?: readonly string[];
  /** Rules between settings, once every field is parsed; returns the derived `Elsewhere` properties. */
  finish?(
    values: Omit<T, Elsewhere>,
    section: Section,
    ctx: ParseContext,
  ): Partial<Pick<T, Elsewhere>> | undefined;
}

/** A reference key that is still checked although it changes nothing here. */
export interface IgnoredKey {
  /** The key it is listed before in "allowed:" messages (the reference's order). */
  before: string;
  check(field: Field, ctx: ParseContext): void;
}

/** Any section, for the lists that are read off every table. */
export interface AnySectionSpec {
  name: string;
  fields: Readonly<Record<string, FieldSpec<unknown>>>;
  envOverFile?: boolean;
  ignored?: Readonly<Record<string, IgnoredKey>>;
  nested?: readonly string[];
}

const fieldsOf = (spec: AnySectionSpec): FieldSpec<unknown>[] => Object.values(spec.fields);

/** The keys a section accepts in its own object, in table order. */
export function ownKeys(spec: AnySectionSpec): string[] {
  const ignoredBefore = (key: string) =>
    Object.entries(spec.ignored ?? {}).flatMap(([name, ignored]) => (ignored.before === key ? [name] : []));
  const keys = fieldsOf(spec).flatMap((f) =>
    f.key === undefined || f.key.includes('.')
      ? []
      : [...ignoredBefore(f.key), f.key, ...Object.keys(f.companions ?? {})],
  );
  return [...keys, ...(spec.nested ?? [])];
}

/** Every key of the config-file section `name`: its tables' keys, then keys other tables place there. */
export function allowedKeys(name: string, specs: readonly AnySectionSpec[]): string[] {
  const own = specs.filter((s) => s.name === name).flatMap(ownKeys);
  const placedHere = specs.flatMap((s) =>
    fieldsOf(s).flatMap((f) => (f.key?.startsWith(`${name}.`) ? [f.key.slice(name.length + 1)] : [])),
  );
  return [...new Set([...own, ...placedHere])];
}

/** File key → variable name(s) of the sections called `name` (only those that apply over a file, if asked). */
export function envNames(
  name: string,
  specs: readonly AnySectionSpec[],
  overFileOnly = false,
): Record<string, EnvNames> {
  const names: Record<string, EnvNames> = {};
  for (const spec of specs) {
    if (spec.name !== name || (overFileOnly && !spec.envOverFile)) continue;
    for (const field of fieldsOf(spec)) {
      // a key placed in another section (`security.api_keys`) has no variable of its own
      if (field.key !== undefined && !field.key.includes('.') && field.env !== undefined) {
        names[field.key] = field.env;
      }
      for (const [key, env] of Object.entries(field.companions ?? {}))
        if (env !== undefined) names[key] = env;
    }
  }
  return names;
}

/** The section `name` of the config file, with the environment variables that win over it. */
export function sectionFromFile(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  value: unknown,
  name: string,
  specs: readonly AnySectionSpec[],
): Section {
  const section = fileSection(problems, value, name, allowedKeys(name, specs));
  const names = envNames(name, specs, true);
  return Object.keys(names).length > 0 ? overlay(section, env, names) : section;
}

/** The section `name` without a config file: its environment variables. */
export function sectionFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  specs: readonly AnySectionSpec[],
): Section {
  return envSection(env, envNames(name, specs));
}

/**
 * Parses every field of a section in table order. `lookup` gives the sections named by `section.key` keys.
 */
export function parseSection<T, E extends keyof T = never>(
  spec: SectionSpec<T, E>,
  section: Section,
  ctx: ParseContext,
  lookup: (name: string) => Section = () => section,
): Omit<T, E> & Partial<Pick<T, E>> {
  const values: Record<string, unknown> = {};
  for (const [prop, field] of Object.entries<FieldSpec<unknown>>(spec.fields)) {
    const value = field.parse(fieldOf(field, section, lookup), ctx, section);
    if (value !== undefined) values[prop] = value;
  }
  for (const [key, ignored] of Object.entries(spec.ignored ?? {})) ignored.check(section.get(key), ctx);
  // every property of the table was set above, unless its parser left an optional one out
  const parsed = values as Omit<T, E>;
  return { ...parsed, ...spec.finish?.(parsed, section, ctx) } as Omit<T, E> & Partial<Pick<T, E>>;
}

function fieldOf(field: FieldSpec<unknown>, section: Section, lookup: (name: string) => Section): Field {
  const options = { secret: field.secret ?? false };
  if (field.key === undefined) {
    return { label: field.shownAs ?? '', value: undefined, fromEnv: true, secret: options.secret };
  }
  const dot = field.key.indexOf('.');
  return dot < 0
    ? section.get(field.key, options)
    : lookup(field.key.slice(0, dot)).get(field.key.slice(dot + 1), options);
}

/** A section as describeConfig shows it: file key names, secrets redacted, unset values null. */
export function describeSection<T, E extends keyof T = never>(
  spec: SectionSpec<T, E>,
  values: Omit<T, E>,
): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  const source = values as Record<string, unknown>;
  for (const [prop, field] of Object.entries<FieldSpec<unknown>>(spec.fields)) {
    const name = field.shownAs ?? field.key?.slice(field.key.indexOf('.') + 1);
    if (name === undefined) continue;
    const value = source[prop];
    const shown = field.show
      ? field.show(value)
      : field.secret
        ? value === undefined
          ? null
          : REDACTED
        : (value ?? null);
    // a setting made of several keys shows each of them
    if (field.companions) Object.assign(view, shown);
    else view[name] = shown;
  }
  return view;
}
