import type { RouterCapabilities } from '../router.js';

/** What the nginx router can do; config validation reads this before anything is opened. */
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
