/**
 * The Lambda entry point bundled by scripts/bundle-cfn-handler.ts: the region from the Lambda
 * environment (AWS_REGION), credentials from the function's role through the SDK's default
 * chain, and an optional CUTOVER_AWS_ENDPOINT (a VPC endpoint, or moto in tests).
 */
import { AWS_MAX_ATTEMPTS_DEFAULT } from '../aws/connection.js';
import { createSwitchHandler } from './switch-handler.js';

const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const endpoint = process.env.CUTOVER_AWS_ENDPOINT;

/** Lambda's log sink is stdout: one JSON line per event. */
function log(event: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

export const handler = createSwitchHandler({
  connection: {
    region,
    maxAttempts: AWS_MAX_ATTEMPTS_DEFAULT,
    ...(endpoint === undefined || endpoint === '' ? {} : { endpoint }),
  },
  log,
});
