/** A wrong command line: reportStartupError prints the message and the usage, and exits with 2. */
export class UsageError extends Error {}

export function parsePort(value: string, flag: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`${flag}: got "${value}"; expected a port 0-65535`);
  return port;
}
