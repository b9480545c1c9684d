import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { startLoad, waitFor } from '../support/load.js';
import { liveUrl, openRouter, target } from './support/proxy-fixture.js';

void describe('proxy switch under load', () => {
  let router: BuiltinRouter;
  let blue: VersionBackend;
  let green: VersionBackend;

  before(async () => {
    blue = await startVersionBackend('blue');
    green = await startVersionBackend('green');
    router = await openRouter();
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
  });

  void it('switches 200 times under 50 keep-alive connections with no failed request and no connection error', async () => {
    const load = startLoad({ url: liveUrl(router, '/'), connections: 50, maxDurationMs: 60_000 });
    await waitFor(() => load.stats().ok >= 200, { what: 'the load to start' });
    for (let i = 0; i < 200; i += 1) {
      const live = i % 2 === 0 ? 'green' : 'blue';
      await router.setWeights(live === 'green' ? { blue: 0, green: 100 } : { blue: 100, green: 0 });
      // Drain the slot that just lost its weight, as the engine does (closes idle upstream sockets).
      await router.drain(live === 'green' ? 'blue' : 'green', { deadline: new Date(Date.now() + 30_000) });
      const before = load.stats().ok;
      await waitFor(() => load.stats().ok >= before + 20, { what: `requests to flow after switch ${i}` });
    }
    const stats = await load.stop();
    assert.equal(stats.failed, 0, `failed requests: ${stats.firstErrors.join(' | ')}`);
    assert.equal(stats.connectionErrors, 0);
    assert.equal(stats.non2xx, 0);
    assert.ok(
      (stats.bodies.blue ?? 0) > 0 && (stats.bodies.green ?? 0) > 0,
      `both versions seen: ${JSON.stringify(stats.bodies)}`,
    );
    assert.deepEqual(Object.keys(stats.bodies).sort(), ['blue', 'green']);
  });
});
