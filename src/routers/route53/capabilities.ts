import type { RouterCapabilities } from '../../shared/router.js';
import { AWS_LOAD_BALANCER_ENDPOINT, DNS_NAME_ENDPOINT } from './slot-record-target.js';

/**
 * `mode: alias`: one record that names the live slot. Not atomic, although Route 53 applies a
 * change batch all or nothing: resolvers and clients keep the old answer for its TTL (and some
 * for much longer), so both slots take requests for a while after every move.
 */
export const ROUTE53_ALIAS_CAPABILITIES = {
  atomic: false,
  weighted: false,
  preview: 'none',
  mirror: false,
  // verify() reads the record sets back (ListResourceRecordSets) and the change's status.
  verifiable: true,
  // DNS cannot count who still holds a cached answer.
  drainCounts: false,
  endpointKinds: [AWS_LOAD_BALANCER_ENDPOINT, DNS_NAME_ENDPOINT],
} as const satisfies RouterCapabilities;

/** `mode: weighted`: one weighted record per slot, both changed in one batch. */
export const ROUTE53_WEIGHTED_CAPABILITIES = {
  ...ROUTE53_ALIAS_CAPABILITIES,
  weighted: true,
} as const satisfies RouterCapabilities;

export function route53Capabilities(mode: 'alias' | 'weighted'): RouterCapabilities {
  return mode === 'weighted' ? ROUTE53_WEIGHTED_CAPABILITIES : ROUTE53_ALIAS_CAPABILITIES;
}
