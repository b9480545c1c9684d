/**
 * The nginx router's lua mode (`router.mode: lua`): nginx never reloads for a traffic change.
 * open() writes the include file once (lua-include.ts); from then on prepare, preview, every
 * shift step, the switch and cleanup are one PUT of the routing table to nginx's loopback
 * control location, which stores it in a `lua_shared_dict` that every worker reads on its next
 * request. The table is then saved to the state file, which nginx loads when it starts again.
 * Needs lua-nginx-module (Debian: libnginx-mod-http-lua); docs/routers.md has the nginx.conf.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Slot, SlotTargets, Weights } from '../../shared/slot.js';
import { readOptional } from '../read-optional.js';
import { withSlotRetired } from '../retire-slot.js';
import type {
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import { NGINX_LUA_CAPABILITIES } from './capabilities.js';
import type { NginxRouterConfig } from './config.js';
import { initialIncludeState, parseIncludeState, type IncludeState } from './include-file.js';
import { LuaControlClient } from './lua-control.js';
import { renderLuaInclude, type LuaIncludeNames } from './lua-include.js';
import { firstError, NginxInstance } from './nginx-instance.js';
import { checkLuaTargets, parseRoutingTable, renderRoutingTable } from './routing-table.js';
import { stageFile } from '../staged-file.js';

export interface NginxLuaRouterDeps {
  logger: Logger;
  baseDir: string;
  /** Secret the preview header carries (`<slot>:<token>`), so live users cannot reach the idle slot. */
  previewToken: string;
}

/** What `nginx -t` says when the lua module is not loaded (or its file is missing). */
const MISSING_LUA_MODULE =
  /unknown directive "(lua_shared_dict|init_by_lua_block|init_worker_by_lua_block|log_by_lua_block|balancer_by_lua_block|content_by_lua_block)"|ngx_http_lua_module\.so|ndk_http_module\.so/;

export class NginxLuaRouter implements Router {
  private state: IncludeState = initialIncludeState();
  private readonly nginx: NginxInstance;
  private readonly control: LuaControlClient;
  private readonly names: LuaIncludeNames;
  private readonly logger: Logger;
  private readonly previewToken: string;

  constructor(
    private readonly config: NginxRouterConfig,
    deps: NginxLuaRouterDeps,
  ) {
    this.logger = deps.logger.child({ router: 'nginx', mode: 'lua' });
    this.nginx = new NginxInstance(config, deps.baseDir, this.logger);
    const includeFile = this.nginx.includeFile;
    const controlListen = config.controlListen;
    if (controlListen === undefined) {
      throw new CutoverError('CUTOVER_E_CONFIG', 'router.controlListen is required with router.mode: lua');
    }
    this.names = {
      prefix: config.upstream,
      previewHeader: config.previewHeader,
      keepalive: config.upstreamKeepalive,
      controlListen,
      tokenFile: path.resolve(deps.baseDir, config.controlTokenFile ?? `${includeFile}.token`),
      stateFile: path.resolve(deps.baseDir, config.stateFile ?? `${includeFile}.state`),
    };
    this.control = new LuaControlClient(controlListen, this.names.tokenFile);
    this.previewToken = deps.previewToken;
  }

  describe(): RouterDescription {
    return { kind: 'nginx', mode: 'lua', capabilities: NGINX_LUA_CAPABILITIES };
  }

  /**
   * Creates the control token if there is none, checks nginx takes the include file (a missing
   * lua module fails here), writes it if it changed, and reloads a running nginx once so it
   * loads it. Picks up the last applied table from the state file.
   */
  async open(): Promise<void> {
    const main = await this.nginx.readMainConfig();
    this.nginx.requireInclude(main);
    await this.ensureTokenFile();
    const content = renderLuaInclude(this.names);
    const existing = await readOptional(this.nginx.includeFile);
    if (existing !== content) await this.seedStateFromReloadMode(existing);
    const staged = stageFile(this.nginx.includeFile, content);
    try {
      await this.checkCandidate(staged.tempPath, main);
    } catch (error) {
      await staged.discard();
      throw error;
    }
    if (existing === content) {
      await staged.discard();
    } else {
      await staged.commit();
      this.logger.info('router.nginx.include-created', { file: this.nginx.includeFile });
      // The one reload of this mode: a running nginx must load the control location.
      const master = await this.nginx.masterPid();
      if (master !== undefined) await this.nginx.reload(master);
    }
    const saved = await readOptional(this.names.stateFile);
    const parsed = saved === undefined ? undefined : parseRoutingTable(saved);
    if (parsed !== undefined) this.state = parsed;
  }

  prepare(targets: SlotTargets): Promise<void> {
    return this.apply({ ...this.state, targets });
  }

  async preview(slot: Slot): Promise<PreviewRoute> {
    await this.apply({ ...this.state, preview: slot });
    const value = `${slot}:${this.previewToken}`;
    return { slot, url: this.config.url, headers: { [this.config.previewHeader]: value } };
  }

  async setWeights(weights: Weights): Promise<void> {
    await this.apply({ ...this.state, weights });
  }

  /** The table nginx's shared memory holds now: what every worker routes by. */
  async verify(): Promise<RouterObservation> {
    await this.nginx.requireMaster();
    const { table } = await this.control.read();
    if (table === null) {
      return {
        kind: 'unverifiable',
        reason: `nginx holds no routing table: nothing was applied since it started and ${this.names.stateFile} is missing`,
      };
    }
    return { kind: 'observed', weights: table.weights, targets: table.targets };
  }

  async drain(slot: Slot): Promise<void> {
    // Nothing to send: a slot without weight gets no new requests from the balancer, and its
    // requests in flight finish (drainStatus counts them).
    this.logger.info('router.nginx.drain', { slot, weight: this.state.weights[slot] });
    await Promise.resolve();
  }

  /**
   * Requests the balancer sent to `slot` that have not finished (counted in shared memory by
   * every worker). Each holds one upstream connection, so that is the connection count too;
   * idle keep-alive connections carry nothing and nginx closes them by itself.
   */
  async drainStatus(slot: Slot): Promise<DrainStatus> {
    await this.nginx.requireMaster();
    const { inFlight } = await this.control.read();
    // A worker that died mid-request never decrements; a fresh dict after a restart can go below 0.
    const count = Math.max(0, inFlight[slot]);
    return { kind: 'counted', inFlight: count, connections: count };
  }

  cleanup(slot: Slot): Promise<void> {
    return this.apply(withSlotRetired(this.state, slot));
  }

  close(): Promise<void> {
    // Nothing is held between calls; the guard layer (guarded-router.ts) lets every call
    // accepted before close() finish first.
    return Promise.resolve();
  }

  /** PUT the table (all workers use it from their next request), then save it for nginx's next start. */
  private async apply(next: IncludeState): Promise<void> {
    checkLuaTargets(next.targets);
    const table = renderRoutingTable(next, this.previewToken);
    await this.nginx.requireMaster();
    await this.control.write(table);
    await stageFile(this.names.stateFile, table, 0o600).commit();
    this.state = next;
  }

  /**
   * Switching a live nginx from the reload mode: its include file holds the table it serves.
   * Written as the state file before the reload, nginx's fresh shared dict starts from it, so
   * live traffic keeps its slot instead of finding no table.
   */
  private async seedStateFromReloadMode(previousInclude: string | undefined): Promise<void> {
    if (previousInclude === undefined || (await readOptional(this.names.stateFile)) !== undefined) return;
    const served = parseIncludeState(previousInclude);
    if (served === undefined) return;
    checkLuaTargets(served.targets);
    await stageFile(this.names.stateFile, renderRoutingTable(served, this.previewToken), 0o600).commit();
    this.logger.info('router.nginx.state-seeded-from-reload-mode', { file: this.names.stateFile });
  }

  private async checkCandidate(candidate: string, main: string): Promise<void> {
    const { code, output } = await this.nginx.test(candidate, main);
    if (code === 0) return;
    if (MISSING_LUA_MODULE.test(output)) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `router.mode lua needs nginx's lua module, which ${this.nginx.mainConfig} does not load (${firstError(output)}): ` +
          '`apt-get install libnginx-mod-http-lua`, then put `load_module modules/ndk_http_module.so;` and ' +
          '`load_module modules/ngx_http_lua_module.so;` at the top of it — or use router.mode: reload',
        { details: { output } },
      );
    }
    throw new CutoverError(
      'CUTOVER_E_ROUTER',
      `nginx rejected the lua mode include file: ${firstError(output)}`,
      {
        details: { output },
      },
    );
  }

  /** A fresh random token in a 0600 file, or the existing one if only its owner can read it. */
  private async ensureTokenFile(): Promise<void> {
    const file = this.names.tokenFile;
    const existing = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing === undefined) {
      await stageFile(file, `${randomBytes(32).toString('hex')}\n`, 0o600).commit();
      this.logger.info('router.nginx.control-token-created', { file });
      return;
    }
    if ((existing.mode & 0o077) !== 0) {
      throw new CutoverError(
        'CUTOVER_E_CONFIG',
        `${file} (the nginx control token) is readable by other users (mode ${(existing.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``,
      );
    }
  }
}
