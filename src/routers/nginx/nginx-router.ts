/**
 * The nginx router. cutover owns one include file (upstreams + preview map, see
 * include-file.ts); every change is: render → stage next to the file → `nginx -t` against a
 * copy of the main config that includes the candidate → rename → SIGHUP the master → wait
 * until the old workers stopped accepting. A refused candidate never reaches the running
 * nginx. See docs/routers.md for the snippet nginx.conf must hold. This is the default
 * `mode: reload`; `mode: lua` (lua-mode.ts) changes traffic without reloading.
 */
import { stat } from 'node:fs/promises';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SLOTS, type Slot, type SlotTargets, type Weights } from '../../shared/slot.js';
import { readOptional } from '../read-optional.js';
import { withSlotRetired } from '../retire-slot.js';
import type {
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { NGINX_CAPABILITIES } from './capabilities.js';
import type { NginxRouterConfig } from './config.js';
import {
  initialIncludeState,
  parseIncludeState,
  parseUpstreamServers,
  renderInclude,
  type IncludeNames,
  type IncludeState,
} from './include-file.js';
import { NginxLuaRouter } from './lua-mode.js';
import { NginxInstance } from './nginx-instance.js';
import { listWorkers } from './nginx-process.js';
import { stageFile } from '../staged-file.js';

/** Slack for the 10 ms resolution of process start times. */
const START_TIME_SLACK_MS = 20;

export interface NginxRouterDeps {
  logger: Logger;
  /** Relative paths in the config resolve against this (the cutover.yml directory). */
  baseDir: string;
  /** The only value of the preview header that reaches the preview upstream (both modes). */
  previewToken: string;
}

/** The include file holds the preview token: nginx's master (root) reads it, nobody else. */
const INCLUDE_FILE_MODE = 0o600;

export function createNginxRouter(config: NginxRouterConfig, deps: NginxRouterDeps): Router {
  return config.mode === 'lua' ? new NginxLuaRouter(config, deps) : new NginxRouter(config, deps);
}

class NginxRouter implements Router {
  private state: IncludeState = initialIncludeState();
  private readonly nginx: NginxInstance;
  private readonly includeFile: string;
  private readonly names: IncludeNames;
  private readonly logger: Logger;

  constructor(
    private readonly config: NginxRouterConfig,
    deps: NginxRouterDeps,
  ) {
    this.logger = deps.logger.child({ router: 'nginx' });
    this.nginx = new NginxInstance(config, deps.baseDir, this.logger);
    this.includeFile = this.nginx.includeFile;
    this.names = {
      prefix: config.upstream,
      previewHeader: config.previewHeader,
      previewToken: deps.previewToken,
      keepalive: config.upstreamKeepalive,
    };
  }

  describe(): RouterDescription {
    return { kind: 'nginx', mode: 'reload', capabilities: NGINX_CAPABILITIES };
  }

  /** Checks nginx.conf includes our file and writes a first one if there is none. Needs no running nginx. */
  async open(): Promise<void> {
    const main = await this.nginx.readMainConfig();
    this.nginx.requireInclude(main);
    const existing = await readOptional(this.includeFile);
    const parsed = existing === undefined ? undefined : parseIncludeState(existing);
    if (parsed !== undefined) {
      this.state = parsed;
      // Written by an older cutover or with another token (an old map let any value in):
      // make the file and, when nginx runs, what it serves say what this router would.
      if (existing !== renderInclude(parsed, this.names)) await this.rewriteOnOpen(parsed, main);
      return;
    }
    const staged = stageFile(this.includeFile, renderInclude(this.state, this.names), INCLUDE_FILE_MODE);
    await this.nginx.validate(staged.tempPath, main).catch(async (error: unknown) => {
      await staged.discard();
      throw error;
    });
    await staged.commit();
    this.logger.info('router.nginx.include-created', { file: this.includeFile });
  }

  prepare(targets: SlotTargets): Promise<void> {
    return this.apply({ ...this.state, targets });
  }

  async preview(slot: Slot): Promise<PreviewRoute> {
    await this.apply({ ...this.state, preview: slot });
    return {
      slot,
      url: this.config.url,
      headers: { [this.config.previewHeader]: this.names.previewToken },
    };
  }

  async setWeights(weights: Weights): Promise<void> {
    await this.apply({ ...this.state, weights });
  }

  async verify(): Promise<RouterObservation> {
    const master = await this.nginx.requireMaster();
    const text = await readOptional(this.includeFile);
    if (text === undefined) return { kind: 'unverifiable', reason: `${this.includeFile} is missing` };
    const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
    const { mtimeMs } = await stat(this.includeFile);
    if (active.length === 0) return { kind: 'unverifiable', reason: `nginx (pid ${master}) has no workers` };
    if (active.some((worker) => worker.startedAtMs + START_TIME_SLACK_MS < mtimeMs)) {
      return {
        kind: 'unverifiable',
        reason: `${this.includeFile} changed after nginx last loaded it, so nginx serves something else; reload nginx or repeat the last move`,
      };
    }
    const servers = parseUpstreamServers(text, `${this.names.prefix}_live`);
    if (servers === undefined) {
      throw new CutoverError(
        'CUTOVER_E_VERIFY',
        `${this.includeFile} has no upstream ${this.names.prefix}_live`,
      );
    }
    const known = parseIncludeState(text)?.targets ?? this.state.targets;
    const totals: Record<Slot, number> = { blue: 0, green: 0 };
    for (const server of servers) {
      const slot = SLOTS.find((candidate) =>
        known[candidate].some((target) => `${target.host}:${target.port}` === server.address),
      );
      if (slot === undefined) {
        throw new CutoverError(
          'CUTOVER_E_VERIFY',
          `nginx sends live traffic to ${server.address}, which is in neither slot (${this.includeFile})`,
        );
      }
      totals[slot] += server.weight;
    }
    const sum = totals.blue + totals.green;
    if (sum === 0) return { kind: 'unverifiable', reason: 'the live upstream has no usable servers' };
    const blue = Math.round((100 * totals.blue) / sum);
    return { kind: 'observed', weights: { blue, green: 100 - blue } };
  }

  async drain(slot: Slot): Promise<void> {
    // Nothing to send: once the slot has no weight, reloaded nginx gives it no new requests and
    // the old workers finish theirs (bounded by nginx's own worker_shutdown_timeout).
    this.logger.info('router.nginx.drain', { slot, weight: this.state.weights[slot] });
    await Promise.resolve();
  }

  drainStatus(): Promise<DrainStatus> {
    return Promise.resolve({
      kind: 'unknown',
      reason: 'open-source nginx does not report in-flight requests per upstream (nginx Plus does)',
    });
  }

  cleanup(slot: Slot): Promise<void> {
    return this.apply(withSlotRetired(this.state, slot));
  }

  close(): Promise<void> {
    // Nothing is held between calls; the guard layer (guarded-router.ts) lets every call
    // accepted before close() finish first.
    return Promise.resolve();
  }

  /** Render, validate, swap in, reload, wait. A no-op when nginx already serves exactly this file. */
  private async apply(next: IncludeState): Promise<void> {
    const content = renderInclude(next, this.names);
    const master = await this.nginx.requireMaster();
    const previous = await readOptional(this.includeFile);
    if (previous === content && (await this.loadedByWorkers(master))) {
      this.state = next;
      return;
    }
    const staged = stageFile(this.includeFile, content, INCLUDE_FILE_MODE);
    try {
      await this.nginx.validate(staged.tempPath, await this.nginx.readMainConfig());
    } catch (error) {
      await staged.discard();
      throw error;
    }
    await staged.commit();
    try {
      await this.nginx.reload(master);
    } catch (error) {
      if (previous !== undefined) {
        const restore = stageFile(this.includeFile, previous, INCLUDE_FILE_MODE);
        await restore.commit();
      }
      throw error;
    }
    this.state = next;
  }

  /** open() found a file that differs from its own rendering: apply it, or just write it while nginx is down. */
  private async rewriteOnOpen(state: IncludeState, main: string): Promise<void> {
    if ((await this.nginx.masterPid()) !== undefined) {
      await this.apply(state);
    } else {
      const staged = stageFile(this.includeFile, renderInclude(state, this.names), INCLUDE_FILE_MODE);
      await this.nginx.validate(staged.tempPath, main).catch(async (error: unknown) => {
        await staged.discard();
        throw error;
      });
      await staged.commit();
    }
    this.logger.info('router.nginx.include-rewritten', { file: this.includeFile });
  }

  private async loadedByWorkers(master: number): Promise<boolean> {
    const { mtimeMs } = await stat(this.includeFile);
    const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
    return active.length > 0 && active.every((worker) => worker.startedAtMs + START_TIME_SLACK_MS >= mtimeMs);
  }
}
