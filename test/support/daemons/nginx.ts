/**
 * A real nginx for tests: its own temp dir, main config, pid, logs and temp paths, on a
 * loopback port chosen at run time, running in the foreground under the test's control.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../../src/shared/logger.js';
import type { Weights } from '../../../src/shared/slot.js';
import type { Router } from '../../../src/shared/router.js';
import { nginxRouterConfig, type NginxRouterConfig } from '../../../src/routers/nginx/config.js';
import { createNginxRouter } from '../../../src/routers/nginx/nginx-router.js';
import { parseIncludeState, renderInclude } from '../../../src/routers/nginx/include-file.js';
import { LuaControlClient } from '../../../src/routers/nginx/lua-control.js';
import { parseRoutingTable, renderRoutingTable } from '../../../src/routers/nginx/routing-table.js';
import type { RouterHarness } from '../../routers/contract.js';
import {
  canConnect,
  freePort,
  makeTempDir,
  requireBinary,
  startHarnessDaemon,
  type Daemon,
} from './common.js';

export interface NginxTuning {
  workers?: number;
  /** Extra directives inside http {} (keepalive_timeout, lingering_close …). */
  http?: string[];
  /** Extra directives inside the proxying location. */
  location?: string[];
  /** Extra directives at the top level (worker_shutdown_timeout …). */
  main?: string[];
  /** The router's mode; `lua` loads Debian's lua module in nginx.conf (see loadLuaModule). */
  mode?: 'reload' | 'lua';
  /** Put the lua module's `load_module` lines in nginx.conf (default: in lua mode only). */
  loadLuaModule?: boolean;
  /** lua mode: the control location on a loopback port (default) or a unix socket in the temp dir. */
  luaControl?: 'tcp' | 'unix';
}

/** Debian's lua module and the NDK it needs (libnginx-mod-http-lua). */
export const LUA_MODULE_FILES = [
  '/usr/lib/nginx/modules/ndk_http_module.so',
  '/usr/lib/nginx/modules/ngx_http_lua_module.so',
];

/** The preview token a lua-mode harness's router is given (what `cutover server` passes). */
export const HARNESS_PREVIEW_TOKEN = 'harness-preview-token';

export interface NginxHarness extends RouterHarness {
  dir: string;
  configFile: string;
  includeFile: string;
  pidFile: string;
  config: NginxRouterConfig;
  /** The preview token the router was made with: the preview header's only value that reaches the preview upstream. */
  previewToken: string;
  daemon(): Daemon | undefined;
  rejectNextConfig(): Promise<() => Promise<void>>;
  /** Sends SIGHUP to the master (what an operator's `nginx -s reload` does). */
  reloadByHand(): void;
  /** lua mode: the control token file and the state file the router keeps. */
  tokenFile: string;
  stateFile: string;
}

export async function startNginxHarness(tuning: NginxTuning = {}): Promise<NginxHarness> {
  const binary = requireBinary('nginx', 'nginx-light');
  const dir = await makeTempDir('nginx');
  const port = await freePort();
  const configFile = path.join(dir, 'nginx.conf');
  const includeFile = path.join(dir, 'cutover-upstreams.conf');
  const pidFile = path.join(dir, 'nginx.pid');
  const temp = (name: string) => path.join(dir, name);
  const lua = tuning.mode === 'lua';
  if (lua || tuning.loadLuaModule === true) requireLuaModule();
  const controlPort = lua ? await freePort() : undefined;
  await writeFile(
    configFile,
    [
      ...((tuning.loadLuaModule ?? lua) ? LUA_MODULE_FILES.map((file) => `load_module ${file};`) : []),
      'daemon off;',
      'master_process on;',
      `worker_processes ${tuning.workers ?? 2};`,
      `pid ${pidFile};`,
      `error_log ${temp('error.log')} notice;`,
      ...(tuning.main ?? []),
      'events { worker_connections 1024; }',
      'http {',
      '    access_log off;',
      `    client_body_temp_path ${temp('body')};`,
      `    proxy_temp_path ${temp('proxy')};`,
      `    fastcgi_temp_path ${temp('fastcgi')};`,
      `    uwsgi_temp_path ${temp('uwsgi')};`,
      `    scgi_temp_path ${temp('scgi')};`,
      ...(tuning.http ?? []).map((line) => `    ${line}`),
      `    include ${includeFile};`,
      '    server {',
      `        listen 127.0.0.1:${port};`,
      '        location / {',
      '            proxy_pass http://$cutover_upstream;',
      '            proxy_http_version 1.1;',
      '            proxy_set_header Connection "";',
      // The preview token is for nginx, not for the app (docs/routers.md).
      '            proxy_set_header X-Cutover-Preview "";',
      ...(tuning.location ?? []).map((line) => `            ${line}`),
      '        }',
      '    }',
      '}',
      '',
    ].join('\n'),
  );

  const config = nginxRouterConfig.parse({
    kind: 'nginx',
    configFile,
    includeFile,
    binary,
    pidFile,
    url: `http://127.0.0.1:${port}`,
    ...(lua
      ? {
          mode: 'lua',
          controlListen:
            tuning.luaControl === 'unix' ? `unix:${temp('control.sock')}` : `127.0.0.1:${controlPort}`,
        }
      : {}),
  });
  const tokenFile = `${includeFile}.token`;
  const stateFile = `${includeFile}.state`;
  // The lua tests write routing tables by hand, so their token is a known one.
  const previewToken = lua ? HARNESS_PREVIEW_TOKEN : randomBytes(32).toString('base64url');
  const router: Router = createNginxRouter(config, { logger: silentLogger, baseDir: dir, previewToken });
  // open() writes the first include file, which nginx needs before it can start.
  await router.open();

  const daemon = await startHarnessDaemon(
    {
      name: 'nginx',
      command: binary,
      args: ['-c', configFile],
      logFile: temp('nginx.out'),
      ready: async () => (await canConnect(port)) && (await readFile(pidFile, 'utf8').catch(() => '')) !== '',
    },
    { tempDir: dir },
  );

  const harness = {
    router,
    publicUrl: `http://127.0.0.1:${port}/`,
    dir,
    configFile,
    includeFile,
    pidFile,
    config,
    tokenFile,
    stateFile,
    previewToken,
    daemon: daemon.current,
    reloadByHand: () => daemon.current()?.signal('SIGHUP'),
    ...daemon.controls,
  };
  if (lua) return { ...harness, ...luaHandControls(config, tokenFile, stateFile) };
  return {
    ...harness,
    editConfigByHand: async (weights: Weights) => {
      const text = await readFile(includeFile, 'utf8');
      const state = parseIncludeState(text);
      if (state === undefined) throw new Error(`${includeFile} has no cutover state`);
      const edited = renderInclude(
        { ...state, weights },
        {
          prefix: config.upstream,
          previewHeader: config.previewHeader,
          previewToken,
          keepalive: config.upstreamKeepalive,
        },
      );
      await writeFile(includeFile, edited);
      const pid = daemon.current()?.pid;
      if (pid === undefined) throw new Error('nginx is not running');
      await reloadAndWait(pid);
    },
    rejectNextConfig: async () => {
      const original = await readFile(configFile, 'utf8');
      // An unknown directive: `nginx -t` fails on any candidate until it is removed.
      await writeFile(configFile, original.replace('events {', 'cutover_contract_breaks_this on;\nevents {'));
      return async () => writeFile(configFile, original);
    },
  };
}

/**
 * lua mode's hand controls: an edit is a PUT on the control location with the token (what an
 * operator with curl does); a refusal is a token file nginx did not load (rewritten behind its
 * back), which nginx answers with 401 until it is restored.
 */
function luaHandControls(
  config: NginxRouterConfig,
  tokenFile: string,
  stateFile: string,
): Required<Pick<NginxHarness, 'editConfigByHand' | 'rejectNextConfig'>> {
  return {
    editConfigByHand: async (weights: Weights) => {
      const state = parseRoutingTable(await readFile(stateFile, 'utf8'));
      if (state === undefined) throw new Error(`${stateFile} holds no routing table`);
      const control = new LuaControlClient(config.controlListen ?? '', tokenFile);
      await control.write(renderRoutingTable({ ...state, weights }, HARNESS_PREVIEW_TOKEN));
    },
    rejectNextConfig: async () => {
      const original = await readFile(tokenFile, 'utf8');
      await writeFile(tokenFile, 'a-token-nginx-never-loaded\n');
      return async () => writeFile(tokenFile, original);
    },
  };
}

function requireLuaModule(): void {
  const missing = LUA_MODULE_FILES.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not found: run \`bash scripts/install-test-deps.sh\` (or \`apt-get install -y libnginx-mod-http-lua\`)`,
    );
  }
}

/** HUP and wait until the master runs only workers started after the signal. */
async function reloadAndWait(master: number): Promise<void> {
  const { listWorkers } = await import('../../../src/routers/nginx/nginx-process.js');
  const before = new Set(listWorkers(master).map((worker) => worker.pid));
  process.kill(master, 'SIGHUP');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
    if (active.length > 0 && active.every((worker) => !before.has(worker.pid))) return;
    if (Date.now() > deadline) throw new Error('nginx did not reload within 10s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
