/**
 * The nginx router's lua mode (`router.mode: lua`): the shared router contract against a real
 * nginx with Debian's lua module, plus what only this mode promises — no reload for any change,
 * a control location that only the token holder on this machine can use, in-flight counts per
 * slot, and a clear error when nginx lacks the module. Last, the same keep-alive load against
 * both modes while traffic switches back and forth: the lua mode drops nothing; the reload
 * mode's residual is measured and reported beside it.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { otherSlot, weightsAllOn, type Slot } from '../../src/shared/slot.js';
import { nginxRouterConfig } from '../../src/routers/nginx/config.js';
import { CONTROL_PATH } from '../../src/routers/nginx/lua-include.js';
import { listWorkers } from '../../src/routers/nginx/nginx-process.js';
import { createNginxRouter } from '../../src/routers/nginx/nginx-router.js';
import { HARNESS_PREVIEW_TOKEN, startNginxHarness, type NginxHarness } from '../support/daemons/nginx.js';
import { makeTempDir, removeTempDir, requireBinary } from '../support/daemons/common.js';
import { startHeldBackend, type HeldBackend } from '../support/held-backend.js';
import { startLoad, waitFor, type LoadStats } from '../support/load.js';
import { prepareBlueLivePair, type BlueGreenBackends } from './blue-live-pair.js';
import { getOnce, runRouterContract, sample } from './contract.js';

runRouterContract('nginx (lua mode)', () => startNginxHarness({ mode: 'lua' }));

void describe('nginx router, lua mode', () => {
  let harness: NginxHarness;
  let pair: BlueGreenBackends | undefined;

  before(async () => {
    harness = await startNginxHarness({ mode: 'lua' });
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
  });

  after(async () => {
    await harness?.router.close();
    await harness?.teardown();
    await pair?.close();
  });

  const controlPort = (): number => Number(harness.config.controlListen?.split(':').at(-1));

  void it('DescribeReportsLuaMode_VerifiableWithDrainCounts', () => {
    const description = harness.router.describe();
    assert.equal(description.mode, 'lua');
    const reload = createNginxRouter(
      nginxRouterConfig.parse({ ...harness.config, mode: 'reload', controlListen: undefined }),
      {
        logger: silentLogger,
        baseDir: harness.dir,
        previewToken: HARNESS_PREVIEW_TOKEN,
      },
    );
    assert.equal(reload.describe().mode, 'reload');
    assert.equal(reload.describe().capabilities.verifiable, false);
    assert.equal(description.capabilities.verifiable, true);
    assert.equal(description.capabilities.drainCounts, true);
  });

  void it('PrepareShiftSwitchAndCleanup_NeverReloadNginx', async () => {
    const master = harness.daemon()?.pid;
    assert.ok(master !== undefined);
    const workersBefore = listWorkers(master)
      .map((worker) => worker.pid)
      .sort();
    assert.ok(workersBefore.length > 0);
    const targets = pair!.targets;
    await harness.router.prepare({ blue: targets.blue, green: [] });
    await harness.router.prepare(targets);
    await harness.router.preview('green');
    for (const green of [10, 50, 100]) await harness.router.setWeights({ blue: 100 - green, green });
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
    await harness.router.setWeights(weightsAllOn('blue'));
    await harness.router.cleanup('green');
    await harness.router.prepare(targets);
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    const workersAfter = listWorkers(master)
      .map((worker) => worker.pid)
      .sort();
    assert.deepEqual(workersAfter, workersBefore, 'the same workers serve: nginx was never reloaded');
    assert.ok(listWorkers(master).every((worker) => !worker.shuttingDown));
  });

  void it('ReloadByHand_KeepsTheTableInSharedMemory', async () => {
    // A hand PUT (not in the state file): a reload must keep serving it, not reread the file.
    await harness.editConfigByHand!(weightsAllOn('green'));
    const master = harness.daemon()?.pid;
    assert.ok(master !== undefined);
    const old = new Set(listWorkers(master).map((worker) => worker.pid));
    harness.reloadByHand();
    await waitFor(
      () => {
        const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
        return active.length > 0 && active.every((worker) => !old.has(worker.pid));
      },
      { what: 'new workers after the reload' },
    );
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
    await harness.router.setWeights(weightsAllOn('blue'));
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
  });

  void it('OpenWithAChangedIncludeFile_ReloadsARunningNginxOnce', async () => {
    const master = harness.daemon()?.pid;
    assert.ok(master !== undefined);
    const old = new Set(listWorkers(master).map((worker) => worker.pid));
    const router = createNginxRouter(
      nginxRouterConfig.parse({ ...harness.config, upstreamKeepalive: harness.config.upstreamKeepalive + 1 }),
      { logger: silentLogger, baseDir: harness.dir, previewToken: HARNESS_PREVIEW_TOKEN },
    );
    try {
      await router.open();
      const active = listWorkers(master).filter((worker) => !worker.shuttingDown);
      assert.ok(
        active.length > 0 && active.every((worker) => !old.has(worker.pid)),
        'nginx loaded the new file',
      );
      assert.match(
        await readFile(harness.includeFile, 'utf8'),
        new RegExp(`keepalive ${harness.config.upstreamKeepalive + 1};`),
      );
      const seen = await router.verify();
      assert.ok(seen.kind === 'observed');
      assert.deepEqual(seen.weights, weightsAllOn('blue'), 'the table in shared memory survived the reload');
      const again = new Set(active.map((worker) => worker.pid));
      await router.open();
      assert.deepEqual(
        new Set(
          listWorkers(master)
            .filter((worker) => !worker.shuttingDown)
            .map((worker) => worker.pid),
        ),
        again,
        'an unchanged include file is not reloaded',
      );
    } finally {
      await router.close();
      await harness.router.open();
    }
  });

  void it('ControlLocation_RefusesMissingAndWrongToken', async () => {
    const missing = await control(controlPort(), 'GET');
    assert.equal(missing.status, 401);
    const wrong = await control(
      controlPort(),
      'PUT',
      'Bearer not-the-token',
      'weights 0 100\npreview none\n',
    );
    assert.equal(wrong.status, 401);
    // A prefix of the real token is not the token: the comparison is of whole strings.
    const token = (await readFile(harness.tokenFile, 'utf8')).trim();
    const prefix = await control(controlPort(), 'GET', `Bearer ${token.slice(0, 10)}`);
    assert.equal(prefix.status, 401);
    const right = await control(controlPort(), 'GET', `Bearer ${token}`);
    assert.equal(right.status, 200);
    assert.deepEqual(
      new Set(await sample(harness.publicUrl, 20)),
      new Set(['blue-1']),
      'live traffic unchanged',
    );
  });

  void it('ControlLocation_NotReachableOnNonLoopbackAddresses', async () => {
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((info) => info !== undefined && !info.internal && info.family === 'IPv4')
      .map((info) => info!.address);
    for (const address of addresses) {
      assert.equal(await canConnect(address, controlPort()), false, `control port open on ${address}`);
    }
    for (const listen of [
      '0.0.0.0:9180',
      '192.0.2.2:9180',
      '[::]:9180',
      'example.com:9180',
      'unix:relative',
    ]) {
      const parsed = nginxRouterConfig.safeParse({
        kind: 'nginx',
        configFile: 'nginx.conf',
        includeFile: 'cutover.conf',
        mode: 'lua',
        controlListen: listen,
      });
      assert.equal(parsed.success, false, `controlListen ${listen} must be refused`);
    }
  });

  void it('ControlTokenFileReadableByOthers_RefusedAtOpen', async () => {
    await chmod(harness.tokenFile, 0o644);
    try {
      await assert.rejects(harness.router.open(), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'));
        assert.match(error.message, /chmod 600/);
        return true;
      });
    } finally {
      await chmod(harness.tokenFile, 0o600);
    }
  });

  void it('PreviewHeaderWithWrongToken_StaysOnLiveSlot', async () => {
    const route = await harness.router.preview('green');
    assert.deepEqual(route.headers, { [harness.config.previewHeader]: `green:${HARNESS_PREVIEW_TOKEN}` });
    assert.deepEqual(new Set(await sample(route.url, 20, route.headers)), new Set(['green-1']));
    for (const value of ['green', 'green:guess', `blue:${HARNESS_PREVIEW_TOKEN}`]) {
      const bodies = await sample(route.url, 10, { [harness.config.previewHeader]: value });
      assert.deepEqual(new Set(bodies), new Set(['blue-1']), `preview header ${value} must reach live only`);
    }
  });

  void it('IPv6Target_ReachedThroughTheBalancer', async () => {
    const server = http.createServer((_request, response) => response.end('blue-v6'));
    await new Promise<void>((resolve) => server.listen(0, '::1', () => resolve()));
    try {
      const { port } = server.address() as net.AddressInfo;
      await harness.router.prepare({ ...pair!.targets, blue: [{ id: 'blue-v6', host: '::1', port }] });
      assert.deepEqual(new Set(await sample(harness.publicUrl, 10)), new Set(['blue-v6']));
    } finally {
      await harness.router.prepare(pair!.targets);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  void it('TargetWithHostName_RefusedBeforeNginxIsTouched', async () => {
    await assert.rejects(
      harness.router.prepare({ blue: pair!.targets.blue, green: [{ id: 'g', host: 'localhost', port: 1 }] }),
      (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'));
        assert.match(error.message, /IP address/);
        return true;
      },
    );
    const seen = await harness.router.verify();
    assert.ok(seen.kind === 'observed');
    assert.deepEqual(
      seen.targets?.green.map((target) => target.id),
      ['green-1'],
    );
  });

  void it('DrainStatus_CountsRequestsInFlightOnTheSlot', async () => {
    const held: HeldBackend = await startHeldBackend('green-held');
    try {
      await harness.router.prepare({
        blue: pair!.targets.blue,
        green: [{ id: 'green-held', host: '127.0.0.1', port: held.port }],
      });
      await harness.router.setWeights(weightsAllOn('green'));
      const requests = [getOnce(harness.publicUrl), getOnce(harness.publicUrl)];
      await waitFor(() => held.waiting() === 2, { what: 'two requests held on green' });
      await harness.router.setWeights(weightsAllOn('blue'));
      assert.deepEqual(await harness.router.drainStatus('green'), {
        kind: 'counted',
        inFlight: 2,
        connections: 2,
      });
      held.release();
      const answers = await Promise.all(requests);
      assert.deepEqual(
        answers.map((answer) => answer.body),
        ['green-held', 'green-held'],
      );
      await waitFor(
        async () => {
          const status = await harness.router.drainStatus('green');
          return status.kind === 'counted' && status.inFlight === 0;
        },
        { what: 'green to have nothing in flight' },
      );
    } finally {
      held.release();
      await harness.router.setWeights(weightsAllOn('blue'));
      await harness.router.prepare(pair!.targets);
      await held.close();
    }
  });
});

void describe('nginx router, from reload mode to lua mode', () => {
  void it('SwitchingALiveNginxToLuaMode_KeepsServingTheLiveSlot', async () => {
    // A reload-mode nginx that has the module loaded, serving green.
    const harness = await startNginxHarness({ loadLuaModule: true });
    let pair: BlueGreenBackends | undefined;
    try {
      await harness.router.open();
      pair = await prepareBlueLivePair(harness.router);
      await harness.router.setWeights(weightsAllOn('green'));
      await harness.router.close();
      const lua = createNginxRouter(
        nginxRouterConfig.parse({
          ...harness.config,
          mode: 'lua',
          controlListen: `unix:${harness.dir}/control.sock`,
        }),
        { logger: silentLogger, baseDir: harness.dir, previewToken: HARNESS_PREVIEW_TOKEN },
      );
      await lua.open();
      assert.equal(lua.describe().mode, 'lua');
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']), 'still on green');
      const seen = await lua.verify();
      assert.ok(seen.kind === 'observed');
      assert.deepEqual(seen.weights, weightsAllOn('green'));
      await lua.setWeights(weightsAllOn('blue'));
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
      await lua.close();
    } finally {
      await harness.teardown();
      await pair?.close();
    }
  });
});

void describe('nginx router, lua mode with a unix socket control location', () => {
  void it('UnixSocketControl_SwitchesAndVerifiesWithoutReload', async () => {
    const harness = await startNginxHarness({ mode: 'lua', luaControl: 'unix' });
    let pair: BlueGreenBackends | undefined;
    try {
      assert.match(harness.config.controlListen ?? '', /^unix:\//);
      await harness.router.open();
      pair = await prepareBlueLivePair(harness.router);
      const master = harness.daemon()?.pid;
      assert.ok(master !== undefined);
      const workers = listWorkers(master).map((worker) => worker.pid);
      await harness.router.setWeights(weightsAllOn('green'));
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
      const seen = await harness.router.verify();
      assert.ok(seen.kind === 'observed');
      assert.deepEqual(seen.weights, weightsAllOn('green'));
      assert.deepEqual(
        listWorkers(master).map((worker) => worker.pid),
        workers,
      );
    } finally {
      await harness.router.close();
      await harness.teardown();
      await pair?.close();
    }
  });
});

void describe('nginx router config, lua mode keys', () => {
  const base = { kind: 'nginx', configFile: 'nginx.conf', includeFile: 'cutover.conf' };

  void it('ModeDefaultsToReload_SoExistingConfigsKeepTheirBehaviour', () => {
    assert.equal(nginxRouterConfig.parse(base).mode, 'reload');
  });

  void it('LuaModeWithoutControlListen_Refused', () => {
    const parsed = nginxRouterConfig.safeParse({ ...base, mode: 'lua' });
    assert.equal(parsed.success, false);
    assert.deepEqual(
      parsed.error?.issues.map((issue) => issue.path.join('.')),
      ['controlListen'],
    );
  });

  void it('LuaOnlyKeysInReloadMode_Refused', () => {
    const parsed = nginxRouterConfig.safeParse({
      ...base,
      controlListen: '127.0.0.1:9180',
      controlTokenFile: 'token',
      stateFile: 'state',
    });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues.map((issue) => issue.path.join('.')).sort(), [
      'controlListen',
      'controlTokenFile',
      'stateFile',
    ]);
  });

  void it('LoopbackAndUnixControlListen_Accepted', () => {
    for (const controlListen of [
      '127.0.0.1:9180',
      '[::1]:9180',
      'localhost:9180',
      'unix:/run/cutover.sock',
    ]) {
      assert.equal(
        nginxRouterConfig.safeParse({ ...base, mode: 'lua', controlListen }).success,
        true,
        controlListen,
      );
    }
  });
});

void describe('nginx router, lua mode without the module', () => {
  let dir: string | undefined;
  after(async () => {
    if (dir !== undefined) await removeTempDir(dir);
  });

  void it('MissingLuaModule_OpenFailsNamingTheDebianPackage', async () => {
    const binary = requireBinary('nginx', 'nginx-light');
    dir = await makeTempDir('nginx-no-lua');
    const configFile = path.join(dir, 'nginx.conf');
    const includeFile = path.join(dir, 'cutover.conf');
    await writeFile(
      configFile,
      [
        // No load_module lines: what an nginx without libnginx-mod-http-lua looks like.
        `pid ${path.join(dir, 'nginx.pid')};`,
        `error_log ${path.join(dir, 'error.log')};`,
        'events {}',
        `http { include ${includeFile}; }`,
        '',
      ].join('\n'),
    );
    const router = createNginxRouter(
      nginxRouterConfig.parse({
        kind: 'nginx',
        configFile,
        includeFile,
        binary,
        mode: 'lua',
        controlListen: '127.0.0.1:9',
      }),
      { logger: silentLogger, baseDir: dir, previewToken: HARNESS_PREVIEW_TOKEN },
    );
    await assert.rejects(router.open(), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), `expected CUTOVER_E_CONFIG, got ${String(error)}`);
      assert.match(error.message, /apt-get install libnginx-mod-http-lua/);
      assert.match(error.message, /load_module modules\/ngx_http_lua_module\.so/);
      return true;
    });
    await router.close();
  });
});

/**
 * 50 keep-alive connections while traffic switches blue⇄green. Every switch of the lua mode is
 * a PUT to shared memory; every switch of the reload mode is a reload that resets idle client
 * connections (docs/routers.md). The reload mode's failures are only measured (and must be
 * resets, never a wrong or error answer); the lua mode's must be zero.
 */
const LOAD_CONNECTIONS = 50;
const LOAD_SWITCHES = 10;

void describe('nginx router under keep-alive load, switching back and forth', () => {
  for (const mode of ['lua', 'reload'] as const) {
    void it(
      mode === 'lua'
        ? 'LuaMode_SwitchingUnderKeepAliveLoad_FailsNoRequest'
        : 'ReloadMode_SwitchingUnderKeepAliveLoad_FailsOnlyByConnectionResets',
      { timeout: 120_000 },
      async (t) => {
        const load = await switchUnderLoad(mode, t);
        assert.equal(load.non2xx, 0, `non-2xx answers: ${load.firstErrors.join('\n')}`);
        if (mode === 'lua') {
          assert.equal(load.failed, 0, `failed requests:\n${load.firstErrors.join('\n')}`);
        } else {
          assert.equal(
            load.failed,
            load.connectionErrors,
            `failures other than resets:\n${load.firstErrors.join('\n')}`,
          );
        }
      },
    );
  }
});

async function switchUnderLoad(mode: 'lua' | 'reload', t: TestContext): Promise<LoadStats> {
  const harness = await startNginxHarness({ mode });
  let pair: BlueGreenBackends | undefined;
  try {
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
    const load = startLoad({ url: harness.publicUrl, connections: LOAD_CONNECTIONS });
    let live: Slot = 'blue';
    let stats: LoadStats;
    try {
      await waitFor(() => load.stats().ok >= 500, { what: 'the load to warm up' });
      for (let round = 0; round < LOAD_SWITCHES; round++) {
        const next = otherSlot(live);
        const answeredBefore = load.stats().bodies[`${next}-1`] ?? 0;
        await harness.router.setWeights(weightsAllOn(next));
        await waitFor(() => (load.stats().bodies[`${next}-1`] ?? 0) > answeredBefore + 100, {
          what: `traffic on ${next}`,
        });
        live = next;
      }
    } finally {
      stats = await load.stop();
    }
    t.diagnostic(
      `nginx ${mode} mode: ${LOAD_SWITCHES} switches under ${LOAD_CONNECTIONS} keep-alive connections: ` +
        `${stats.ok} ok, ${stats.failed} failed (${stats.connectionErrors} connection resets)`,
    );
    return stats;
  } finally {
    await harness.router.close();
    await harness.teardown();
    await pair?.close();
  }
}

function control(
  port: number,
  method: string,
  authorization?: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: CONTROL_PATH,
        agent: false,
        headers: authorization === undefined ? {} : { authorization },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
