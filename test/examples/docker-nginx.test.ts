/**
 * examples/docker-nginx: its cutover.yml loads as the recipe says (docker platform, nginx in lua
 * mode, shift 10 → 50 → 100), and its nginx.conf passes `nginx -t` with the include cutover
 * writes (on a copy of the folder, so the example stays clean).
 */
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createNginxRouter } from '../../src/routers/nginx/nginx-router.js';
import { makeTempDir, removeTempDir, requireBinary, runSync } from '../support/daemons/common.js';
import { LUA_MODULE_FILES } from '../support/daemons/nginx.js';
import { existsSync } from 'node:fs';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/docker-nginx');

void describe('examples/docker-nginx', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await removeTempDir(dir);
  });

  void it('ExampleConfig_LoadsAsTheContainerRecipe', () => {
    const config = loadConfig(path.join(EXAMPLE, 'cutover.yml'));
    assert.equal(config.platform.kind, 'docker');
    assert.equal(config.router.kind, 'nginx');
    assert.equal(config.router.kind === 'nginx' ? config.router.mode : undefined, 'lua');
    assert.equal(config.strategy.kind, 'shift');
    assert.deepEqual(
      config.strategy.kind === 'shift' ? config.strategy.steps.map((step) => step.weight) : [],
      [10, 50, 100],
    );
  });

  void it('ExampleNginxConf_PassesNginxTestWithTheIncludeCutoverWrites', async () => {
    const nginx = requireBinary('nginx', 'nginx-light');
    const missing = LUA_MODULE_FILES.filter((file) => !existsSync(file));
    assert.deepEqual(missing, [], 'run `bash scripts/install-test-deps.sh` (libnginx-mod-http-lua)');
    const dir = await makeTempDir('example-docker-nginx');
    dirs.push(dir);
    await cp(EXAMPLE, dir, { recursive: true });
    const config = loadConfig(path.join(dir, 'cutover.yml'));
    assert.ok(config.router.kind === 'nginx');
    // cutover's own `nginx -t` passes no -p: relative pid and log paths would resolve against
    // nginx's compiled prefix (/usr/share/nginx) and leave files there. For open() only, the
    // copy names them absolutely; the check below runs the example's text as it is.
    const nginxConf = path.join(dir, 'nginx.conf');
    const original = await readFile(nginxConf, 'utf8');
    const absolute = original
      .replace('pid nginx.pid;', `pid ${path.join(dir, 'nginx.pid')};`)
      .replace('error_log error.log', `error_log ${path.join(dir, 'error.log')}`);
    assert.notEqual(absolute, original);
    await writeFile(nginxConf, absolute);
    // open() writes the include (and its token and state files) and checks it with `nginx -t`
    // in the context of nginx.conf; nginx is not running, so nothing is reloaded.
    const router = createNginxRouter(
      { ...config.router, binary: nginx },
      { logger: silentLogger, baseDir: dir, previewToken: 'example-preview-token' },
    );
    await router.open();
    await router.close();
    await writeFile(nginxConf, original);
    assert.ok(existsSync(path.join(dir, 'cutover-upstreams.conf')));
    // As the README runs it: relative paths against the example's folder.
    const test = runSync(nginx, ['-t', '-p', dir, '-c', nginxConf]);
    assert.equal(test.status, 0, test.output);
    assert.match(test.output, /test is successful/);
  });
});
