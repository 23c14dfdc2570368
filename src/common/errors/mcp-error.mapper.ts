import type { DomainError } from './domain-error.js';
import type { ErrorCode } from './error-codes.js';

/** What a model should do next, per error code. Exhaustive like httpStatusFor. */
function nextStepFor(code: ErrorCode): string {
  switch (code) {
    case 'VALIDATION':
      return 'Correct the arguments and call the tool again.';
    case 'NOT_FOUND':
    case 'UPSTREAM_NOT_FOUND':
      return 'Check the names and IDs (get_nodes, get_vms, get_containers list what exists).';
    case 'CONFLICT':
      return 'Inspect the current state and retry once it allows the operation.';
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return 'This caller is not allowed to do this; ask an operator.';
    case 'POLICY_DENIED':
      return 'The server policy refuses this; do not retry it unchanged.';
    case 'APPROVAL_REQUIRED':
      return 'A human operator must approve this operation first.';
    case 'FROZEN':
      return 'An operator has frozen every change on this server; read tools still work. Do not retry until an operator unfreezes (get_freeze_status shows the freeze).';
    case 'PROTECTED':
      return 'This guest is protected against this operation, whoever asks and with or without approval; only an operator can lift the protection in PVE or in the server configuration.';
    case 'PAYLOAD_TOO_LARGE':
      return 'Send a smaller request.';
    case 'RATE_LIMITED':
      return 'Wait a moment before calling again.';
    case 'UPSTREAM_AUTH':
    case 'UPSTREAM_FORBIDDEN':
    case 'UPSTREAM_TLS':
      return 'The server cannot use Proxmox as configured; an operator must fix the server configuration.';
    case 'UPSTREAM_REJECTED':
      return 'Proxmox rejected the request; adjust the arguments named in the error.';
    case 'UPSTREAM_UNAVAILABLE':
    case 'TIMEOUT':
    case 'UPSTREAM_ERROR':
    case 'UPSTREAM_PROTOCOL':
      return 'Proxmox did not answer properly; retry later or check the cluster health (get_cluster_status).';
    case 'STORE_UNAVAILABLE':
      return 'The server cannot record jobs right now, so it sent nothing to Proxmox; retry later or ask an operator to check the job store.';
    case 'JOB_FAILED':
      return 'The Proxmox task ran and failed; read its last_error (get_job shows the task log), fix the cause, then call again or retry_job.';
    case 'NOT_IMPLEMENTED':
      return 'This operation is not available on this server.';
    case 'INTERNAL':
      return 'Report the reference to the server operator.';
  }
}

/**
 * The text of a failed tool call (isError): what went wrong and what to do next. structuredContent goes with an
 * error only when it is the tool's own result (DomainError.structured: a waited-for job that failed), since
 * clients validate structuredContent against the tool's outputSchema.
 */
export function toolErrorText(error: DomainError): string {
  const hint = error.hint ?? nextStepFor(error.code);
  const errors = error.details?.errors;
  const fieldErrors =
    errors && typeof errors === 'object' && !Array.isArray(errors)
      ? `\nProxmox field errors: ${Object.entries(errors as Record<string, unknown>)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join('; ')}`
      : '';
  return `${error.code}: ${error.message}${fieldErrors}\n${hint}`;
}
