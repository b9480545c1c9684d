import type { RouterCapabilities } from '../../shared/router.js';

/** What the builtin router can do; config validation reads this before anything is opened. */
export const BUILTIN_CAPABILITIES = {
  atomic: true,
  weighted: true,
  // A preview header carrying a secret token, and a preview listener when previewListen is set.
  preview: 'header-and-port',
  mirror: true,
  // verify() reads back the table the proxy routes requests by.
  verifiable: true,
  drainCounts: true,
} as const satisfies RouterCapabilities;
