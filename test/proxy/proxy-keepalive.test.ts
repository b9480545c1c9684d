import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
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

  void it('closes a pooled upstream connection once idle past the keep-alive time the upstream gave', async () => {
    // A raw backend that never closes a connection itself and says it keeps them 2 s: the proxy
    // stops reusing one after 1 s idle and must also close it, not leave it open until the
    // upstream drops it.
    const closedAt: number[] = [];
    const raw = net.createServer((socket) => {
      socket.on('data', () =>
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=2\r\n\r\nok'),
      );
      socket.on('close', () => closedAt.push(Date.now()));
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const idleRouter = await openRouter();
    try {
      await idleRouter.prepare({ blue: [target('raw', (raw.address() as AddressInfo).port)], green: [] });
      await idleRouter.setWeights({ blue: 100, green: 0 });
      const response = await request(liveUrl(idleRouter), { agent: new http.Agent({ keepAlive: false }) });
      assert.equal(response.body, 'ok');
      const answeredAt = Date.now();
      await waitFor(() => closedAt.length === 1, {
        timeoutMs: 5_000,
        what: 'the proxy to close the idle upstream connection',
      });
      assert.ok(closedAt[0]! - answeredAt >= 900, 'not before the hinted idle time');
    } finally {
      await idleRouter.close();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });
});
