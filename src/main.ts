import 'reflect-metadata';
import { runCli } from './cli/cli.js';

// `node dist/src/main.js` behaves like `proxmox-mcp-plus` with no subcommand: the transport from the config.
process.exitCode = await runCli(process.argv.slice(2));
