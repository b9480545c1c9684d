import type { PlatformConfig } from '../config/schema.js';

/**
 * The kind of endpoint each platform kind's slots have (`PlatformDescription.endpointKind`),
 * known before anything is opened, so config validation can refuse a router that cannot route
 * to it. A platform kind without a row runs host:port instances, which every router takes.
 */
export const PLATFORM_KIND_ENDPOINTS: { readonly [K in PlatformConfig['kind']]?: string } = {
  'aws-asg': 'aws-asg',
};
