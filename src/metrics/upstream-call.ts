/** What the client reports about one finished PVE call. `path` has no query string but still has its ids. */
export interface UpstreamCall {
  target: string;
  method: string;
  path: string;
  durationMs: number;
  /** The DomainError code of a failed call; `CANCELLED` when the caller gave up. Absent on success. */
  errorCode?: string;
}
