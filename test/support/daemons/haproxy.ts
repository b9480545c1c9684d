/**
 * A real HAProxy for tests: master-worker mode in the foreground, its own temp dir, runtime
 * socket, pid and state files, on a loopback port chosen at run time.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../../src/shared/logger.js';
import type { Weights } from '../../../src/shared/slot.js';
import type { Router } from '../../../src/shared/router.js';
import { haproxyRouterConfig, type HaproxyRouterConfig } from '../../../src/routers/haproxy/config.js';
import { createHaproxyRouter } from '../../../src/routers/haproxy/haproxy-router.js';
import { backendNames, liveBackend } from '../../../src/routers/haproxy/haproxy-files.js';
import { HaproxyRuntime } from '../../../src/routers/haproxy/runtime-api.js';
import type { RouterHarness } from '../../routers/contract.js';
import { canConnect, freePort, makeTempDir, requireBinary, startHarnessDaemon } from './common.js';

export interface HaproxyHarness extends RouterHarness {
  dir: string;
  config: HaproxyRouterConfig;
  /** The preview token the router was made with: the preview header's only value that reaches the preview backend. */
  previewToken: string;
  runtime: HaproxyRuntime;
  rejectNextConfig(): Promise<() => Promise<void>>;
  /** SIGUSR2 to the master: a graceful reload from the files on disk (what `systemctl reload` does). */
  reload(): Promise<void>;
}

export interface HaproxyHarnessOptions {
  /** Router config fields to override. */
  router?: Partial<Omit<HaproxyRouterConfig, 'kind'>>;
}

export async function startHaproxyHarness(options: HaproxyHarnessOptions = {}): Promise<HaproxyHarness> {
  const binary = requireBinary('haproxy', 'haproxy');
  const dir = await makeTempDir('haproxy');
  const port = await freePort();
  const file = (name: string) => path.join(dir, name);
  const mainConfig = file('haproxy.cfg');
  const socket = file('admin.sock');
  const config = haproxyRouterConfig.parse({
    kind: 'haproxy',
    socket,
    configFile: file('cutover.cfg'),
    mapFile: file('cutover.map'),
    serverStateFile: file('server-state'),
    mainConfigFile: mainConfig,
    url: `http://127.0.0.1:${port}`,
    binary,
    ...options.router,
  });
  await writeFile(
    mainConfig,
    [
      // Relative paths, as in examples/haproxy: HAProxy runs with its cwd in `dir`, and the
      // router must find the map and check candidates from there.
      'global',
      '    stats socket unix@admin.sock level admin',
      '    pidfile haproxy.pid',
      '    server-state-file ./server-state',
      'defaults',
      '    mode http',
      '    timeout connect 5s',
      '    timeout client 30s',
      '    timeout server 30s',
      'frontend web',
      `    bind 127.0.0.1:${port}`,
      // Exactly the token in the file cutover writes (cutover.cfg → cutover-preview.acl).
      `    use_backend ${config.previewBackend} if { req.hdr(x-cutover-preview) -m str -f ./cutover-preview.acl }`,
      '    use_backend %[str(live),map(./cutover.map)]',
      '',
    ].join('\n'),
  );
  const previewToken = randomBytes(32).toString('base64url');
  const router: Router = createHaproxyRouter(config, { logger: silentLogger, baseDir: dir, previewToken });
  // open() writes cutover.cfg and cutover.map, which HAProxy needs before it can start.
  await router.open();
  const runtime = new HaproxyRuntime(socket);

  const daemon = await startHarnessDaemon(
    {
      name: 'haproxy',
      command: binary,
      args: ['-W', '-f', mainConfig, '-f', file('cutover.cfg')],
      cwd: dir,
      logFile: file('haproxy.out'),
      ready: async () =>
        (await canConnect(port)) &&
        (await runtime.send('show info').then(
          () => true,
          () => false,
        )),
    },
    { tempDir: dir },
  );

  return {
    router,
    publicUrl: `http://127.0.0.1:${port}/`,
    dir,
    config,
    previewToken,
    runtime,
    ...daemon.controls,
    reload: async () => {
      const before = (await runtime.send('show info')).match(/^Pid: (\d+)/m)?.[1];
      daemon.current()?.signal('SIGUSR2');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = await runtime.send('show info').then(
          (info) => info.match(/^Pid: (\d+)/m)?.[1],
          () => undefined,
        );
        if (now !== undefined && now !== before) return;
        if (Date.now() > deadline) throw new Error('haproxy did not reload within 10s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    editConfigByHand: async (weights: Weights) => {
      const names = backendNames(config.backend, config.previewBackend);
      const backend = liveBackend({ targets: { blue: [], green: [] }, weights, preview: null }, names);
      await runtime.expect(`set map ./cutover.map live ${backend}`);
    },
    rejectNextConfig: async () => {
      const original = await readFile(mainConfig, 'utf8');
      // An unknown keyword: `haproxy -c` fails on any candidate until it is removed.
      await writeFile(mainConfig, original.replace('defaults', '    cutover-contract-breaks-this\ndefaults'));
      return async () => writeFile(mainConfig, original);
    },
  };
}
