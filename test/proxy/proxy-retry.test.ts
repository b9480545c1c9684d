import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { closedPort } from './support/black-hole.js';
import {
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';

/** Instance "dead" refuses connections and comes first in round-robin order on a fresh router. */
void describe('proxy retry of a failed upstream connection', () => {
  let router: BuiltinRouter;
  let alive: TestServer;
  let aliveRequests = 0;

  beforeEach(async () => {
    aliveRequests = 0;
    alive = await startServer((req, res) => {
      aliveRequests += 1;
      req.resume();
      req.on('end', () => res.end('alive'));
    });
    router = await openRouter();
    await router.prepare({
      blue: [target('dead', await closedPort()), target('alive', alive.port)],
      green: [],
    });
    await router.setWeights({ blue: 100, green: 0 });
  });
  afterEach(async () => {
    await router.close();
    await alive.close();
  });

  for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
    void it(`retries a ${method} once on another instance of the same slot`, async () => {
      const response = await request(liveUrl(router), { method });
      assert.equal(response.status, 200);
      assert.equal(aliveRequests, 1);
    });
  }

  void it('never retries a POST', async () => {
    const response = await request(liveUrl(router), { method: 'POST', body: 'order=1' });
    assert.equal(response.status, 502);
    assert.equal(aliveRequests, 0, 'the POST was not sent to the other instance');
  });

  void it('does not retry a request whose body had started', async () => {
    const response = await request(liveUrl(router), { method: 'PUT', body: 'x'.repeat(1000) });
    assert.equal(response.status, 502);
    assert.equal(aliveRequests, 0);
  });

  void it('retries only once: two dead instances give 502', async () => {
    await router.prepare({
      blue: [target('dead1', await closedPort()), target('dead2', await closedPort())],
      green: [],
    });
    const response = await request(liveUrl(router));
    assert.equal(response.status, 502);
  });

  void it('skips an instance that just refused, so later requests go straight to the live one', async () => {
    await request(liveUrl(router), { method: 'POST', body: 'x' });
    for (let i = 0; i < 4; i += 1)
      assert.equal((await request(liveUrl(router), { method: 'POST', body: 'x' })).status, 200);
  });
});

/**
 * An upstream that closes a keep-alive connection just as the proxy reuses it (the race every
 * pooled proxy meets): it answers the first request on each connection and drops the second.
 */
void describe('proxy retry on a stale keep-alive connection', () => {
  let router: BuiltinRouter;
  let upstream: net.Server;

  before(async () => {
    upstream = net.createServer((socket) => {
      let requests = 0;
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        while (buffered.includes('\r\n\r\n')) {
          const end = buffered.indexOf('\r\n\r\n') + 4;
          const length = Number(/content-length:\s*(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          buffered = buffered.slice(end + length);
          requests += 1;
          if (requests === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh');
          else socket.destroy();
        }
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    router = await openRouter();
    await router.prepare({
      blue: [target('flaky', (upstream.address() as net.AddressInfo).port)],
      green: [],
    });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  void it('retries a GET on a new connection when the pooled one was closed under it', async () => {
    assert.equal((await request(liveUrl(router))).body, 'fresh');
    for (let i = 0; i < 5; i += 1) {
      const response = await request(liveUrl(router));
      assert.equal(response.status, 200);
      assert.equal(response.body, 'fresh');
    }
  });

  void it('does not retry a POST in the same situation', async () => {
    assert.equal((await request(liveUrl(router))).body, 'fresh');
    const response = await request(liveUrl(router), { method: 'POST', body: 'pay' });
    assert.equal(response.status, 502);
  });
});
