import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { TARGET_NAME_PATTERN } from '../common/validation/proxmox-formats.js';
import { ConfigError, type AppConfig, type TargetConfig } from './app-config.js';
import {
  Problems,
  envSection,
  expandPath,
  fileSection,
  isPlainObject,
  type Field,
  type PathContext,
  type Section,
} from './config-fields.js';
import {
  ALL_SECTIONS,
  API_TUNNEL,
  AUDIT,
  AUTH,
  COMMAND_POLICY,
  FILES,
  DOWNLOADS,
  FILE_SECTIONS,
  HTTP,
  JOBS,
  LOGGING,
  MCP,
  METRICS,
  SAFETY,
  NODE_COMMANDS,
  PROXMOX,
  SECURITY,
  SSH,
  TARGET,
} from './config-schema.js';
import { ownKeys, parseSection, sectionFromEnv, sectionFromFile, type ParseContext } from './config-table.js';
import { checkJsonSyntax } from './json-syntax.js';
import { parseOAuthConfig } from './oauth-config.js';

export { describeConfig } from './config.describe.js';

/** Where the config file is looked for when PROXMOX_MCP_CONFIG is not set (relative to the working directory). */
export const DEFAULT_CONFIG_FILE = 'proxmox-config/config.json';

export interface LoadConfigOptions {
  /** Directory for DEFAULT_CONFIG_FILE and relative paths; process.cwd() by default. */
  cwd?: string;
  /**
   * Rewrites the config file's document before it is read (the demo replaces the sections it owns: targets, SSH,
   * API keys, job store). Not called in environment mode.
   */
  rewriteFile?: (doc: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * Builds the validated AppConfig from the config file (PROXMOX_MCP_CONFIG, else proxmox-config/config.json if it
 * exists) or, without a file, from PROXMOX_* variables. MCP_*, PROXMOX_JOBS_*, API key and CORS variables apply
 * in both modes. Throws ConfigError listing every problem found.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): AppConfig {
  const ctx: PathContext = { cwd: options.cwd ?? process.cwd(), home: env.HOME || homedir() };
  const located = locateConfigFile(env, ctx);
  const rewrite = options.rewriteFile ?? ((doc: Record<string, unknown>) => doc);
  const problems = new Problems();
  const config =
    located.kind === 'file'
      ? buildConfig(
          problems,
          env,
          ctx,
          fileSources(problems, env, rewrite(readConfigFile(located.path)), located.path),
        )
      : buildConfig(problems, env, ctx, envSources(env, located.note));
  if (problems.list.length > 0) throw new ConfigError(problems.scrubbed());
  return config;
}

// ---- finding and reading the file ----

type Located = { kind: 'file'; path: string } | { kind: 'env'; note: string };

function locateConfigFile(env: NodeJS.ProcessEnv, ctx: PathContext): Located {
  const named = env.PROXMOX_MCP_CONFIG;
  if (named === '') {
    return { kind: 'env', note: 'PROXMOX_MCP_CONFIG is empty, so settings come from environment variables' };
  }
  if (named !== undefined) {
    const path = expandPath(named, ctx);
    const reason = fileProblem(path);
    if (reason) {
      const shown = path === named ? JSON.stringify(named) : `${JSON.stringify(named)} (${path})`;
      throw new ConfigError([`PROXMOX_MCP_CONFIG: got ${shown}: ${reason}`]);
    }
    return { kind: 'file', path };
  }
  const fallback = expandPath(DEFAULT_CONFIG_FILE, ctx);
  const reason = fileProblem(fallback);
  if (reason === NO_SUCH_FILE) {
    return {
      kind: 'env',
      note: `PROXMOX_MCP_CONFIG is not set and ${fallback} does not exist, so settings come from environment variables`,
    };
  }
  if (reason) throw new ConfigError([`${fallback}: ${reason}`]);
  return { kind: 'file', path: fallback };
}

const NO_SUCH_FILE = 'the file does not exist';

function fileProblem(path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return 'not a regular file; expected a JSON config file';
    if (stat.size > 1024 * 1024) return 'larger than 1 MiB; expected a JSON config file';
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? NO_SUCH_FILE : `cannot be read (${code ?? 'error'})`;
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConfigError([`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  const syntax = checkJsonSyntax(text);
  if (syntax.error) {
    const { line, column, reason } = syntax.error;
    throw new ConfigError([`${path}: not valid JSON at line ${line}, column ${column}: ${reason}`]);
  }
  const duplicates = syntax.duplicates.map(
    (d) => `${d.path}: duplicate key (line ${d.line}, column ${d.column}); JSON keeps only the last one`,
  );
  if (duplicates.length) throw new ConfigError(duplicates);
  const doc: unknown = JSON.parse(text);
  if (!isPlainObject(doc)) {
    const kind = Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`;
    throw new ConfigError([
      `${path}: the top level is ${kind}; expected a JSON object with sections such as proxmox, auth, mcp`,
    ]);
  }
  return doc;
}

// ---- sources: the same sections, read from the file (+ overrides) or from the environment ----

interface TargetSource {
  name: string;
  /** The target's own keys (description, read_only, allow_e2e); nothing for the single legacy target. */
  target: Section;
  proxmox: Section;
  auth: Section;
  /** allow_node_commands / node_command_patterns for this target. */
  nodeCommands?: Section;
}

interface Sources {
  source: AppConfig['source'];
  targets: TargetSource[];
  /** Appended to "missing host/credentials" messages: where the loader looked. */
  missingNote: string;
  /** A section that is always read: from the file (with its overriding variables) or from the environment. */
  section: (name: string) => Section;
  ssh?: Section;
  apiTunnel?: Section;
  /** The file's `auth.oauth` object (read with its MCP_OAUTH_* variables by parseOAuthConfig). */
  oauth?: unknown;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** The sections read in both modes (the rest are the targets, ssh and api_tunnel). */
const COMMON_SECTIONS = [
  LOGGING,
  MCP,
  HTTP,
  SECURITY,
  JOBS,
  COMMAND_POLICY,
  FILES,
  AUDIT,
  DOWNLOADS,
  METRICS,
  SAFETY,
].map((spec) => spec.name);

function fileSources(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  doc: Record<string, unknown>,
  path: string,
): Sources {
  for (const key of Object.keys(doc)) {
    if (!(FILE_SECTIONS as readonly string[]).includes(key)) {
      problems.add(key, `unknown section; allowed: ${FILE_SECTIONS.join(', ')}`);
    }
  }
  const fromFile = (name: string) => sectionFromFile(problems, env, doc[name], name, ALL_SECTIONS);
  const ssh = present(doc.ssh) ? fromFile(SSH.name) : undefined;
  const targets = fileTargets(problems, withoutOAuth(doc), env, ssh);
  const sections = new Map(COMMON_SECTIONS.map((name) => [name, fromFile(name)]));
  return {
    source: { kind: 'file', path },
    targets,
    missingNote: ` (config file ${path})`,
    section: (name) => sections.get(name)!,
    ssh,
    apiTunnel: present(doc.api_tunnel) ? fromFile(API_TUNNEL.name) : undefined,
    oauth: isPlainObject(doc.auth) ? doc.auth.oauth : undefined,
  };
}

const TARGET_NAME_RE = new RegExp(TARGET_NAME_PATTERN);

/** The document without `auth.oauth` (server settings, not the legacy target's credentials); `auth` goes if empty. */
function withoutOAuth(doc: Record<string, unknown>): Record<string, unknown> {
  if (!isPlainObject(doc.auth) || !Object.hasOwn(doc.auth, 'oauth')) return doc;
  const { oauth: _oauth, ...auth } = doc.auth;
  const { auth: _auth, ...rest } = doc;
  return Object.keys(auth).length > 0 ? { ...rest, auth } : rest;
}

/** `targets: {name: {...}}`, or the legacy top-level proxmox/auth as the target `default`. */
function fileTargets(
  problems: Problems,
  doc: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  ssh: Section | undefined,
): TargetSource[] {
  const nodeCommandsFromEnv = () => sectionFromEnv(env, NODE_COMMANDS.name, [NODE_COMMANDS]);
  if (!present(doc.targets)) {
    return [
      {
        name: 'default',
        // the legacy layout has no target keys (read_only, …): their defaults apply
        target: envSection(env, {}),
        proxmox: fileSection(problems, doc.proxmox, 'proxmox', ownKeys(PROXMOX)),
        auth: fileSection(problems, doc.auth, 'auth', ownKeys(AUTH)),
        nodeCommands: ssh ?? nodeCommandsFromEnv(),
      },
    ];
  }
  // with several targets, node commands are enabled per target: the shared ssh section and the variables
  // (which cannot name a target) would enable them everywhere at once
  for (const key of ownKeys(NODE_COMMANDS)) {
    const field = ssh?.get(key) ?? nodeCommandsFromEnv().get(key);
    if (field.value !== undefined) {
      problems.add(
        field.label,
        `not allowed together with targets; set targets.<name>.ssh.${key} on each target that allows node commands`,
      );
    }
  }
  for (const key of ['proxmox', 'auth']) {
    if (present(doc[key])) {
      problems.add(key, `not allowed together with targets; move it into targets.<name>.${key}`);
    }
  }
  const targetsField: Field = { label: 'targets', value: doc.targets, fromEnv: false, secret: false };
  const expected = 'an object mapping target names to {"proxmox": {...}, "auth": {...}}';
  if (!isPlainObject(doc.targets)) {
    problems.bad(targetsField, expected);
    return [];
  }
  const entries = Object.entries(doc.targets);
  if (entries.length === 0) problems.bad(targetsField, `at least one target: ${expected}`);
  const targets: TargetSource[] = [];
  for (const [name, entry] of entries) {
    const label = `targets.${name}`;
    if (!TARGET_NAME_RE.test(name)) {
      problems.add(
        label,
        `target name ${JSON.stringify(name)} is not allowed; expected 1-63 of A-Z a-z 0-9 _ . - (not starting with _ . -)`,
      );
    }
    if (!isPlainObject(entry)) {
      problems.bad(
        { label, value: entry, fromEnv: false, secret: false },
        `an object with keys ${ownKeys(TARGET).join(', ')}`,
      );
      continue;
    }
    targets.push({
      name,
      target: fileSection(problems, entry, label, ownKeys(TARGET)),
      proxmox: fileSection(problems, entry.proxmox, `${label}.proxmox`, ownKeys(PROXMOX)),
      auth: fileSection(problems, entry.auth, `${label}.auth`, ownKeys(AUTH)),
      nodeCommands: fileSection(problems, entry.ssh, `${label}.ssh`, ownKeys(NODE_COMMANDS)),
    });
  }
  return targets;
}

function envSources(env: NodeJS.ProcessEnv, note: string): Sources {
  const fromEnv = (name: string) => sectionFromEnv(env, name, ALL_SECTIONS);
  return {
    source: { kind: 'env' },
    targets: [
      {
        name: 'default',
        target: fromEnv(TARGET.name),
        proxmox: fromEnv(PROXMOX.name),
        auth: fromEnv(AUTH.name),
        nodeCommands: fromEnv(NODE_COMMANDS.name),
      },
    ],
    missingNote: ` (${note})`,
    section: fromEnv,
    // only its switch has a variable (PROXMOX_API_TUNNEL_ENABLED), checked so a reference setup fails loudly
    apiTunnel: fromEnv(API_TUNNEL.name),
  };
}

// ---- building the AppConfig ----

function buildConfig(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  paths: PathContext,
  src: Sources,
): AppConfig {
  // Where the loader looked is said once, with the first missing setting, not on every line.
  let told = false;
  const whereWeLooked = () => (told ? '' : ((told = true), src.missingNote));
  const ctx: ParseContext = { problems, paths, env, devMode: false, targetNames: [], whereWeLooked };
  const security = parseSection(SECURITY, src.section(SECURITY.name), ctx);
  ctx.devMode = security.devMode;
  const targets = src.targets.map((t) => parseTarget(t, ctx));
  ctx.targetNames = targets.map((t) => t.name);
  const ssh = src.ssh ? parseSection(SSH, src.ssh, ctx) : undefined;
  src.targets.forEach((t, i) => {
    if (!ssh && targets[i].nodeCommands && t.nodeCommands) {
      problems.add(
        t.nodeCommands.get('allow_node_commands').label,
        'got true, but there is no ssh section: node commands run over SSH, so the config file needs ssh ' +
          '(user, key_file or password, host_key_fingerprints or known_hosts_file)',
      );
    }
  });
  if (src.apiTunnel) parseSection(API_TUNNEL, src.apiTunnel, ctx);
  return {
    source: src.source,
    targets,
    logging: parseSection(LOGGING, src.section(LOGGING.name), ctx),
    mcp: parseSection(MCP, src.section(MCP.name), ctx),
    http: parseSection(HTTP, src.section(HTTP.name), ctx, src.section),
    security,
    jobs: parseSection(JOBS, src.section(JOBS.name), ctx),
    commandPolicy: parseSection(COMMAND_POLICY, src.section(COMMAND_POLICY.name), ctx),
    files: parseSection(FILES, src.section(FILES.name), ctx),
    audit: parseSection(AUDIT, src.section(AUDIT.name), ctx),
    downloads: parseSection(DOWNLOADS, src.section(DOWNLOADS.name), ctx),
    metrics: parseSection(METRICS, src.section(METRICS.name), ctx),
    safety: parseSection(SAFETY, src.section(SAFETY.name), ctx),
    ...(ssh ? { ssh } : {}),
    ...oauthPart(parseOAuthConfig(problems, env, src.oauth, security.devMode)),
  };
}

const oauthPart = (oauth: AppConfig['oauth']) => (oauth ? { oauth } : {});

function parseTarget(src: TargetSource, ctx: ParseContext): TargetConfig {
  return {
    name: src.name,
    ...parseSection(TARGET, src.target, ctx),
    ...(src.nodeCommands ? parseSection(NODE_COMMANDS, src.nodeCommands, ctx) : {}),
    ...parseSection(PROXMOX, src.proxmox, ctx),
    ...parseSection(AUTH, src.auth, ctx),
  };
}
