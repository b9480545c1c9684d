/**
 * The Varnish router: one generated VCL per target state (vcl.ts). A move is: render → write
 * the file → `vcl.load <name> <file> warm` (a VCL that does not compile is refused here and the
 * active one keeps serving) → wait until the backends that will take traffic pass their probe
 * in the new VCL → `vcl.use <name>` (atomic: requests already running finish on the VCL they
 * started on) → rewrite the boot VCL → discard all but the active and the previous VCL.
 *
 * The previous VCL stays loaded and warm, so going back to it (a rollback) is one `vcl.use`
 * with its probes already passing.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { CutoverError, isCutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SLOTS, type Slot, type SlotTargets, type Weights } from '../../shared/slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { VARNISH_CAPABILITIES } from './capabilities.js';
import type { VarnishRouterConfig } from './config.js';
import {
  backendHealth,
  countBackendConnections,
  listenUrls,
  listVcls,
  type LoadedVcl,
} from './varnish-state.js';
import { VarnishCommandError, varnishadm, type VarnishadmTarget } from './varnishadm.js';
import { prepareVclDir, writeVclFile } from './vcl-file.js';
import {
  VCL_NAME_PREFIX,
  backendName,
  hashOfName,
  parseVclState,
  previewValue,
  renderVcl,
  vclHash,
  vclName,
  type VclOptions,
  type VclState,
} from './vcl.js';

export interface VarnishRouterDeps {
  logger: Logger;
  /** Relative paths in the config resolve against this (the cutover.yml directory). */
  baseDir: string;
  /** The preview header must carry exactly `<slot>:<token>`; anything else goes live. */
  previewToken: string;
}

const HEALTH_POLL_MS = 25;

export function createVarnishRouter(config: VarnishRouterConfig, deps: VarnishRouterDeps): Router {
  return new VarnishRouter(config, deps);
}

/** Live traffic before the first setWeights goes nowhere (varnish answers 503). */
type RouterState = VclState;

class VarnishRouter implements Router {
  private state: RouterState = { targets: { blue: [], green: [] }, weights: null };
  private readonly admin: VarnishadmTarget;
  private readonly workdir: string;
  private readonly vclDir: string;
  private readonly bootVcl: string | undefined;
  private readonly vclOptions: VclOptions;
  private readonly previewToken: string;
  private readonly logger: Logger;
  private publicUrl: string | undefined;

  constructor(
    private readonly config: VarnishRouterConfig,
    deps: VarnishRouterDeps,
  ) {
    const resolve = (file: string) => path.resolve(deps.baseDir, file);
    this.workdir = resolve(config.workdir);
    this.vclDir = resolve(config.vclDir ?? path.join(this.workdir, 'cutover-vcl'));
    this.bootVcl = config.bootVcl === undefined ? undefined : resolve(config.bootVcl);
    this.admin = {
      binary: config.varnishadm,
      workdir: this.workdir,
      adminAddress: config.adminAddress,
      secretFile: config.secretFile === undefined ? undefined : resolve(config.secretFile),
      timeoutMs: config.commandTimeout,
    };
    this.previewToken = deps.previewToken;
    this.vclOptions = {
      previewHeader: config.previewHeader,
      previewToken: deps.previewToken,
      probe: {
        path: config.probe.path,
        intervalMs: config.probe.interval,
        timeoutMs: config.probe.timeout,
        window: config.probe.window,
        threshold: config.probe.threshold,
      },
    };
    this.publicUrl = config.url?.replace(/\/$/, '');
    this.logger = deps.logger.child({ router: 'varnish' });
  }

  describe(): RouterDescription {
    return { kind: 'varnish', capabilities: VARNISH_CAPABILITIES };
  }

  /** Checks varnishd answers, and picks up the state of the active VCL if cutover wrote it. */
  async open(): Promise<void> {
    prepareVclDir(this.vclDir);
    const active = await this.activeVcl();
    if (active === undefined) return;
    const state = await this.readState(active.name);
    if (state !== undefined) {
      this.state = state;
      this.logger.info('varnish.adopted', { vcl: active.name, weights: state.weights });
    }
  }

  async prepare(targets: SlotTargets): Promise<void> {
    await this.apply({ targets, weights: this.state.weights });
  }

  async preview(slot: Slot): Promise<PreviewRoute> {
    const active = await this.apply(this.state);
    await this.waitHealthy(active, this.state.targets, [slot]);
    return {
      slot,
      url: await this.url(),
      headers: { [this.config.previewHeader]: previewValue(slot, this.previewToken) },
    };
  }

  async setWeights(weights: Weights): Promise<void> {
    await this.apply({ targets: this.state.targets, weights });
  }

  async verify(): Promise<RouterObservation> {
    const active = await this.activeVcl();
    if (active === undefined) return { kind: 'unverifiable', reason: 'varnishd reports no active VCL' };
    const state = await this.readState(active.name);
    if (state === undefined) {
      return {
        kind: 'unverifiable',
        reason: `the active VCL "${active.name}" was not written by cutover (a hand edit?); the next switch replaces it`,
      };
    }
    if (state.weights === null) {
      return { kind: 'unverifiable', reason: 'cutover has not sent live traffic to either slot yet' };
    }
    return { kind: 'observed', weights: state.weights, targets: state.targets };
  }

  /**
   * Nothing to do in varnishd: new requests already go elsewhere, and each request in flight
   * finishes on the VCL it started on. drainStatus() counts them.
   */
  drain(slot: Slot, options: DrainOptions): Promise<void> {
    this.logger.info('varnish.drain', { slot, deadline: options.deadline.toISOString() });
    return Promise.resolve();
  }

  async drainStatus(slot: Slot): Promise<DrainStatus> {
    try {
      const inFlight = await countBackendConnections(
        this.config.varnishstat,
        this.workdir,
        slot,
        this.config.commandTimeout,
      );
      // In pass mode each request in flight holds one backend connection: the two counts agree.
      return { kind: 'counted', inFlight, connections: inFlight };
    } catch (error) {
      if (!isCutoverError(error)) throw error;
      return { kind: 'unknown', reason: error.message };
    }
  }

  async cleanup(slot: Slot): Promise<void> {
    await this.apply({ ...this.state, targets: { ...this.state.targets, [slot]: [] } });
  }

  close(): Promise<void> {
    // Nothing is held between calls; the guard layer (guarded-router.ts) lets every call
    // accepted before close() finish first.
    return Promise.resolve();
  }

  /**
   * Makes varnishd serve `next`, unless the active VCL already is exactly that. Returns the
   * name of the active VCL.
   */
  private async apply(next: RouterState): Promise<string> {
    const vcl = this.render(next);
    const hash = vclHash(vcl);
    const loaded = await listVcls(this.admin);
    const active = loaded.find((entry) => entry.status === 'active');
    if (active !== undefined && hashOfName(active.name) === hash) {
      this.state = next;
      this.writeBootVcl(next);
      return active.name;
    }

    const liveSlots = SLOTS.filter((slot) => (next.weights?.[slot] ?? 0) > 0);
    // Going back to the previous VCL (a rollback) needs no compile: it is still loaded and warm.
    const reusable = loaded.find((entry) => entry.status === 'available' && hashOfName(entry.name) === hash);
    const name = reusable?.name ?? (await this.load(vcl, next));
    if (reusable !== undefined && reusable.temperature !== 'warm') {
      await varnishadm(this.admin, ['vcl.state', name, 'warm']);
    }
    try {
      await this.waitHealthy(name, next.targets, liveSlots);
    } catch (error) {
      if (reusable === undefined) await this.discard(name);
      throw error;
    }
    await varnishadm(this.admin, ['vcl.use', name]);
    this.state = next;
    this.logger.info('varnish.switched', { vcl: name, weights: next.weights, previous: active?.name });
    this.writeBootVcl(next);
    await this.prune(name, active);
    return name;
  }

  private async load(vcl: string, next: RouterState): Promise<string> {
    const name = vclName(vcl, next.weights ?? { blue: 0, green: 0 });
    const file = path.join(this.vclDir, `${name}.vcl`);
    prepareVclDir(this.vclDir);
    writeVclFile(file, vcl);
    try {
      // Loaded warm so its probes run now, before it takes traffic.
      await varnishadm(this.admin, ['vcl.load', name, file, 'warm']);
    } catch (error) {
      await rm(file, { force: true });
      if (error instanceof VarnishCommandError && /Permission denied/.test(error.output)) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `varnishd cannot read ${file}: its VCL compiler runs as the jail's user (Debian: vcache, group varnish) and the file is mode 0640 with the group of ${this.vclDir}; give that folder varnishd's group (\`chgrp varnish ${this.vclDir}\`, docs/routers.md)`,
          { cause: error },
        );
      }
      throw error;
    }
    return name;
  }

  /** Polls `backend.list` until every backend of `slots` passes its probe in `vcl`. */
  private async waitHealthy(vcl: string, targets: SlotTargets, slots: readonly Slot[]): Promise<void> {
    const wanted = new Set(
      slots.flatMap((slot) => targets[slot].map((_, index) => backendName(slot, index))),
    );
    if (wanted.size === 0) return;
    const deadline = Date.now() + this.config.healthyTimeout;
    for (;;) {
      const health = await backendHealth(this.admin, vcl);
      const healthy = new Set(health.filter((entry) => entry.healthy).map((entry) => entry.backend));
      const sick = [...wanted].filter((backend) => !healthy.has(backend));
      if (sick.length === 0) return;
      if (Date.now() > deadline) {
        const detail = new Map(health.map((entry) => [entry.backend, entry.detail]));
        const listed = sick
          .map((backend) => `${backend} (${detail.get(backend) ?? 'not listed'})`)
          .join(', ');
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `backends of ${slots.join(' and ')} did not pass the probe on ${this.config.probe.path} in VCL ${vcl} within ${this.config.healthyTimeout} ms: ${listed}`,
          { details: { vcl, sick } },
        );
      }
      await delay(HEALTH_POLL_MS);
    }
  }

  /** Discards every cutover VCL except the active one and the one it replaced. */
  private async prune(active: string, previous: LoadedVcl | undefined): Promise<void> {
    const keep = new Set([active, previous?.name]);
    const loaded = await listVcls(this.admin);
    for (const entry of loaded) {
      if (!entry.name.startsWith(VCL_NAME_PREFIX) || keep.has(entry.name) || entry.status === 'discarded')
        continue;
      await this.discard(entry.name);
    }
  }

  private async discard(name: string): Promise<void> {
    try {
      await varnishadm(this.admin, ['vcl.discard', name]);
      await rm(path.join(this.vclDir, `${name}.vcl`), { force: true });
    } catch (error) {
      // A VCL something still references stays; the next switch tries again.
      this.logger.warn('varnish.discard_failed', { vcl: name, error });
    }
  }

  private async activeVcl(): Promise<LoadedVcl | undefined> {
    return (await listVcls(this.admin)).find((entry) => entry.status === 'active');
  }

  /** The state in the VCL's header comment: also found in `boot` after varnishd restarts. */
  private async readState(vcl: string): Promise<RouterState | undefined> {
    return parseVclState(await varnishadm(this.admin, ['vcl.show', vcl]));
  }

  private render(state: RouterState): string {
    return renderVcl(state, this.vclOptions);
  }

  /**
   * The boot VCL serves live traffic only: it holds no preview token, so it keeps the mode and
   * place varnishd's packaging gives it (/etc/varnish, world-readable). After a restart of
   * varnishd the preview route opens again with the next preview().
   */
  private writeBootVcl(state: RouterState): void {
    if (this.bootVcl !== undefined) {
      writeFileAtomic(this.bootVcl, renderVcl(state, { ...this.vclOptions, previewToken: null }));
    }
  }

  private async url(): Promise<string> {
    if (this.publicUrl === undefined) {
      const [first] = await listenUrls(this.admin);
      if (first === undefined) {
        throw new CutoverError('CUTOVER_E_ROUTER', 'varnishd reports no listen address; set router.url');
      }
      this.publicUrl = first;
    }
    return this.publicUrl;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
