import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import {
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';

void describe('proxy keep-alive', () => {
  let router: BuiltinRouter;
  let backend: TestServer;
  const upstreamConnections = new Set<string>();

  before(async () => {
    backend = await startServer((req, res) => {
      upstreamConnections.add(`${req.socket.remotePort}`);
      res.end('blue');
    });
    router = await openRouter();
    await router.prepare({ blue: [target('b1', backend.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  void it('reuses one client connection and one upstream connection for sequential requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 20; i += 1) {
      const response = await request(liveUrl(router), { agent });
      assert.equal(response.status, 200);
      assert.equal(response.body, 'blue');
      assert.equal(response.headers.connection, 'keep-alive');
      reused.push(response.reusedSocket);
    }
    agent.destroy();
    assert.equal(reused[0], false);
    assert.ok(
      reused.slice(1).every(Boolean),
      'every request after the first rode the same client connection',
    );
    assert.equal(upstreamConnections.size, 1, 'the proxy kept one pooled upstream connection');
  });

  void it('keeps the client connection open across a switch to another slot', async () => {
    const green = await startServer((_req, res) => res.end('green'));
    try {
      await router.prepare({ blue: [target('b1', backend.port)], green: [target('g1', green.port)] });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const first = await request(liveUrl(router), { agent });
      await router.setWeights({ blue: 0, green: 100 });
      const second = await request(liveUrl(router), { agent });
      await router.setWeights({ blue: 100, green: 0 });
      const third = await request(liveUrl(router), { agent });
      agent.destroy();
      assert.deepEqual([first.body, second.body, third.body], ['blue', 'green', 'blue']);
      assert.ok(second.reusedSocket && third.reusedSocket, 'the switch did not close the client connection');
    } finally {
      await green.close();
    }
  });
});
