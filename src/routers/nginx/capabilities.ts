import type { RouterCapabilities } from '../../shared/router.js';

/** What the nginx router can do in its reload mode (the default); config validation reads this before anything is opened. */
export const NGINX_CAPABILITIES = {
  atomic: true,
  weighted: true,
  preview: 'header',
  mirror: false,
  // The include file and the workers' start times are read back, not nginx's live upstreams
  // (open-source nginx cannot report those; nginx Plus can).
  verifiable: false,
  drainCounts: false,
} as const satisfies RouterCapabilities;

/**
 * The lua mode: the routing table lives in nginx's shared memory, so verify() reads back what
 * every worker uses, and the balancer counts in-flight requests per slot.
 */
export const NGINX_LUA_CAPABILITIES = {
  ...NGINX_CAPABILITIES,
  verifiable: true,
  drainCounts: true,
} as const satisfies RouterCapabilities;
