import type { RouterCapabilities } from '../../shared/router.js';

/** What the Caddy router can do; config validation reads this before anything is opened. */
export const CADDY_CAPABILITIES = {
  atomic: true,
  // Caddy 2.6 has no weighted upstream selection (`weighted_round_robin` arrived in 2.7), so
  // the `shift` strategy is refused at config load.
  weighted: false,
  preview: 'header',
  mirror: false,
  // verify() reads the server's routes back through the admin API.
  verifiable: true,
  // The admin API's /reverse_proxy/upstreams reports num_requests per upstream address.
  drainCounts: true,
} as const satisfies RouterCapabilities;

/** Why the `shift` strategy cannot run on Caddy, for the config loader's message. */
export const CADDY_WEIGHTED_LIMIT =
  'Caddy 2.6 has no weighted upstreams: use strategy kind "switch" (atomic), or the builtin, nginx, HAProxy or Varnish router for "shift"';
