/**
 * The Caddy router: drives one HTTP server in Caddy 2.6's JSON config through the admin API.
 * Every change is read → merge our routes (server-routes.ts) → write back with `If-Match`
 * set to the ETag of what was read, so an edit someone made in between is never overwritten:
 * Caddy answers 412, and we read again and re-apply on top of it (a bounded number of times).
 * Caddy loads the new config as a whole or not at all: a refused change leaves the old one
 * serving, and its message comes back in a CUTOVER_E_ROUTER.
 *
 * A switch (switchBy: file, the default) writes no config: the live routes match on marker
 * files that Caddy checks on every request, and the switch creates the new slot's marker and
 * removes the old one. Any change to Caddy's config makes Caddy reload its HTTP app, and the
 * old app's http.Server.Shutdown closes every idle keep-alive client connection, so a client
 * sending its next request on one at that moment gets a reset; a marker switch has no reload.
 * With switchBy: config a switch is one PATCH of the live route's upstreams (and a reload).
 * Caddy 2.6 has no weights: anything but {0,100}/{100,0} is refused.
 */
import { mkdir, open as openFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  SLOTS,
  weightsAllOn,
  type Slot,
  type SlotTargets,
  type Target,
  type Weights,
} from '../../shared/slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { CaddyAdmin, CaddyConfigChangedError } from './caddy-admin.js';
import { CADDY_CAPABILITIES, CADDY_WEIGHTED_LIMIT } from './capabilities.js';
import type { CaddyRouterConfig } from './config.js';
import {
  dial,
  markerName,
  mergeRoutes,
  previewValue,
  renderRoutes,
  routeId,
  routesOf,
  sameJson,
  upstreamsOf,
  type CaddyRoute,
  type CaddyState,
  type RouteNames,
} from './server-routes.js';

export interface CaddyRouterDeps {
  logger: Logger;
  /** Relative paths in the config resolve against this (the cutover.yml directory). */
  baseDir: string;
  /** cutover's state directory; the default switchDir is `caddy` in it (else in baseDir/.cutover). */
  stateDir?: string;
  /** The preview header must carry exactly `<slot>:<token>`; anything else goes live. */
  previewToken: string;
}

export function createCaddyRouter(config: CaddyRouterConfig, deps: CaddyRouterDeps): Router {
  return new CaddyRouter(config, deps);
}

/** The ancestors of a server in Caddy's config, from the root down. */
const SERVER_PARENTS = ['apps', 'http', 'servers'] as const;

class CaddyRouter implements Router {
  private state: CaddyState = { targets: { blue: [], green: [] }, live: null };
  private readonly admin: CaddyAdmin;
  private readonly names: RouteNames;
  private readonly serverPath: string;
  private readonly logger: Logger;

  constructor(
    private readonly config: CaddyRouterConfig,
    deps: CaddyRouterDeps,
  ) {
    this.admin = new CaddyAdmin(config.adminUrl, config.requestTimeout);
    const switchDir =
      config.switchBy === 'file'
        ? path.resolve(
            deps.baseDir,
            config.switchDir ?? path.join(deps.stateDir ?? path.join(deps.baseDir, '.cutover'), 'caddy'),
          )
        : undefined;
    this.names = {
      server: config.server,
      previewHeader: config.previewHeader,
      previewToken: deps.previewToken,
      switchDir,
    };
    this.serverPath = `${SERVER_PARENTS.join('/')}/${config.server}`;
    this.logger = deps.logger.child({ router: 'caddy', server: config.server });
  }

  describe(): RouterDescription {
    return { kind: 'caddy', capabilities: CADDY_CAPABILITIES };
  }

  /** Checks the admin API answers, and picks up the state of our routes if they are there. */
  async open(): Promise<void> {
    const { value } = await this.admin.read(this.serverPath);
    const seen = this.observe(routesOf(value), await this.markedSlot());
    if (seen !== undefined) {
      this.state = seen;
      this.logger.info('caddy.adopted', { live: seen.live });
    }
  }

  async prepare(targets: SlotTargets): Promise<void> {
    await this.apply({ targets, live: this.state.live });
  }

  async preview(slot: Slot): Promise<PreviewRoute> {
    // Puts the routes back if Caddy lost them (restarted without --resume).
    await this.apply(this.state);
    return {
      slot,
      url: this.url(),
      headers: { [this.config.previewHeader]: previewValue(slot, this.names.previewToken) },
    };
  }

  async setWeights(weights: Weights): Promise<void> {
    await this.apply({ ...this.state, live: atomicSlot(weights) });
  }

  async verify(): Promise<RouterObservation> {
    const { value } = await this.admin.read(this.serverPath);
    if (value === null) {
      return {
        kind: 'unverifiable',
        reason: `Caddy's config has no server "${this.config.server}" (was Caddy restarted without --resume?); the next change puts it back`,
      };
    }
    const routes = routesOf(value);
    const marked = await this.markedSlot();
    if (this.names.switchDir !== undefined && marked === null) {
      return {
        kind: 'unverifiable',
        reason: `no live marker file in ${this.names.switchDir}: Caddy answers 503 to live traffic`,
      };
    }
    const live = this.liveUpstreams(routes, marked);
    if (live === undefined) {
      return { kind: 'unverifiable', reason: `server "${this.config.server}" has no cutover live route` };
    }
    const seen = this.observe(routes, marked);
    if (seen === undefined || seen.live === null) {
      return {
        kind: 'unverifiable',
        reason: `the live route sends to [${live.join(', ')}], which is neither slot's instances`,
      };
    }
    return { kind: 'observed', weights: weightsAllOn(seen.live), targets: seen.targets };
  }

  /** Nothing to do in Caddy: the live route already sends new requests elsewhere. */
  drain(slot: Slot, options: DrainOptions): Promise<void> {
    this.logger.info('caddy.drain', { slot, deadline: options.deadline.toISOString() });
    return Promise.resolve();
  }

  /**
   * Caddy counts requests in flight per upstream address across config reloads, so requests
   * still running on a replaced config count too. Caddy reports no connection counts; each
   * request in flight holds one upstream connection, so the two numbers agree.
   */
  async drainStatus(slot: Slot): Promise<DrainStatus> {
    const addresses = new Set(this.state.targets[slot].map(dial));
    const upstreams = await this.admin.upstreams();
    const inFlight = upstreams
      .filter((upstream) => addresses.has(upstream.address))
      .reduce((sum, upstream) => sum + upstream.numRequests, 0);
    return { kind: 'counted', inFlight, connections: inFlight };
  }

  async cleanup(slot: Slot): Promise<void> {
    await this.apply({ ...this.state, targets: { ...this.state.targets, [slot]: [] } });
  }

  close(): Promise<void> {
    // Nothing is held between calls; the guard layer (guarded-router.ts) lets every call
    // accepted before close() finish first.
    return Promise.resolve();
  }

  /** Read, merge, write with If-Match; again on a concurrent edit, up to conflictRetries times. */
  private async apply(next: CaddyState): Promise<void> {
    const desired = renderRoutes(next, this.names);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.applyOnce(desired);
        // The config holds both slots' routes before a marker moves (switchBy: file).
        if (next.live !== null) await this.placeMarker(next.live);
        this.state = next;
        return;
      } catch (error) {
        if (!(error instanceof CaddyConfigChangedError) || attempt >= this.config.conflictRetries)
          throw error;
        this.logger.warn('caddy.concurrent_edit', { attempt: attempt + 1, error: error.message });
      }
    }
  }

  private async applyOnce(desired: readonly CaddyRoute[]): Promise<void> {
    const { value: server, etag } = await this.admin.read(this.serverPath);
    if (server === null) {
      await this.createServer(desired, etag);
      return;
    }
    const existing = routesOf(server);
    const merged = mergeRoutes(existing, desired, this.names);
    if (sameJson(merged, existing)) return;
    const changed = merged.flatMap((route, index) => (sameJson(route, existing[index]) ? [] : [index]));
    const [only] = changed;
    if (merged.length === existing.length && changed.length === 1 && only !== undefined) {
      // One route differs (a switch, or one slot prepared): the most targeted change there is.
      await this.admin.write('PATCH', `${this.serverPath}/routes/${only}`, merged[only], etag);
    } else {
      // PATCH replaces the array (POST would append to it); POST creates a missing `routes`.
      const method = Array.isArray((server as { routes?: unknown }).routes) ? 'PATCH' : 'POST';
      await this.admin.write(method, `${this.serverPath}/routes`, merged, etag);
    }
    this.logger.info('caddy.applied', { routes: changed.length });
  }

  /** Creates the server (and any missing parent object) with our routes and `listen`. */
  private async createServer(routes: readonly CaddyRoute[], etag: string | undefined): Promise<void> {
    if (this.config.listen === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `Caddy's config has no server "${this.config.server}" and router.listen is not set, so cutover cannot create it`,
      );
    }
    let value: unknown = {
      listen: [this.config.listen],
      routes,
      // cutover's server speaks plain HTTP on the port it is given; TLS is the operator's.
      automatic_https: { disable: true },
    };
    // Find the deepest parent that exists, and create the rest below it in one write.
    const keys = [...SERVER_PARENTS, this.config.server];
    let at = '';
    for (let depth = keys.length - 1; depth >= 0; depth--) {
      const parent = await this.admin.read(keys.slice(0, depth).join('/'));
      if (parent.value !== null) {
        at = keys.slice(0, depth + 1).join('/');
        break;
      }
      value = { [keys[depth] ?? '']: value };
    }
    // `at` stays '' only when Caddy runs with no config at all: then this is the whole config.
    await this.admin.write('POST', at, value, etag);
    this.logger.info('caddy.server_created', { listen: this.config.listen });
  }

  /**
   * Makes `slot` the live one by the marker files: `.live` is created by the first move and
   * stays; then going to green creates `.live-green` and going to blue removes it. Each is one
   * atomic filesystem step, and Caddy decides each request with one stat of `.live-green`, so
   * no request can find no live slot in the middle of a switch.
   */
  private async placeMarker(slot: Slot): Promise<void> {
    const dir = this.names.switchDir;
    if (dir === undefined) return;
    try {
      await mkdir(dir, { recursive: true });
      await touch(path.join(dir, markerName(this.names, 'armed')));
      const green = path.join(dir, markerName(this.names, 'green'));
      if (slot === 'green') await touch(green);
      else await rm(green, { force: true });
      // The markers are the record of which slot is live: make their names durable.
      const directory = await openFile(dir, 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot move Caddy's live marker to ${slot} in ${dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.logger.info('caddy.marker', { live: slot });
  }

  /** The slot the marker files make live (as Caddy reads them); undefined in config mode. */
  private async markedSlot(): Promise<Slot | null | undefined> {
    const dir = this.names.switchDir;
    if (dir === undefined) return undefined;
    if (await exists(path.join(dir, markerName(this.names, 'green')))) return 'green';
    if (await exists(path.join(dir, markerName(this.names, 'armed')))) return 'blue';
    return null;
  }

  /** Upstreams of the route live traffic takes now, or undefined when that route is missing. */
  private liveUpstreams(
    routes: readonly CaddyRoute[],
    marked: Slot | null | undefined,
  ): string[] | undefined {
    if (marked === undefined) return upstreamsOf(routes, routeId(this.names, 'live'));
    const blue = upstreamsOf(routes, routeId(this.names, 'live-blue'));
    const green = upstreamsOf(routes, routeId(this.names, 'live-green'));
    if (blue === undefined || green === undefined) return undefined;
    if (marked === null) return [];
    return marked === 'blue' ? blue : green;
  }

  /** What our routes (and, in file mode, the marker) say, or undefined when they are not all there. */
  private observe(routes: readonly CaddyRoute[], marked: Slot | null | undefined): CaddyState | undefined {
    const live = this.liveUpstreams(routes, marked);
    const blue = upstreamsOf(routes, routeId(this.names, 'blue'));
    const green = upstreamsOf(routes, routeId(this.names, 'green'));
    if (live === undefined || blue === undefined || green === undefined) return undefined;
    const targets = { blue: this.targetsAt('blue', blue), green: this.targetsAt('green', green) };
    const matches = SLOTS.filter((slot) => sameSet(live, targets[slot].map(dial)));
    // When both slots hold the same addresses, the slot we last asked for is the answer.
    const liveSlot =
      live.length === 0
        ? null
        : matches.length === 1
          ? (matches[0] ?? null)
          : matches.length === 2 && this.state.live !== null
            ? this.state.live
            : undefined;
    if (liveSlot === undefined) return { targets, live: null };
    return { targets, live: liveSlot };
  }

  /** Targets for the addresses Caddy holds, keeping the ids we know. */
  private targetsAt(slot: Slot, addresses: readonly string[]): Target[] {
    return addresses.map((address) => {
      const known = this.state.targets[slot].find((target) => dial(target) === address);
      if (known !== undefined) return known;
      const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
      return { id: address, host: match?.[1] ?? address, port: Number(match?.[2] ?? 0) };
    });
  }

  private url(): string {
    if (this.config.url !== undefined) return this.config.url.replace(/\/$/, '');
    const listen = this.config.listen ?? '';
    const match = /^(?:[a-z]+\/)?(.*):(\d+)$/.exec(listen);
    if (match === null) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        'set router.url: cutover cannot tell where Caddy serves the app',
      );
    }
    const host = match[1] === '' || match[1] === '0.0.0.0' ? '127.0.0.1' : (match[1] ?? '127.0.0.1');
    return `http://${host}:${match[2] ?? ''}`;
  }
}

/** The slot that takes all traffic; Caddy 2.6 can do nothing else. */
function atomicSlot(weights: Weights): Slot {
  if (weights.blue === 100 && weights.green === 0) return 'blue';
  if (weights.blue === 0 && weights.green === 100) return 'green';
  throw new CutoverError(
    'CUTOVER_E_ROUTER',
    `cannot split traffic blue ${weights.blue} / green ${weights.green}: ${CADDY_WEIGHTED_LIMIT}`,
  );
}

/** Creates an empty file if it is not there; leaves it alone if it is. */
async function touch(file: string): Promise<void> {
  const handle = await openFile(file, 'a');
  await handle.close();
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CutoverError('CUTOVER_E_ROUTER', `cannot read Caddy's live marker ${file}: ${String(error)}`, {
      cause: error,
    });
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
}
