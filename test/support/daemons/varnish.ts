/**
 * A real varnishd for tests: its own temp dir (workdir, secret, boot VCL, VCL files), a
 * loopback listen port and admin port chosen at run time, running in the foreground (`-F`)
 * in its own process group so teardown stops the manager and its child together.
 *
 * The boot VCL is the file the router keeps in step with the active VCL, so a restarted
 * varnishd comes back serving what was live (the contract's "state survives a restart").
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isCutoverError } from '../../../src/shared/errors.js';
import { silentLogger, type Logger } from '../../../src/shared/logger.js';
import type { Weights } from '../../../src/shared/slot.js';
import { varnishRouterConfig, type VarnishRouterConfig } from '../../../src/routers/varnish/config.js';
import { createVarnishRouter } from '../../../src/routers/varnish/varnish-router.js';
import { backendHealth, listVcls } from '../../../src/routers/varnish/varnish-state.js';
import { varnishadm, type VarnishadmTarget } from '../../../src/routers/varnish/varnishadm.js';
import { VCL_NAME_PREFIX, parseVclState, renderVcl } from '../../../src/routers/varnish/vcl.js';
import type { Router } from '../../../src/shared/router.js';
import type { RouterHarness } from '../../routers/contract.js';
import { waitFor } from '../load.js';
import {
  canConnect,
  freePort,
  makeTempDir,
  requireBinary,
  startHarnessDaemon,
  type Daemon,
} from './common.js';

export interface VarnishHarnessOptions {
  /** Router config fields to override (probe, healthyTimeout …). */
  router?: Partial<Omit<VarnishRouterConfig, 'kind'>>;
  /** Extra `-p name=value` parameters for varnishd. */
  params?: Record<string, string>;
  logger?: Logger;
}

export interface VarnishHarness extends RouterHarness {
  dir: string;
  workdir: string;
  port: number;
  config: VarnishRouterConfig;
  /** The preview token the router was made with: `<slot>:<token>` in the preview header reaches that slot. */
  previewToken: string;
  /** Runs one varnishadm command against this varnishd. */
  admin(args: readonly string[]): Promise<string>;
  daemon(): Daemon | undefined;
  editConfigByHand(weights: Weights): Promise<void>;
  rejectNextConfig(): Promise<() => Promise<void>>;
}

const EMPTY_BOOT_VCL = 'vcl 4.1;\n\nbackend default none;\n';

export async function startVarnishHarness(options: VarnishHarnessOptions = {}): Promise<VarnishHarness> {
  const varnishd = requireBinary('varnishd', 'varnish');
  const varnishadmBinary = requireBinary('varnishadm', 'varnish');
  const varnishstat = requireBinary('varnishstat', 'varnish');
  const dir = await makeTempDir('varnish');
  const workdir = path.join(dir, 'work');
  const secretFile = path.join(dir, 'secret');
  const bootVcl = path.join(dir, 'boot.vcl');
  const port = await freePort();
  const adminPort = await freePort();
  await writeFile(secretFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  await writeFile(bootVcl, EMPTY_BOOT_VCL);

  const config = varnishRouterConfig.parse({
    kind: 'varnish',
    workdir,
    varnishadm: varnishadmBinary,
    varnishstat,
    url: `http://127.0.0.1:${port}`,
    vclDir: path.join(dir, 'vcl'),
    bootVcl,
    probe: { interval: '200ms', timeout: '1s' },
    healthyTimeout: '10s',
    ...options.router,
  });
  const admin: VarnishadmTarget = { binary: varnishadmBinary, workdir, timeoutMs: 10_000 };
  const previewToken = randomBytes(32).toString('base64url');
  const router: Router = createVarnishRouter(config, {
    logger: options.logger ?? silentLogger,
    baseDir: dir,
    previewToken,
  });

  const params = { vcl_cooldown: '5', ...options.params };
  const args = [
    '-F',
    '-n',
    workdir,
    '-a',
    `127.0.0.1:${port}`,
    '-T',
    `127.0.0.1:${adminPort}`,
    '-S',
    secretFile,
    '-f',
    bootVcl,
    '-s',
    'malloc,32m',
    // Tests run as root; varnishd's default jail would switch to a `varnish` user.
    '-j',
    'none',
    ...Object.entries(params).flatMap(([name, value]) => ['-p', `${name}=${value}`]),
  ];

  const daemon = await startHarnessDaemon(
    {
      name: 'varnishd',
      command: varnishd,
      args,
      logFile: path.join(dir, 'varnishd.out'),
      readyTimeoutMs: 20_000,
      // Serving, and the boot VCL's backends (if any) have passed their first probe.
      ready: async () => (await canConnect(port)) && (await bootBackendsHealthy(admin)),
    },
    { tempDir: dir, stopGraceMs: 10_000 },
  );

  return {
    router,
    publicUrl: `http://127.0.0.1:${port}/`,
    dir,
    workdir,
    port,
    config,
    previewToken,
    admin: (command) => varnishadm(admin, command),
    daemon: daemon.current,
    ...daemon.controls,
    editConfigByHand: async (weights: Weights) => {
      // What an operator would do: load a VCL of their own and vcl.use it.
      const active = (await listVcls(admin)).find((entry) => entry.status === 'active');
      if (active === undefined) throw new Error('varnishd has no active VCL');
      const state = parseVclState(await varnishadm(admin, ['vcl.show', active.name]));
      if (state === undefined) throw new Error(`the active VCL ${active.name} has no cutover state`);
      const file = path.join(dir, `hand-${Date.now()}.vcl`);
      await writeFile(
        file,
        renderVcl(
          { ...state, weights },
          {
            previewHeader: config.previewHeader,
            // A hand-made VCL with no preview route: the token is cutover's.
            previewToken: null,
            probe: {
              path: config.probe.path,
              intervalMs: config.probe.interval,
              timeoutMs: config.probe.timeout,
              window: config.probe.window,
              threshold: config.probe.threshold,
            },
          },
        ),
      );
      const name = path.basename(file, '.vcl');
      await varnishadm(admin, ['vcl.load', name, file]);
      await waitFor(async () => (await backendHealth(admin, name)).every((entry) => entry.healthy), {
        timeoutMs: 10_000,
        what: 'the hand-loaded VCL to pass its probes',
      });
      await varnishadm(admin, ['vcl.use', name]);
    },
    rejectNextConfig: async () => {
      // The VCL compiler fails until undone. The router's kept previous VCL is discarded too,
      // so the next change has to compile (going back to a loaded VCL needs no compiler).
      for (const entry of await listVcls(admin)) {
        if (entry.status !== 'active' && entry.name.startsWith(VCL_NAME_PREFIX)) {
          await varnishadm(admin, ['vcl.discard', entry.name]);
        }
      }
      await varnishadm(admin, ['param.set', 'cc_command', 'exec false %o %s']);
      return async () => {
        await varnishadm(admin, ['param.reset', 'cc_command']);
      };
    },
  };
}

async function bootBackendsHealthy(admin: VarnishadmTarget): Promise<boolean> {
  try {
    const active = (await listVcls(admin)).find((entry) => entry.status === 'active');
    if (active === undefined) return false;
    return (await backendHealth(admin, active.name)).every((entry) => entry.healthy);
  } catch (error) {
    // varnishd is not answering on its CLI yet: not ready.
    if (isCutoverError(error, 'CUTOVER_E_ROUTER')) return false;
    throw error;
  }
}
