/**
 * A deadline on every single AWS call. The SDK waits forever by default for an endpoint that
 * accepts the connection and never answers; with these options such a call fails (and is
 * retried within `maxAttempts`) instead of holding a move past every deadline.
 */
import { duration } from '../config/fields.js';

import { AWS_CALL_TIMEOUT_MS_DEFAULT } from './aws-call.js';

export { AWS_CALL_TIMEOUT_MS_DEFAULT };
/** Connecting takes a fraction of a call; an endpoint that does not accept within this is down. */
const CONNECT_TIMEOUT_MS_MAX = 10_000;

/** The `callTimeout` key of an AWS router's config. */
export const callTimeout = () =>
  duration()
    .default(AWS_CALL_TIMEOUT_MS_DEFAULT)
    .describe('How long one AWS call may take before it fails and is retried, e.g. "30s"');

/** Client constructor options: `new AutoScalingClient({ ...awsClientConfig(c), ...callTimeoutOptions(ms) })`. */
export function callTimeoutOptions(ms: number): {
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
} {
  return {
    requestHandler: {
      connectionTimeout: Math.min(ms, CONNECT_TIMEOUT_MS_MAX),
      requestTimeout: ms,
      throwOnRequestTimeout: true,
    },
  };
}
