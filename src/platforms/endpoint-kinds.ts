import type { PlatformConfig } from '../config/schema.js';
import { awsAsgEndpointKind } from './aws-asg/endpoint-kind.js';

/** A platform kind's endpoint kind: fixed, or depending on its config (aws-asg's mode). */
export type EndpointKindOf = string | ((platform: PlatformConfig) => string | undefined);

/**
 * The kind of endpoint each platform kind's slots have (`PlatformDescription.endpointKind`),
 * known before anything is opened, so config validation can refuse a router that cannot route
 * to it. A platform kind without a row runs host:port instances, which every router takes.
 */
export const PLATFORM_KIND_ENDPOINTS: { readonly [K in PlatformConfig['kind']]?: EndpointKindOf } = {
  // aws-asg: its group ('aws-asg'), or its own load balancer ('aws-load-balancer') in mode replica-stack.
  'aws-asg': (platform) => (platform.kind === 'aws-asg' ? awsAsgEndpointKind(platform) : undefined),
};

/** The endpoint kind of the configured platform's slots, if they have one. */
export function endpointKindOf(
  platform: PlatformConfig,
  table: { readonly [kind: string]: EndpointKindOf | undefined } = PLATFORM_KIND_ENDPOINTS,
): string | undefined {
  const row = table[platform.kind];
  return typeof row === 'function' ? row(platform) : row;
}
