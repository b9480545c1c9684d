import type { RouterDescriptor } from './descriptor.js';
import { ROUTER_DESCRIPTORS, type RouterKind } from './descriptors.js';
import type { RouterCapabilities } from '../shared/router.js';

export type { RouterKind } from './descriptors.js';

/**
 * What each router kind can do, known before any router is opened, so config validation can
 * refuse a combination (e.g. `strategy.kind: shift` on a router without weights) up front.
 * Read from each folder's descriptor: nginx's row is its reload mode, what any nginx can do
 * (`mode: lua` adds verify and drain counts, reported by its describe()).
 */
export const ROUTER_KIND_CAPABILITIES = Object.fromEntries(
  Object.entries(ROUTER_DESCRIPTORS).map(([kind, descriptor]) => [kind, descriptor.capabilities]),
) as { readonly [K in RouterKind]: RouterCapabilities };

/** Why a router kind lacks a capability, for error messages that say what to do instead. */
export const ROUTER_KIND_LIMITS = Object.fromEntries(
  Object.entries(ROUTER_DESCRIPTORS).map(([kind, descriptor]) => [
    kind,
    (descriptor as RouterDescriptor).limits ?? {},
  ]),
) as { readonly [K in RouterKind]?: RouterDescriptor['limits'] };

export function routerKindCapabilities(kind: RouterKind): RouterCapabilities {
  return ROUTER_KIND_CAPABILITIES[kind];
}

/** What a router can do with its config: its mode may add to its kind's capabilities. */
export function configuredRouterCapabilities(config: { readonly kind: RouterKind }): RouterCapabilities {
  const descriptor = ROUTER_DESCRIPTORS[config.kind] as RouterDescriptor;
  return descriptor.configuredCapabilities?.(config) ?? descriptor.capabilities;
}
