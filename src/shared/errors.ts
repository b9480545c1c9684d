/**
 * Errors with stable codes. The code is part of the public contract (CLI --json output,
 * admin API bodies, docs); the message is for people and may change.
 */
export const ERROR_CODES = {
  CUTOVER_E_CONFIG: 'the configuration file is invalid',
  CUTOVER_E_USAGE: 'the command line is invalid',
  CUTOVER_E_LOCKED: 'another deployment holds the app lock',
  CUTOVER_E_NOT_FOUND: 'the named deployment, release or slot does not exist',
  CUTOVER_E_INVALID_STATE: 'the deployment is not in a state that allows this action',
  CUTOVER_E_PHASE_CHANGED:
    'the deployment moved to another phase while this action was deciding; read it again and retry',
  CUTOVER_E_HEALTH: 'instances did not pass their health check before the deadline',
  CUTOVER_E_SMOKE: 'the smoke test against the preview route failed',
  CUTOVER_E_HOOK: 'a hook command failed',
  CUTOVER_E_PROVISION: 'the platform could not start the instances',
  CUTOVER_E_ROUTER: 'the router refused or failed to apply a change',
  CUTOVER_E_VERIFY: 'the router reports something other than what was asked',
  CUTOVER_E_ABORTED: 'the deployment was aborted',
  CUTOVER_E_UNAUTHORIZED: 'the admin API token is missing or wrong',
  CUTOVER_E_BAD_REQUEST: 'the request body is malformed',
  CUTOVER_E_SERVER_UNREACHABLE: 'the cutover server could not be reached',
  CUTOVER_E_PORT_IN_USE: 'a port cutover needs is already in use',
  CUTOVER_E_STORE: 'the store could not be read or written',
  CUTOVER_E_INTERNAL: 'an unexpected internal error',
  CUTOVER_E_PROXY_EXCHANGE:
    'one proxied exchange threw; it and its connections were closed, the proxy serves on',
  CUTOVER_E_INTERRUPTED: 'a one-shot CLI was stopped by a signal; its deployment stays journaled and resumes',
  CUTOVER_E_ENGINE_UNREACHABLE: 'the container engine (Docker or podman) could not be reached',
  CUTOVER_E_BUILD: 'building the release image failed',
  CUTOVER_E_OOM: 'an instance was killed for running out of memory',
  CUTOVER_E_LEASE_LOST: 'the deployment lost the app lock to another holder and stopped where it was',
  CUTOVER_E_SERVER_RUNNING: 'another cutover server already runs on this state directory',
  CUTOVER_E_SHUTTING_DOWN: 'the server is shutting down; the deployment resumes at its next start',
  CUTOVER_E_INVALID_WEIGHTS: 'router weights must be whole percents from 0 to 100 adding up to 100',
  CUTOVER_E_EMPTY_SLOT: 'the move would send traffic or a preview to a slot with no instances',
  CUTOVER_E_SLOT_LIVE: 'the slot still takes live traffic',
  CUTOVER_E_ROUTER_CLOSED: 'the router was closed; open it again before moving traffic',
  CUTOVER_E_ENDPOINT_KIND:
    "the router cannot route to this kind of platform endpoint (not in its capabilities' endpointKinds)",
  CUTOVER_E_SSH_CONNECT: 'an SSH host could not be reached or refused the login',
  CUTOVER_E_SSH_HOST_KEY: 'an SSH host showed a key that is not the one in known_hosts',
  CUTOVER_E_FORBIDDEN: 'a dashboard request was refused: another origin, no CSRF token, or no session',
  CUTOVER_E_ANALYSIS:
    'an analysis provider judged the new release worse: it was rolled back (or the shift aborted)',
  CUTOVER_E_ANALYSIS_PROVIDER:
    'an analysis provider could not reach or read its source; its verdict is inconclusive',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CutoverErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts (lock holder, check name, file and line …). */
  details?: Record<string, unknown>;
}

export class CutoverError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: CutoverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isCutoverError(error: unknown, code?: ErrorCode): error is CutoverError {
  return error instanceof CutoverError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a CutoverError, keeping the original as `cause`. */
export function asCutoverError(error: unknown, fallback: ErrorCode = 'CUTOVER_E_INTERNAL'): CutoverError {
  if (error instanceof CutoverError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CutoverError(fallback, message, { cause: error });
}

/** Process exit codes a pipeline can act on. */
export const EXIT = {
  OK: 0,
  /** The deployment failed; traffic stayed on, or went back to, the old slot. */
  DEPLOY_FAILED: 1,
  /** Usage or configuration error: nothing was attempted. */
  USAGE: 2,
  /** The lock is held by another deployment: nothing was attempted. */
  LOCKED: 3,
  /** cutover itself could not do its job (server unreachable, store broken, router error). */
  INTERNAL: 4,
} as const;

export function exitCodeFor(error: CutoverError): number {
  switch (error.code) {
    case 'CUTOVER_E_CONFIG':
    case 'CUTOVER_E_USAGE':
    case 'CUTOVER_E_BAD_REQUEST':
    case 'CUTOVER_E_NOT_FOUND':
    case 'CUTOVER_E_INVALID_STATE':
    case 'CUTOVER_E_PORT_IN_USE':
    case 'CUTOVER_E_SERVER_RUNNING':
      return EXIT.USAGE;
    case 'CUTOVER_E_LOCKED':
    case 'CUTOVER_E_LEASE_LOST':
    // Someone else acted on the deployment at the same moment: as with the lock, nothing of
    // this call was applied and retrying after reading the new state is safe.
    case 'CUTOVER_E_PHASE_CHANGED':
      return EXIT.LOCKED;
    case 'CUTOVER_E_HEALTH':
    case 'CUTOVER_E_SMOKE':
    case 'CUTOVER_E_HOOK':
    case 'CUTOVER_E_PROVISION':
    case 'CUTOVER_E_VERIFY':
    case 'CUTOVER_E_ABORTED':
    case 'CUTOVER_E_BUILD':
    case 'CUTOVER_E_OOM':
    case 'CUTOVER_E_ANALYSIS':
      return EXIT.DEPLOY_FAILED;
    default:
      return EXIT.INTERNAL;
  }
}
