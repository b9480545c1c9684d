/**
 * nginx resolves relative paths (logs, temp dirs, pid) against the prefix it runs with
 * (`nginx -p`). cutover's `nginx -t` must use the same prefix as the running master, or a
 * config whose paths are relative fails the test for the wrong reason (or passes it).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../src/shared/logger.js';
import type { Router } from '../../src/shared/router.js';
import { nginxRouterConfig } from '../../src/routers/nginx/config.js';
import { createNginxRouter } from '../../src/routers/nginx/nginx-router.js';
import { masterPrefix } from '../../src/routers/nginx/nginx-process.js';
import {
  canConnect,
  freePort,
  makeTempDir,
  removeTempDir,
  requireBinary,
  startDaemon,
  type Daemon,
} from '../support/daemons/common.js';

interface PrefixedNginx {
  readonly prefix: string;
  readonly configFile: string;
  readonly includeFile: string;
  readonly daemon: Daemon;
  readonly port: number;
}

/** nginx started as `nginx -p PREFIX -c CONFIG` with every path in its config relative. */
async function startPrefixedNginx(
  dir: string,
  configDir: string,
): Promise<Omit<PrefixedNginx, 'daemon'> & { start(router: Router): Promise<Daemon> }> {
  const binary = requireBinary('nginx', 'nginx-light');
  const port = await freePort();
  for (const sub of ['logs', 'tmp', configDir]) await mkdir(path.join(dir, sub), { recursive: true });
  const configFile = path.join(dir, configDir, 'nginx.conf');
  const includeFile = path.join(dir, configDir, 'cutover-upstreams.conf');
  await writeFile(
    configFile,
    [
      'daemon off;',
      'worker_processes 1;',
      'pid logs/nginx.pid;',
      // Under the relative prefix only: with nginx's built-in prefix this directory does not exist.
      'error_log logs/error.log notice;',
      'events { worker_connections 64; }',
      'http {',
      '    access_log logs/access.log;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path tmp/${t};`),
      `    include ${includeFile};`,
      `    server { listen 127.0.0.1:${port}; location / { proxy_pass http://$cutover_upstream; } }`,
      '}',
      '',
    ].join('\n'),
  );
  return {
    prefix: dir,
    configFile,
    includeFile,
    port,
    start: async (router) => {
      await router.open(); // writes the include file nginx needs to start
      return startDaemon({
        name: 'nginx',
        command: binary,
        args: ['-p', `${dir}/`, '-c', configFile],
        logFile: path.join(dir, 'nginx.out'),
        ready: async () =>
          (await canConnect(port)) &&
          (await readFile(path.join(dir, 'logs', 'nginx.pid'), 'utf8').catch(() => '')) !== '',
      });
    },
  };
}

const target = (port: number) => ({ blue: [{ id: 'blue-0', host: '127.0.0.1', port }], green: [] });

void describe('nginx router with a prefix', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setUp(configDir: string) {
    const dir = await makeTempDir('nginx-prefix');
    cleanups.push(() => removeTempDir(dir));
    const nginx = await startPrefixedNginx(dir, configDir);
    const routerWith = (prefix: string | undefined) =>
      createNginxRouter(
        nginxRouterConfig.parse({
          kind: 'nginx',
          configFile: nginx.configFile,
          includeFile: nginx.includeFile,
          binary: requireBinary('nginx', 'nginx-light'),
          url: `http://127.0.0.1:${nginx.port}`,
          ...(prefix === undefined ? {} : { prefix }),
        }),
        { logger: silentLogger, baseDir: dir, previewToken: 'prefix-test-token' },
      );
    // Before nginx runs, only a configured prefix lets `nginx -t` resolve the relative paths.
    const first = routerWith(dir);
    const daemon = await nginx.start(first);
    cleanups.push(async () => {
      await first.close();
      await daemon.stop();
    });
    return { nginx, daemon, first, routerWith };
  }

  void it('NginxTest_WithoutAPrefix_BeforeNginxRuns_SaysToSetOne', async () => {
    const dir = await makeTempDir('nginx-prefix');
    cleanups.push(() => removeTempDir(dir));
    const nginx = await startPrefixedNginx(dir, '.');
    const router = createNginxRouter(
      nginxRouterConfig.parse({
        kind: 'nginx',
        configFile: nginx.configFile,
        includeFile: nginx.includeFile,
        binary: requireBinary('nginx', 'nginx-light'),
      }),
      { logger: silentLogger, baseDir: dir, previewToken: 'prefix-test-token' },
    );
    await assert.rejects(router.open(), /built-in prefix.*set it to what nginx runs with/);
    await router.close();
  });

  void it('NginxTest_UsesTheRunningMastersPrefix_SoRelativeLogPathsValidate', async () => {
    const { nginx, daemon, routerWith } = await setUp('.');
    assert.equal(masterPrefix(daemon.pid), `${nginx.prefix}/`);
    const router = routerWith(undefined);
    await router.open();
    cleanups.push(() => router.close());
    // A change runs `nginx -t`: with the built-in prefix, logs/error.log cannot be opened.
    await router.prepare(target(await freePort()));
    assert.match(await readFile(nginx.includeFile, 'utf8'), /blue-0|127\.0\.0\.1:\d+/);
  });

  void it('ExplicitPrefix_ResolvesARelativePidAgainstIt_NotTheConfigFolder', async () => {
    // The config lives in conf/, the pid in <prefix>/logs: only the prefix finds the master.
    const { nginx, first: router } = await setUp('conf');
    await router.prepare(target(await freePort()));
    assert.match(await readFile(nginx.includeFile, 'utf8'), /127\.0\.0\.1:\d+/);
  });
});
