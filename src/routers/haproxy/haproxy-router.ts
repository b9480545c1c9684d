/**
 * The HAProxy router: everything goes through the runtime API (no reload), and the files
 * cutover owns (haproxy-files.ts) are rewritten after each change so a reload or restart keeps
 * it. An atomic switch is one `set map … live <slot backend>`: every new request after it sees
 * the new slot, none sees both. Weighted steps point `live` at a backend holding both slots.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { Mutex } from '../../shared/mutex.js';
import { SLOTS, type Slot, type SlotTargets, type Target, type Weights } from '../../shared/slot.js';
import type { SlotTraffic } from '../../shared/slot-traffic.js';
import { stageFile } from '../staged-file.js';
import { readOptional } from '../read-optional.js';
import { withSlotRetired } from '../retire-slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { runCommand } from '../run-command.js';
import { HAPROXY_CAPABILITIES } from './capabilities.js';
import { slotTrafficFromStat } from './slot-traffic.js';
import type { HaproxyRouterConfig } from './config.js';
import {
  backendNames,
  desiredServers,
  initialHaproxyState,
  liveBackend,
  parseHaproxyState,
  renderConfig,
  renderMap,
  renderPreviewTokenFile,
  slotOfServer,
  type BackendNames,
  type DesiredServer,
  type HaproxyState,
} from './haproxy-files.js';
import {
  HaproxyRuntime,
  inMaintenance,
  parseMap,
  parseServersState,
  parseStat,
  takesRequests,
  type ServerState,
} from './runtime-api.js';

const DEFAULT_URL = 'http://127.0.0.1:80';
const DEFAULT_PREVIEW_HEADER = 'x-cutover-preview';
/** Server positions declared per slot unless the config says otherwise. */
const DEFAULT_MAX_INSTANCES_PER_SLOT = 8;
/** `del server` waits for the server's last connection to go; this long at most. */
const DELETE_WAIT_MS = 5000;

export interface HaproxyRouterDeps {
  logger: Logger;
  /** Relative paths in the config resolve against this (the cutover.yml directory). */
  baseDir: string;
  /** The only value of the preview header that reaches the preview backend. */
  previewToken: string;
}

/** The preview token file: HAProxy's master (root, before it drops privileges) reads it, nobody else. */
const PREVIEW_TOKEN_FILE_MODE = 0o600;

export function createHaproxyRouter(config: HaproxyRouterConfig, deps: HaproxyRouterDeps): HaproxyRouter {
  return new HaproxyRouter(config, deps);
}

export class HaproxyRouter implements Router {
  private state: HaproxyState = initialHaproxyState();
  private readonly runtime: HaproxyRuntime;
  private readonly names: BackendNames;
  private readonly files: {
    config?: string;
    map?: string;
    serverState?: string;
    main?: string;
    previewToken?: string;
  };
  private readonly previewToken: string;
  private readonly previewHeader: string;
  private readonly logger: Logger;
  /** Server positions per slot declared in the config file (see serverName). */
  private readonly capacity: number;
  private readonly drainTimers = new Map<Slot, NodeJS.Timeout>();
  /**
   * The guard layer (guarded-router.ts) serializes the calls; this also orders the drain
   * deadline's session shutdown, which fires from a timer outside any call.
   */
  private readonly queue = new Mutex();
  /** Fingerprint of the last config `haproxy -c` accepted. */
  private lastValidated: string | undefined;

  constructor(
    private readonly config: HaproxyRouterConfig,
    deps: HaproxyRouterDeps,
  ) {
    const resolve = (file: string | undefined) =>
      file === undefined ? undefined : path.resolve(deps.baseDir, file);
    const configFile = resolve(config.configFile);
    this.files = {
      config: configFile,
      map: resolve(config.mapFile) ?? configFile?.replace(/(\.cfg)?$/, '.map'),
      serverState: resolve(config.serverStateFile),
      main: resolve(config.mainConfigFile),
      previewToken: resolve(config.previewTokenFile) ?? configFile?.replace(/(\.cfg)?$/, '-preview.acl'),
    };
    this.previewToken = deps.previewToken;
    this.previewHeader = config.previewHeader ?? DEFAULT_PREVIEW_HEADER;
    this.runtime = new HaproxyRuntime(path.resolve(deps.baseDir, config.socket));
    this.names = backendNames(config.backend, config.previewBackend);
    this.logger = deps.logger.child({ router: 'haproxy' });
    this.capacity = config.maxInstancesPerSlot ?? DEFAULT_MAX_INSTANCES_PER_SLOT;
  }

  describe(): RouterDescription {
    return { kind: 'haproxy', capabilities: HAPROXY_CAPABILITIES };
  }

  /** Reads the last state from the config file, or writes first files. Needs no running HAProxy. */
  open(): Promise<void> {
    return this.queue.run(async () => {
      const { config, map, previewToken } = this.requireFiles();
      // First: HAProxy cannot start without the file its frontend's preview rule reads.
      await this.writePreviewTokenFile(previewToken);
      const existing = await readOptional(config);
      const parsed = existing === undefined ? undefined : parseHaproxyState(existing);
      if (parsed !== undefined) {
        this.state = parsed;
        return;
      }
      await stageFile(map, renderMap(this.state, this.names)).commit();
      await stageFile(config, this.renderConfig(this.state)).commit();
      this.logger.info('router.haproxy.files-created', { config, map });
    });
  }

  prepare(targets: SlotTargets): Promise<void> {
    return this.queue.run(() => this.apply({ ...this.state, targets }));
  }

  preview(slot: Slot): Promise<PreviewRoute> {
    return this.queue.run(async () => {
      await this.apply({ ...this.state, preview: slot });
      await this.syncPreviewToken();
      return {
        slot,
        url: this.config.url ?? DEFAULT_URL,
        headers: { [this.previewHeader]: this.previewToken },
      };
    });
  }

  setWeights(weights: Weights): Promise<void> {
    return this.queue.run(async () => {
      for (const slot of SLOTS) if (weights[slot] > 0) this.cancelDrain(slot);
      await this.apply({ ...this.state, weights });
    });
  }

  verify(): Promise<RouterObservation> {
    return this.queue.run(async () => {
      const { map } = this.requireFiles();
      const live = parseMap(await this.runtime.send(`show map ${await this.mapReference(map)}`)).get('live');
      const servers = parseServersState(await this.runtime.send('show servers state'));
      const ready = (backend: string) =>
        servers.filter((server) => server.backend === backend && takesRequests(server));
      const targets: SlotTargets = {
        blue: ready(this.names.slot.blue).map(toTarget),
        green: ready(this.names.slot.green).map(toTarget),
      };
      if (live === this.names.slot.blue)
        return { kind: 'observed', weights: { blue: 100, green: 0 }, targets };
      if (live === this.names.slot.green)
        return { kind: 'observed', weights: { blue: 0, green: 100 }, targets };
      if (live !== this.names.weighted) {
        throw new CutoverError(
          'CUTOVER_E_VERIFY',
          `HAProxy's map ${map} sends live traffic to "${live ?? '(nothing)'}"`,
        );
      }
      const totals: Record<Slot, number> = { blue: 0, green: 0 };
      for (const server of ready(this.names.weighted)) {
        const slot = slotOfServer(server.name);
        if (slot !== undefined) totals[slot] += server.weight;
      }
      const sum = totals.blue + totals.green;
      if (sum === 0) {
        throw new CutoverError(
          'CUTOVER_E_VERIFY',
          `live traffic goes to ${live}, where no server takes requests`,
        );
      }
      const blue = Math.round((100 * totals.blue) / sum);
      return { kind: 'observed', weights: { blue, green: 100 - blue }, targets };
    });
  }

  /**
   * New requests already avoid a slot without weight; HAProxy lets in-flight ones finish. At
   * the deadline, whatever is still open on the slot's servers is shut, unless the slot took
   * traffic again meanwhile (a rollback).
   */
  drain(slot: Slot, options: DrainOptions): Promise<void> {
    return this.queue.run(async () => {
      if (this.state.weights[slot] > 0) {
        throw new CutoverError(
          'CUTOVER_E_INVALID_STATE',
          `cannot drain ${slot}: it still takes live traffic`,
        );
      }
      this.cancelDrain(slot);
      const timer = setTimeout(
        () => {
          this.drainTimers.delete(slot);
          this.queue
            .run(() => this.shutdownSessions(slot))
            .catch((error: unknown) =>
              this.logger.error('router.haproxy.drain-deadline-failed', { slot, error }),
            );
        },
        Math.max(0, options.deadline.getTime() - Date.now()),
      );
      timer.unref();
      this.drainTimers.set(slot, timer);
      await Promise.resolve();
    });
  }

  drainStatus(slot: Slot): Promise<DrainStatus> {
    return this.queue.run(async () => {
      const backends = new Set([this.names.slot[slot], this.names.weighted, this.names.preview]);
      const rows = parseStat(await this.runtime.send('show stat')).filter(
        (row) => backends.has(row.pxname ?? '') && slotOfServer(row.svname ?? '') === slot,
      );
      const sum = (key: string) => rows.reduce((total, row) => total + (Number(row[key]) || 0), 0);
      // Idle pooled server connections (idle_conn_cur) carry no request and HAProxy purges them
      // itself; counting them would hold a drain open for nothing.
      return { kind: 'counted', inFlight: sum('scur'), connections: sum('used_conn_cur') };
    });
  }

  /**
   * Each slot's traffic counters from `show stat` (slot-traffic.ts). Outside the change queue:
   * a read-only command, and analysis must not wait behind a long change.
   */
  async slotTraffic(): Promise<Record<Slot, SlotTraffic>> {
    const backends = new Set([this.names.weighted, this.names.slot.blue, this.names.slot.green]);
    return slotTrafficFromStat(parseStat(await this.runtime.send('show stat')), backends);
  }

  cleanup(slot: Slot): Promise<void> {
    return this.queue.run(async () => {
      const next = withSlotRetired(this.state, slot);
      this.cancelDrain(slot);
      await this.apply(next);
    });
  }

  async close(): Promise<void> {
    for (const slot of SLOTS) this.cancelDrain(slot);
    // An empty change: settles once every change queued before it has, failed or not.
    await this.queue.run(() => Promise.resolve());
  }

  private cancelDrain(slot: Slot): void {
    const timer = this.drainTimers.get(slot);
    if (timer !== undefined) clearTimeout(timer);
    this.drainTimers.delete(slot);
  }

  /**
   * Check the files in context → change the runtime → write the files. A single-slot target is
   * switched to first (one atomic map entry) and the weighted backend tidied after; a weighted
   * target gets its weights first and the map entry last, so live traffic never sees a half-made
   * backend.
   */
  private async apply(next: HaproxyState): Promise<void> {
    const { map } = this.requireFiles();
    const config = this.requireFiles().config;
    const stagedConfig = stageFile(config, this.renderConfig(next));
    try {
      await this.validate(stagedConfig.tempPath);
      const target = liveBackend(next, this.names);
      const singleSlot = target !== this.names.weighted;
      // Runtime first: a daemon that is down fails here, before any file changes.
      const current = parseServersState(await this.runtime.send('show servers state'));
      const mapRef = await this.mapReference(map);
      if (singleSlot) {
        await this.syncServers(current, next, [target]);
        await this.runtime.expect(`set map ${mapRef} live ${target}`);
        await this.syncServers(parseServersState(await this.runtime.send('show servers state')), next);
      } else {
        await this.syncServers(current, next);
        await this.runtime.expect(`set map ${mapRef} live ${target}`);
      }
      await this.dumpServerState();
      await stageFile(map, renderMap(next, this.names)).commit();
      await stagedConfig.commit();
      this.state = next;
    } finally {
      await stagedConfig.discard();
    }
  }

  /** Makes the runtime servers of `only` (default: every backend we own) match `next`. */
  private async syncServers(current: ServerState[], next: HaproxyState, only?: string[]): Promise<void> {
    for (const [backend, desired] of desiredServers(next, this.names, this.capacity)) {
      if (only !== undefined && !only.includes(backend)) continue;
      const existing = current.filter((server) => server.backend === backend);
      for (const server of existing) {
        if (!desired.some((wanted) => wanted.name === server.name))
          await this.deleteServer(backend, server.name);
      }
      for (const wanted of desired) {
        await this.syncServer(
          backend,
          wanted,
          existing.find((server) => server.name === wanted.name),
        );
      }
    }
  }

  private async syncServer(
    backend: string,
    wanted: DesiredServer,
    found: ServerState | undefined,
  ): Promise<void> {
    const id = `${backend}/${wanted.name}`;
    const target = wanted.target;
    if (found === undefined) {
      if (target === undefined) return; // a spare position HAProxy never had: nothing to point
      this.logger.warn('router.haproxy.server-added-at-runtime', {
        server: id,
        note: 'HAProxy 2.6 reuses no connections to runtime-added servers until a reload; raise maxInstancesPerSlot',
      });
      await this.runtime.expect(
        `add server ${id} ${target.host}:${target.port} weight ${wanted.weight}`,
        /New server registered/,
      );
      // Servers added at runtime start in maintenance.
      if (wanted.ready) await this.runtime.expect(`set server ${id} state ready`);
      return;
    }
    let isReady = !inMaintenance(found);
    if (target !== undefined && (found.address !== target.host || found.port !== target.port)) {
      // Through maintenance, so no request can ride an idle connection to the old address.
      if (isReady) await this.runtime.expect(`set server ${id} state maint`);
      isReady = false;
      await this.runtime.expect(
        `set server ${id} addr ${target.host} port ${target.port}`,
        /changed|no need|^$/,
      );
    }
    if (found.weight !== wanted.weight) await this.runtime.expect(`set server ${id} weight ${wanted.weight}`);
    if (wanted.ready && !isReady) await this.runtime.expect(`set server ${id} state ready`);
    if (!wanted.ready && isReady) await this.runtime.expect(`set server ${id} state maint`);
  }

  /** maint → shut its sessions → `del server`, which HAProxy refuses while connections remain. */
  private async deleteServer(backend: string, name: string): Promise<void> {
    const id = `${backend}/${name}`;
    await this.runtime.expect(`set server ${id} state maint`);
    await this.runtime.expect(`shutdown sessions server ${id}`);
    const deadline = Date.now() + DELETE_WAIT_MS;
    for (;;) {
      const answer = (await this.runtime.send(`del server ${id}`)).trim();
      if (/Server deleted/.test(answer)) return;
      if (Date.now() > deadline) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `HAProxy refused "del server ${id}": ${answer.split('\n')[0]}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async shutdownSessions(slot: Slot): Promise<void> {
    if (this.state.weights[slot] > 0) return;
    const servers = parseServersState(await this.runtime.send('show servers state'));
    for (const server of servers) {
      const ours = [this.names.slot[slot], this.names.weighted, this.names.preview].includes(server.backend);
      if (ours && slotOfServer(server.name) === slot) {
        await this.runtime.expect(`shutdown sessions server ${server.backend}/${server.name}`);
      }
    }
    this.logger.info('router.haproxy.drain-deadline', { slot });
  }

  /**
   * How to name our map in runtime commands: HAProxy knows a map by the path as spelled in its
   * config (`./cutover.map` is not `/etc/haproxy/cutover.map`), so find it in `show map` and
   * use its id, matching the exact path first, then the file name.
   */
  private async mapReference(map: string): Promise<string> {
    const loaded = [...(await this.runtime.send('show map')).matchAll(/^(-?\d+) \((.+?)\)/gm)].map(
      (match) => ({
        id: match[1] ?? '',
        file: match[2] ?? '',
      }),
    );
    const found =
      loaded.find((entry) => entry.file === map) ??
      loaded.find((entry) => path.basename(entry.file) === path.basename(map));
    if (found === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `HAProxy has no map ${map} loaded; its frontend needs \`use_backend %[str(live),map(${map})]\` (docs/routers.md)`,
      );
    }
    return `#${found.id}`;
  }

  /**
   * Makes HAProxy's loaded copy of the preview token file hold exactly the token (it read the
   * file at start; a token changed since, or an entry added by hand, is corrected here): the new
   * entry first, then the others go, so the rule never matches nothing in between.
   */
  private async syncPreviewToken(): Promise<void> {
    const { previewToken: file } = this.requireFiles();
    await this.writePreviewTokenFile(file);
    const loaded = [...(await this.runtime.send('show acl')).matchAll(/^(-?\d+) \((.*?)\)/gm)].map(
      (match) => ({ id: match[1] ?? '', file: match[2] ?? '' }),
    );
    const found =
      loaded.find((entry) => entry.file === file) ??
      loaded.find((entry) => entry.file !== '' && path.basename(entry.file) === path.basename(file));
    if (found === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `HAProxy has no ACL loaded from ${file}, so its preview rule does not check the preview token; the frontend needs \`use_backend ${this.names.preview} if { req.hdr(${this.previewHeader}) -m str -f ${file} }\` (docs/routers.md)`,
      );
    }
    const reference = `#${found.id}`;
    const patterns = (await this.runtime.send(`show acl ${reference}`))
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[1])
      .filter((pattern): pattern is string => pattern !== undefined);
    if (!patterns.includes(this.previewToken)) {
      await this.runtime.expect(`add acl ${reference} ${this.previewToken}`);
    }
    for (const pattern of new Set(patterns)) {
      if (pattern !== this.previewToken) await this.runtime.expect(`del acl ${reference} ${pattern}`);
    }
  }

  /** The token file as a reload or restart of HAProxy must find it; rewritten only when it differs. */
  private async writePreviewTokenFile(file: string): Promise<void> {
    const content = renderPreviewTokenFile(this.previewToken);
    if ((await readOptional(file)) !== content) {
      await stageFile(file, content, PREVIEW_TOKEN_FILE_MODE).commit();
    }
  }

  private async dumpServerState(): Promise<void> {
    if (this.files.serverState === undefined) return;
    const dump = await this.runtime.send('show servers state');
    await stageFile(this.files.serverState, dump).commit();
  }

  /**
   * `haproxy -c` on the main config (when known) plus the candidate. Skipped when neither the
   * main config nor the candidate's shape (servers, addresses; not weights) changed since the
   * last check passed, so a plain switch costs no process spawn.
   */
  private async validate(candidate: string): Promise<void> {
    const main = this.files.main === undefined ? '' : await readFile(this.files.main, 'utf8');
    const shape = (await readFile(candidate, 'utf8'))
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .map((line) => line.replace(/ weight \d+/, ''))
      .join('\n');
    const key = createHash('sha256').update(main).update('\0').update(shape).digest('hex');
    if (key === this.lastValidated) return;
    const args = ['-c', ...(this.files.main === undefined ? [] : ['-f', this.files.main]), '-f', candidate];
    // HAProxy resolves relative paths (maps, sockets, state file) against its working directory;
    // the main config's directory is where such a setup is started from.
    const cwd = path.dirname(this.files.main ?? this.requireFiles().config);
    const { code, output } = await runCommand(this.config.binary ?? 'haproxy', args, cwd);
    if (code !== 0) {
      const config = this.requireFiles().config;
      const reason = output
        .replaceAll(candidate, config)
        .split('\n')
        .find((line) => /ALERT/.test(line))
        ?.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, '')
        .trim();
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `HAProxy rejected the new config, the running one is unchanged: ${reason || output.trim().split('\n')[0] || `exit ${code}`}`,
        { details: { output } },
      );
    }
    this.lastValidated = key;
  }

  private renderConfig(state: HaproxyState): string {
    return renderConfig(state, this.names, {
      serverStateFile: this.files.serverState !== undefined,
      capacity: this.capacity,
      previewHeader: this.previewHeader,
    });
  }

  private requireFiles(): { config: string; map: string; previewToken: string } {
    const { config, map, previewToken } = this.files;
    if (config === undefined || map === undefined || previewToken === undefined) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        "router.configFile is required for haproxy: HAProxy must load cutover's backends from it (`haproxy -f haproxy.cfg -f <configFile>`)",
      );
    }
    return { config, map, previewToken };
  }
}

function toTarget(server: ServerState): Target {
  return { id: server.name, host: server.address, port: server.port };
}
