/**
 * The routes cutover owns in one Caddy HTTP server, as Caddy JSON:
 *
 *   cutover-<server>-preview-blue   header <previewHeader>: blue  → blue's instances
 *   cutover-<server>-preview-green  header <previewHeader>: green → green's instances
 *
 * then, when a switch is a config change (switchBy: config):
 *
 *   cutover-<server>-live           everything else               → the live slot's instances
 *
 * or, when a switch is a marker file (switchBy: file, the default):
 *
 *   cutover-<server>-live-green     file <switchDir>/<server>.live-green exists → green's instances
 *   cutover-<server>-live-blue      file <switchDir>/<server>.live exists       → blue's instances
 *   cutover-<server>-live           everything else → 503 (no marker: no live slot yet)
 *
 * Caddy's `file` matcher stats its file on every request, so creating or removing the green
 * marker moves new requests without a config change (no reload, no client connection closed).
 * `.live` is created by the first move and never removed, so each request's slot is decided by
 * one stat of the green marker, and a switch is one atomic create or unlink. The config read
 * back says what each slot is; in file mode the markers say which one is live.
 */
import { SLOTS, type Slot, type SlotTargets, type Target } from '../../shared/slot.js';

export interface CaddyState {
  readonly targets: SlotTargets;
  /** null before the first move: the live route has no upstreams (Caddy answers 503). */
  readonly live: Slot | null;
}

export interface RouteNames {
  readonly server: string;
  /** Set when the live route is chosen by a marker file in this directory (switchBy: file). */
  readonly switchDir?: string;
  readonly previewHeader: string;
  /**
   * Appended to the slot name in the preview header value (`green:<token>`): Caddy's header
   * matcher compares it exactly (case-sensitive; the token has no `*` wildcard).
   */
  readonly previewToken: string;
}

export type CaddyRoute = Record<string, unknown> & { '@id'?: unknown };

export type RouteName = 'live' | Slot | `live-${Slot}`;

export function routeId(names: RouteNames, route: RouteName): string {
  return route === 'blue' || route === 'green'
    ? `cutover-${names.server}-preview-${route}`
    : `cutover-${names.server}-${route}`;
}

/** Every route id cutover may have written for this server, in either switch mode. */
function isOurs(names: RouteNames, id: unknown): boolean {
  return typeof id === 'string' && id.startsWith(`cutover-${names.server}-`);
}

/**
 * Marker files inside switchDir (switchBy: file): `armed` (`<server>.live`) exists once a slot
 * is live and means blue unless `green` (`<server>.live-green`) exists too.
 */
export function markerName(names: RouteNames, marker: 'armed' | 'green'): string {
  return marker === 'armed' ? `${names.server}.live` : `${names.server}.live-green`;
}

export function previewValue(slot: Slot, token: string): string {
  return `${slot}:${token}`;
}

export function dial(target: Pick<Target, 'host' | 'port'>): string {
  const host = target.host.replace(/^\[(.*)\]$/, '$1');
  return host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
}

function proxy(targets: readonly Target[], names: RouteNames): Record<string, unknown> {
  return {
    handler: 'reverse_proxy',
    upstreams: targets.map((target) => ({ dial: dial(target) })),
    // Every instance of the slot gets its share, in turn.
    load_balancing: { selection_policy: { policy: 'round_robin' } },
    headers: { request: { delete: [names.previewHeader] } },
  };
}

/** Our routes, preview routes first (they match a header; the live routes match the rest). */
export function renderRoutes(state: CaddyState, names: RouteNames): CaddyRoute[] {
  const previews = SLOTS.map((slot) => ({
    '@id': routeId(names, slot),
    match: [{ header: { [names.previewHeader]: [previewValue(slot, names.previewToken)] } }],
    handle: [proxy(state.targets[slot], names)],
    terminal: true,
  }));
  const switchDir = names.switchDir;
  if (switchDir === undefined) {
    const live = {
      '@id': routeId(names, 'live'),
      handle: [proxy(state.live === null ? [] : state.targets[state.live], names)],
      terminal: true,
    };
    return [...previews, live];
  }
  // Green's marker is checked first: its presence alone decides between the slots.
  const byMarker = (['green', 'blue'] as const).map((slot) => ({
    '@id': routeId(names, `live-${slot}`),
    match: [
      {
        file: { root: switchDir, try_files: [`/${markerName(names, slot === 'green' ? 'green' : 'armed')}`] },
      },
    ],
    handle: [proxy(state.targets[slot], names)],
    terminal: true,
  }));
  const noMarker = {
    '@id': routeId(names, 'live'),
    handle: [
      {
        handler: 'static_response',
        status_code: 503,
        body: `cutover: no live slot (no marker file in ${switchDir})`,
      },
    ],
    terminal: true,
  };
  return [...previews, ...byMarker, noMarker];
}

/**
 * The server's routes with ours replaced by `desired`. When ours are all there, each is
 * replaced in place (so a switch in config mode stays one targeted change); otherwise (a
 * server someone else made, a Caddy restarted without --resume, a change of switch mode) all
 * of ours are dropped and `desired` goes where the first of ours was, or first, so the cutover
 * routes are always reached and in their order.
 */
export function mergeRoutes(
  existing: readonly CaddyRoute[],
  desired: readonly CaddyRoute[],
  names: RouteNames,
): CaddyRoute[] {
  const ours = existing.filter((route) => isOurs(names, route['@id']));
  const sameSet =
    ours.length === desired.length &&
    desired.every((route) => ours.some((candidate) => candidate['@id'] === route['@id'])) &&
    ours.every((route, index) => route['@id'] === desired[index]?.['@id']);
  if (sameSet) {
    const byId = new Map(desired.map((route) => [route['@id'], route]));
    return existing.map((route) => byId.get(route['@id']) ?? route);
  }
  const first = existing.findIndex((route) => isOurs(names, route['@id']));
  const others = existing.filter((route) => !isOurs(names, route['@id']));
  const at =
    first === -1 ? 0 : existing.slice(0, first).filter((route) => !isOurs(names, route['@id'])).length;
  return [...others.slice(0, at), ...desired, ...others.slice(at)];
}

/** Upstream dial addresses of the route with `id`, or undefined if the route is absent. */
export function upstreamsOf(routes: readonly CaddyRoute[], id: string): string[] | undefined {
  const route = routes.find((candidate) => candidate['@id'] === id);
  if (route === undefined) return undefined;
  const handlers = Array.isArray(route.handle) ? (route.handle as unknown[]) : [];
  return handlers.flatMap((handler) => {
    if (typeof handler !== 'object' || handler === null) return [];
    const { handler: kind, upstreams } = handler as Record<string, unknown>;
    if (kind !== 'reverse_proxy' || !Array.isArray(upstreams)) return [];
    return upstreams.flatMap((upstream: unknown) => {
      const address = (upstream as { dial?: unknown } | null)?.dial;
      return typeof address === 'string' ? [address] : [];
    });
  });
}

export function routesOf(server: unknown): CaddyRoute[] {
  if (typeof server !== 'object' || server === null) return [];
  const { routes } = server as { routes?: unknown };
  return Array.isArray(routes)
    ? routes.filter((route): route is CaddyRoute => typeof route === 'object' && route !== null)
    : [];
}

/** JSON equality that ignores object key order (Caddy hands configs back with sorted keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
