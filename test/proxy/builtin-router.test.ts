import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { waitFor } from '../support/load.js';
import { liveUrl, openRouter, request, target } from './support/proxy-fixture.js';

void describe('builtin router', () => {
  let blue: VersionBackend;
  let green: VersionBackend;

  before(async () => {
    blue = await startVersionBackend('blue');
    green = await startVersionBackend('green');
  });
  after(async () => {
    await blue.close();
    await green.close();
  });

  void it('describes itself as atomic, weighted, verifiable, with header and port previews', () => {
    const router = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }),
      { logger: silentLogger },
    );
    assert.deepEqual(router.describe(), {
      kind: 'builtin',
      capabilities: {
        atomic: true,
        weighted: true,
        preview: 'header-and-port',
        mirror: true,
        verifiable: true,
        drainCounts: true,
      },
    });
    assert.ok(router.previewToken.length >= 16, 'a random preview token is made when none is given');
  });

  void it('binds port 0, reads back the live table, and closes twice safely', async () => {
    const router = await openRouter();
    await router.open();
    assert.ok(router.address().live.port > 0);
    assert.equal((await router.verify()).kind, 'unverifiable');
    const targets = { blue: [target('b1', blue.port)], green: [target('g1', green.port)] };
    await router.prepare(targets);
    await router.setWeights({ blue: 30, green: 70 });
    assert.deepEqual(await router.verify(), { kind: 'observed', weights: { blue: 30, green: 70 }, targets });
    await router.setWeights({ blue: 0, green: 100 });
    const observed = await router.verify();
    assert.equal(observed.kind, 'observed');
    if (observed.kind === 'observed') assert.deepEqual(observed.weights, { blue: 0, green: 100 });
    assert.equal((await request(liveUrl(router))).body, 'green');
    await router.close();
    await router.close();
    await assert.rejects(
      () => router.setWeights({ blue: 100, green: 0 }),
      (error) => isCutoverError(error, 'CUTOVER_E_ROUTER'),
    );
  });

  void it('refuses weights that do not add up to 100 through the guard layer', async () => {
    // The rule lives in guarded-router.ts, above every router (test/routers/invariant-guards.test.ts).
    const router = guardRouter(await openRouter());
    try {
      await assert.rejects(
        () => router.setWeights({ blue: 50, green: 60 }),
        (error) => isCutoverError(error, 'CUTOVER_E_INVALID_WEIGHTS'),
      );
    } finally {
      await router.close();
    }
  });

  void it('fails with CUTOVER_E_PORT_IN_USE naming the address when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const router = createBuiltinRouter(
        builtinRouterConfig.parse({ kind: 'builtin', listen: `127.0.0.1:${port}` }),
        { logger: silentLogger },
      );
      await assert.rejects(
        () => router.open(),
        (error) =>
          isCutoverError(error, 'CUTOVER_E_PORT_IN_USE') &&
          error.message === `port 127.0.0.1:${port} is already in use (router.listen in cutover.yml)`,
      );
      await router.close();
    } finally {
      taken.close();
    }
  });

  void it('counts requests, errors and latency per slot for the metrics endpoint', async () => {
    const router = await openRouter();
    try {
      await router.prepare({ blue: [target('b1', blue.port)], green: [] });
      await router.setWeights({ blue: 100, green: 0 });
      for (let i = 0; i < 5; i += 1) await request(liveUrl(router));
      await router.setWeights({ blue: 0, green: 100 });
      assert.equal((await request(liveUrl(router))).status, 503);
      const reported = async (): Promise<number> => {
        await router.refreshMetrics();
        const { blue, green } = router.metrics.snapshot();
        return blue.requests + green.requests;
      };
      await waitFor(async () => (await reported()) === 6, { what: "the workers' reports of 6 requests" });
      const snapshot = router.metrics.snapshot();
      assert.equal(snapshot.blue.requests, 5);
      assert.equal(snapshot.blue.errors, 0);
      assert.equal(snapshot.green.requests, 1);
      assert.equal(snapshot.green.errors, 1);
      assert.equal(snapshot.green.proxyErrors, 1);
      assert.equal(snapshot.blue.latencyBuckets.at(-1), 5, 'the +Inf bucket holds every request');
      assert.ok(snapshot.blue.latencySecondsSum > 0);
      assert.deepEqual(snapshot.blue.statusClasses, [0, 0, 5, 0, 0, 0], 'five 2xx on blue');
      assert.deepEqual(snapshot.green.statusClasses, [0, 0, 0, 0, 0, 1], 'one 5xx on green');
    } finally {
      await router.close();
    }
  });
});
