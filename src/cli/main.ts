import 'reflect-metadata';
import { runCli } from './cli.js';

// The `proxmox-mcp-plus` binary (bin/proxmox-mcp-plus.js imports this file).
process.exitCode = await runCli(process.argv.slice(2));
