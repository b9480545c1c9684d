import type { RouterCapabilities } from '../../shared/router.js';

/** What the HAProxy router can do; config validation reads this before anything is opened. */
export const HAPROXY_CAPABILITIES = {
  atomic: true,
  // `live` can point at a backend holding both slots' servers, weighted.
  weighted: true,
  preview: 'header',
  mirror: false,
  // verify() reads the map entry and the servers' state back through the runtime API.
  verifiable: true,
  // `show stat` reports sessions per server.
  drainCounts: true,
} as const satisfies RouterCapabilities;
