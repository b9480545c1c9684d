import type { RouterConfig } from '../config/schema.js';
import { BUILTIN_CAPABILITIES } from './builtin/capabilities.js';
import { CADDY_CAPABILITIES } from './caddy/capabilities.js';
import { HAPROXY_CAPABILITIES } from './haproxy/capabilities.js';
import { NGINX_CAPABILITIES } from './nginx/capabilities.js';
import type { RouterCapabilities } from './router.js';
import { VARNISH_CAPABILITIES } from './varnish/capabilities.js';

export type RouterKind = RouterConfig['kind'];

/**
 * What each router kind can do, known before any router is opened, so config validation can
 * refuse a combination (e.g. `strategy.kind: shift` on a router without weights) up front.
 * Each row is the constant the router's describe() reports, kept in a small module of its own
 * so validating a config loads no router code.
 */
export const ROUTER_KIND_CAPABILITIES = {
  builtin: BUILTIN_CAPABILITIES,
  // Open-source nginx cannot report its live upstream state (that needs nginx Plus). This is
  // the reload mode, what any nginx can do; `mode: lua` adds verify and drain counts
  // (NGINX_LUA_CAPABILITIES, reported by its describe()).
  nginx: NGINX_CAPABILITIES,
  haproxy: HAPROXY_CAPABILITIES,
  // One VCL per step behind a random director; verify() reads vcl.list and the active VCL;
  // drain counts from varnishstat's per-backend connection gauges.
  varnish: VARNISH_CAPABILITIES,
  // Caddy 2.6 (Debian's) has no weighted upstream selection; that arrived in 2.7.
  caddy: CADDY_CAPABILITIES,
} as const satisfies Record<RouterKind, RouterCapabilities>;

/** Why a router kind lacks a capability, for error messages that say what to do instead. */
export const ROUTER_KIND_LIMITS: {
  readonly [K in RouterKind]?: { readonly [C in keyof RouterCapabilities]?: string };
} = {
  caddy: { weighted: 'Caddy 2.6 has no weighted upstreams' },
  nginx: { verifiable: 'open-source nginx cannot report its live upstreams (except in mode: lua)' },
};

export function routerKindCapabilities(kind: RouterKind): RouterCapabilities {
  return ROUTER_KIND_CAPABILITIES[kind];
}
