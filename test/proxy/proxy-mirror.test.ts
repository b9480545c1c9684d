import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { closedPort } from './support/black-hole.js';
import {
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';

void describe('proxy mirroring', () => {
  let router: BuiltinRouter;
  let blue: TestServer;
  let green: TestServer;
  const mirroredPaths: string[] = [];

  before(async () => {
    blue = await startServer((req, res) => {
      req.resume();
      res.end('blue');
    });
    green = await startServer((req, res) => {
      mirroredPaths.push(`${req.method} ${req.url}`);
      res.statusCode = 500;
      res.end('green is broken, and nobody may notice');
    });
    router = await openRouter({ mirror: { percent: 100 } });
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
  });

  void it('copies bodyless live requests to the idle slot and discards its answers', async () => {
    for (let i = 0; i < 10; i += 1) {
      const response = await request(liveUrl(router, `/item/${i}`));
      assert.equal(response.status, 200);
      assert.equal(response.body, 'blue');
    }
    await waitFor(() => mirroredPaths.length === 10, { what: 'ten mirrored requests' });
    assert.ok(mirroredPaths.includes('GET /item/3'));
    assert.equal(router.metrics.snapshot().green.requests, 0, 'mirrored copies are not live requests');
  });

  void it('does not copy requests with a body', async () => {
    const before = mirroredPaths.length;
    assert.equal((await request(liveUrl(router, '/order'), { method: 'POST', body: 'x' })).body, 'blue');
    await request(liveUrl(router, '/after'));
    await waitFor(() => mirroredPaths.length === before + 1, { what: 'the GET copy' });
    assert.ok(!mirroredPaths.includes('POST /order'));
  });

  void it('never fails the live path when the idle slot is down', async () => {
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('dead', await closedPort())] });
    for (let i = 0; i < 10; i += 1) assert.equal((await request(liveUrl(router))).body, 'blue');
    await waitFor(() => router.metrics.snapshot().green.mirrorErrors >= 1, {
      what: 'the failed copies to be counted',
    });
  });
});
