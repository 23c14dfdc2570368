import { writeFileSync } from 'node:fs';
import { runCli } from './cli.js';
import { ContainerModeError, healthFile, livezUrl, resolveContainerCommand } from './container-mode.js';

// The Docker image's ENTRYPOINT: PROXMOX_MCP_MODE (or a first argument) picks the server, then the plain CLI runs.
process.exitCode = await main(process.argv.slice(2));

async function main(args: string[]): Promise<number> {
  let command;
  try {
    command = resolveContainerCommand(args, process.env);
  } catch (error) {
    if (!(error instanceof ContainerModeError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const url = livezUrl(command);
  if (url) {
    try {
      writeFileSync(healthFile(process.env), `${url}\n`);
    } catch {
      // no writable /tmp: the healthcheck falls back to PROXMOX_MCP_MODE and the port variables
    }
  }
  return runCli(command.argv);
}
