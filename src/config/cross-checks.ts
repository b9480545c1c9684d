import { isIP } from 'node:net';
import {
  configuredRouterCapabilities,
  ROUTER_KIND_CAPABILITIES,
  ROUTER_KIND_LIMITS,
} from '../routers/capabilities.js';
import type { ListenAddress } from './fields.js';
import type { ExplainedIssue } from './issue-messages.js';
import type { ParsedConfig } from './schema.js';
import { endpointKindOf, PLATFORM_KIND_ENDPOINTS, type EndpointKindOf } from '../platforms/endpoint-kinds.js';
import { routesToEndpointKind, type RouterCapabilities } from '../shared/router.js';

/**
 * Checks that involve more than one key, run once the file has parsed. Each names the key a
 * user must change and says what to change it to.
 */
export function crossCheck(config: ParsedConfig): ExplainedIssue[] {
  return [
    ...checkStrategyFitsRouter(config),
    ...checkAdminExposure(config),
    ...checkPortClashes(config),
    ...checkEndpointFitsRouter(config),
    ...checkBuiltinAnalysisFitsRouter(config),
    ...checkShadowHasComparisons(config),
  ];
}

/** The shadow stage judges the builtin proxy's comparisons of mirrored copies: they must happen. */
function checkShadowHasComparisons(config: ParsedConfig): ExplainedIssue[] {
  if (config.analysis?.shadow === undefined) return [];
  const at = { path: ['analysis', 'shadow'], pointAt: 'key' as const };
  if (config.router.kind !== 'builtin') {
    return [
      {
        ...at,
        message: `the shadow comparison is done by the builtin proxy, and router.kind is "${config.router.kind}"; use router kind "builtin"`,
      },
    ];
  }
  const mirror = config.router.mirror;
  if (mirror?.compare === undefined || mirror.percent === 0) {
    return [
      {
        ...at,
        message:
          'nothing would be compared: set router.mirror.percent above 0 and router.mirror.compare (e.g. compare: { ignore: [$.timestamp] })',
      },
    ];
  }
  return [];
}

/**
 * The builtin analysis reads the router's per-slot counters: the builtin proxy's own, or
 * HAProxy's `show stat`; the other routers keep none that tell the slots apart.
 */
const ROUTERS_WITH_SLOT_TRAFFIC: ReadonlySet<string> = new Set(['builtin', 'haproxy']);

function checkBuiltinAnalysisFitsRouter(config: ParsedConfig): ExplainedIssue[] {
  if (ROUTERS_WITH_SLOT_TRAFFIC.has(config.router.kind)) return [];
  return (config.analysis?.providers ?? []).flatMap((provider, index) =>
    provider.kind === 'builtin'
      ? [
          {
            path: ['analysis', 'providers', index, 'kind'],
            pointAt: 'value' as const,
            message: `the builtin analysis reads the router's per-slot counters, which routers builtin and haproxy keep, and router.kind is "${config.router.kind}"; use one of those routers, or another analysis provider`,
          },
        ]
      : [],
  );
}

/**
 * A platform whose slot is a group (an Auto Scaling group …) needs a router that routes to that
 * kind of endpoint; a platform of host:port instances works with every router.
 */
export function checkEndpointFitsRouter(
  config: Pick<ParsedConfig, 'platform' | 'router'>,
  platformEndpoints: { readonly [kind: string]: EndpointKindOf | undefined } = PLATFORM_KIND_ENDPOINTS,
  routerCapabilities: { readonly [kind: string]: RouterCapabilities | undefined } = ROUTER_KIND_CAPABILITIES,
): ExplainedIssue[] {
  const endpointKind = endpointKindOf(config.platform, platformEndpoints);
  const capabilities = routerCapabilities[config.router.kind];
  if (endpointKind === undefined || !capabilities || routesToEndpointKind(capabilities, endpointKind))
    return [];
  const takers = Object.entries(routerCapabilities)
    .filter(([, row]) => row !== undefined && routesToEndpointKind(row, endpointKind))
    .map(([kind]) => kind);
  return [
    {
      path: ['router', 'kind'],
      pointAt: 'value',
      message: `each slot of platform.kind "${config.platform.kind}" is an endpoint of kind ${endpointKind}, which router.kind "${config.router.kind}" cannot route to; ${takers.length > 0 ? `use router kind ${takers.map((kind) => `"${kind}"`).join(' or ')}` : 'no router kind routes to it yet'}`,
    },
  ];
}

function checkStrategyFitsRouter(config: ParsedConfig): ExplainedIssue[] {
  const kind = config.router.kind;
  if (config.strategy.kind !== 'shift' || configuredRouterCapabilities(config.router).weighted) return [];
  const why = ROUTER_KIND_LIMITS[kind]?.weighted;
  return [
    {
      path: ['strategy', 'kind'],
      pointAt: 'value',
      message: `the ${kind} router cannot split traffic by weight${why ? ` (${why})` : ''}; use strategy kind "switch"`,
    },
  ];
}

/** Security by default: the admin API moves production traffic, so it stays on loopback unless asked. */
function checkAdminExposure(config: ParsedConfig): ExplainedIssue[] {
  const { host } = config.admin.listen;
  if (config.admin.allowRemote || isLoopback(host)) return [];
  return [
    {
      path: ['admin', 'listen'],
      pointAt: 'value',
      message: `${host} is not a loopback address; set admin.allowRemote: true to expose the admin API`,
    },
  ];
}

/** Two of cutover's own listeners on one port would fail at start-up with EADDRINUSE; say so now. */
function checkPortClashes(config: ParsedConfig): ExplainedIssue[] {
  const listeners: { path: string[]; address: ListenAddress }[] = [
    { path: ['admin', 'listen'], address: config.admin.listen },
  ];
  if (config.router.kind === 'builtin') {
    listeners.unshift({ path: ['router', 'listen'], address: config.router.listen });
  }
  if (config.router.kind === 'builtin' && config.router.previewListen) {
    listeners.push({ path: ['router', 'previewListen'], address: config.router.previewListen });
  }
  const issues: ExplainedIssue[] = [];
  listeners.forEach((later, index) => {
    const earlier = listeners.slice(0, index).find((other) => sharesPort(other.address, later.address));
    if (!earlier) return;
    issues.push({
      path: later.path,
      pointAt: 'value',
      message: `port ${later.address.port} is already used by ${earlier.path.join('.')}; give each listener its own port`,
    });
  });
  return issues;
}

function sharesPort(a: ListenAddress, b: ListenAddress): boolean {
  // Port 0 asks the OS for a free port, so two of them never clash.
  if (a.port === 0 || a.port !== b.port) return false;
  const wildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '';
  return a.host === b.host || wildcard(a.host) || wildcard(b.host);
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare.startsWith('::ffff:127.');
}
