import type { RouterCapabilities } from '../../shared/router.js';

/** What the Varnish router can do; config validation reads this before anything is opened. */
export const VARNISH_CAPABILITIES = {
  atomic: true,
  // A `directors.random()` director over the two slots' directors, one VCL per step.
  weighted: true,
  preview: 'header',
  mirror: false,
  // verify() reads `vcl.list` and the active VCL's source back from varnishd.
  verifiable: true,
  // varnishstat's per-backend `conn` gauge, summed over every VCL still holding the slot.
  drainCounts: true,
} as const satisfies RouterCapabilities;
