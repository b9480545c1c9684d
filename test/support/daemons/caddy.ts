/**
 * A real Caddy 2.6 for tests: its own temp dir (config file, HOME and XDG dirs, so nothing is
 * written to the real home), its admin API and its served port on loopback ports chosen at run
 * time, running in the foreground in its own process group.
 *
 * Caddy is started with `--resume`, the way Debian's caddy-api.service runs it: every change
 * made through the admin API is autosaved, and a restarted Caddy loads the autosave. So the
 * "config on disk" of the contract is Caddy's autosave.json. `restartWithoutResume()` restarts
 * from the original config file instead (an operator who runs `caddy run --config`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger, type Logger } from '../../../src/shared/logger.js';
import type { Weights } from '../../../src/shared/slot.js';
import { CaddyAdmin } from '../../../src/routers/caddy/caddy-admin.js';
import { createCaddyRouter } from '../../../src/routers/caddy/caddy-router.js';
import { caddyRouterConfig, type CaddyRouterConfig } from '../../../src/routers/caddy/config.js';
import { routeId, upstreamsOf, routesOf } from '../../../src/routers/caddy/server-routes.js';
import type { Router } from '../../../src/shared/router.js';
import type { RouterHarness } from '../../routers/contract.js';
import {
  canConnect,
  freePort,
  makeTempDir,
  requireBinary,
  startHarnessDaemon,
  type Daemon,
} from './common.js';

const ADMIN_TIMEOUT_MS = 10_000;

export interface CaddyHarnessOptions {
  router?: Partial<Omit<CaddyRouterConfig, 'kind'>>;
  logger?: Logger;
}

export interface CaddyHarness extends RouterHarness {
  dir: string;
  port: number;
  adminUrl: string;
  config: CaddyRouterConfig;
  /** The preview token the router was made with: `<slot>:<token>` in the preview header reaches that slot. */
  previewToken: string;
  daemon(): Daemon | undefined;
  /** One admin API request; answers status and body. */
  adminRequest(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<AdminReply>;
  /** Restarts Caddy from the original config file, forgetting everything the router did. */
  restartWithoutResume(): Promise<void>;
  editConfigByHand(weights: Weights): Promise<void>;
  rejectNextConfig(): Promise<() => Promise<void>>;
}

export interface AdminReply {
  status: number;
  body: string;
  trailers: NodeJS.Dict<string>;
}

export async function startCaddyHarness(options: CaddyHarnessOptions = {}): Promise<CaddyHarness> {
  const caddy = requireBinary('caddy', 'caddy');
  const dir = await makeTempDir('caddy');
  const port = await freePort();
  const adminPort = await freePort();
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const configFile = path.join(dir, 'caddy.json');
  const home = path.join(dir, 'home');
  const autosave = path.join(home, 'config', 'caddy', 'autosave.json');
  await mkdir(home, { recursive: true });
  // The server itself is created by the router on its first change.
  await writeFile(
    configFile,
    JSON.stringify({ admin: { listen: `127.0.0.1:${adminPort}` }, apps: { http: { servers: {} } } }, null, 2),
  );

  const config = caddyRouterConfig.parse({
    kind: 'caddy',
    adminUrl,
    listen: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    switchDir: path.join(dir, 'switch'),
    ...options.router,
  });
  const previewToken = randomBytes(32).toString('base64url');
  const router: Router = createCaddyRouter(config, {
    logger: options.logger ?? silentLogger,
    baseDir: dir,
    previewToken,
  });
  const request = (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) =>
    adminRequest(adminUrl, method, urlPath, body, headers);
  const serverPath = `/config/apps/http/servers/${config.server}`;
  const names = { server: config.server, previewHeader: config.previewHeader, previewToken };

  const runArgs = ['run', '--config', configFile];
  const daemon = await startHarnessDaemon(
    {
      name: 'caddy',
      command: caddy,
      args: [...runArgs, '--resume'],
      logFile: path.join(dir, 'caddy.out'),
      env: {
        ...process.env,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, 'config'),
        XDG_DATA_HOME: path.join(home, 'data'),
      },
      readyTimeoutMs: 15_000,
      // The admin API answers, and the served port is open when the config has our server.
      ready: async () => {
        if (!(await canConnect(adminPort))) return false;
        const reply = await request('GET', serverPath);
        if (reply.status !== 200) return false;
        return reply.body.trim() === 'null' || (await canConnect(port));
      },
    },
    { tempDir: dir, stopGraceMs: 10_000 },
  );

  return {
    router,
    publicUrl: `http://127.0.0.1:${port}/`,
    dir,
    port,
    adminUrl,
    config,
    previewToken,
    daemon: daemon.current,
    adminRequest: request,
    ...daemon.controls,
    restartWithoutResume: async () => {
      await daemon.stop();
      await rm(autosave, { force: true });
      await daemon.start({ args: runArgs });
    },
    editConfigByHand: async (weights: Weights) => {
      // What an operator would do: point the live route(s) at the other slot's upstreams.
      const slot = weights.green > 0 ? 'green' : 'blue';
      const server = await request('GET', serverPath);
      const routes = routesOf(JSON.parse(server.body) as unknown);
      const upstreams = (upstreamsOf(routes, routeId(names, slot)) ?? []).map((address) => ({
        dial: address,
      }));
      const live = config.switchBy === 'file' ? (['live-blue', 'live-green'] as const) : (['live'] as const);
      for (const route of live) {
        const reply = await request('PATCH', `/id/${routeId(names, route)}/handle/0/upstreams`, upstreams);
        if (reply.status !== 200) throw new Error(`hand edit refused: ${reply.status} ${reply.body}`);
      }
    },
    rejectNextConfig: async () => {
      if (config.switchBy === 'file') {
        // A marker switch writes no config, so Caddy cannot refuse it; it is refused when the
        // switch must first put cutover's routes back. So: a hand edit of a preview route (no
        // effect on live traffic) that the next change undoes, then Caddy refuses every load.
        const route = routeId(names, 'green');
        const reply = await request('PATCH', `/id/${route}/handle/0/headers/request/delete`, [
          config.previewHeader,
          'x-hand-edited',
        ]);
        if (reply.status !== 200) throw new Error(`hand edit refused: ${reply.status} ${reply.body}`);
      }
      // Caddy re-provisions every app on every change; a TLS app loading certificates from a
      // folder that is gone makes every change fail until the folder is back.
      const certs = path.join(dir, 'certs');
      await mkdir(certs, { recursive: true });
      const added = await request('PUT', '/config/apps/tls', { certificates: { load_folders: [certs] } });
      if (added.status !== 200) throw new Error(`could not add the TLS app: ${added.status} ${added.body}`);
      await rm(certs, { recursive: true });
      return async () => {
        await mkdir(certs, { recursive: true });
        const removed = await request('DELETE', '/config/apps/tls');
        if (removed.status !== 200) throw new Error(`could not remove the TLS app: ${removed.body}`);
      };
    },
  };
}

/** The router's own admin client, so tests get its resend of requests Caddy resets. */
async function adminRequest(
  adminUrl: string,
  method: string,
  urlPath: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<AdminReply> {
  const reply = await new CaddyAdmin(adminUrl, ADMIN_TIMEOUT_MS).send(method, urlPath, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers,
  });
  return { status: reply.status, body: reply.body, trailers: reply.trailers };
}
