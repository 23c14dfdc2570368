import { spawn } from 'node:child_process';

/** The MCP Inspector release CI runs and docs/clients.md shows (an unpinned one may be too old for its flags). */
export const INSPECTOR_PACKAGE = '@modelcontextprotocol/inspector@2.12.0';

export interface NpxRun {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a third-party CLI the way CI does: `npx -y -p node@22 -p <package>... -- <args>`. The tools need Node 22
 * (the project runs on 20), so npx fetches both from the npm registry into its cache; nothing becomes a project
 * dependency. The first run on a fresh machine downloads them (tens of seconds): give the calling test a
 * generous timeout. Output is captured, never printed: callers write it to a log file under .tmp/.
 */
export function runNpxTool(
  packages: string[],
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<NpxRun> {
  const npxArgs = ['-y', '-p', 'node@22', ...packages.flatMap((p) => ['-p', p]), '--', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('npx', npxArgs, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Removes ANSI colour codes (some tools colour their output even with NO_COLOR set). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** npm's own chatter on stderr (EBADENGINE, unknown config) that says nothing about the tool's run. */
export function withoutNpmWarnings(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('npm warn'))
    .join('\n');
}
