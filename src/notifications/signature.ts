import { createHmac } from 'node:crypto';

/**
 * `X-Cutover-Signature: sha256=<hex>` over `<timestamp>.<body>`: a receiver recomputes it with
 * the shared key and refuses a timestamp older than it tolerates, so a captured delivery cannot
 * be replayed later. Each attempt is signed afresh.
 */
export function signDelivery(key: Buffer, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}
