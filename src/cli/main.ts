import { runCli } from './cli.js';

// The `proxmox-mcp-plus` binary (bin/proxmox-mcp-plus.js imports this file). No reflect-metadata here: runCli
// loads it before any command that loads Nest, so that `stdio` can answer its client first.
process.exitCode = await runCli(process.argv.slice(2));
