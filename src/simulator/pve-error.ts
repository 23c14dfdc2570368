/**
 * An error the simulator answers the way PVE does: the status code, the message's first line as the HTTP reason
 * phrase and, for the JSON formatter, `{"data":null,"message":"<msg>\n","errors"?:{…}}` (proxmox-api.md §3-4).
 */
export class PveError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'PveError';
  }

  /** 400 "Parameter verification failed." with PVE's per-parameter `errors` (raise_param_exc). */
  static params(errors: Record<string, string>): PveError {
    return new PveError(400, 'Parameter verification failed.', errors);
  }

  /** 500: a plain `die` in a PVE handler. */
  static internal(message: string): PveError {
    return new PveError(500, message);
  }

  static notImplemented(message: string): PveError {
    return new PveError(501, message);
  }
}

/** PVE messages end in "\n" (they come from Perl `die`); the body keeps it, the reason phrase does not. */
export function bodyMessage(message: string): string {
  return message.endsWith('\n') ? message : `${message}\n`;
}

/**
 * The first line of the message, restricted to characters a reason phrase may carry, like PVE's
 * AnyEvent.pm (which cuts the message at its first newline).
 */
export function reasonPhrase(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  return firstLine.replace(/[^\x20-\x7e\t]/g, '?').slice(0, 512);
}
