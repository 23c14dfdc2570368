/**
 * The approval a gated call needs, decided by the ApprovalGuard and settled once, at the call's first change
 * (approvalCheckpoint) or, if it never gets that far, when its handler returns. Settling consumes the presented
 * token or creates an approval request and throws APPROVAL_REQUIRED; every later settle() of the same call gives
 * the same outcome, so a refused call can make no change at all, whatever its service does with the error.
 */
export class DeferredApproval {
  private settled?: Promise<void>;

  /**
   * `needsApproval`: whether settling will ask for (or consume) an operator's approval, as opposed to only
   * recording an audit-only pass or a static token's use (a dry run's plan says so).
   */
  constructor(
    private readonly decide: () => Promise<void>,
    readonly needsApproval = true,
  ) {}

  /** Whether settle() was called (the call reached a change, or its handler returned). */
  get asked(): boolean {
    return this.settled !== undefined;
  }

  settle(): Promise<void> {
    this.settled ??= this.decide();
    return this.settled;
  }
}
