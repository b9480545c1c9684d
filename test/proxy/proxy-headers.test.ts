import assert from 'node:assert/strict';
import type http from 'node:http';
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

void describe('proxy forwarded and hop-by-hop headers', () => {
  let router: BuiltinRouter;
  let backend: TestServer;
  let seen: http.IncomingHttpHeaders = {};

  before(async () => {
    backend = await startServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, {
        'x-upstream-private': 'hop',
        connection: 'x-upstream-private',
        'keep-alive': 'timeout=30',
      });
      res.end('ok');
    });
    router = await openRouter();
    await router.prepare({ blue: [target('b1', backend.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  void it('adds X-Forwarded-For/-Proto/-Host and generates an X-Request-Id', async () => {
    const response = await request(liveUrl(router, '/path?q=1'), { headers: { host: 'shop.example' } });
    assert.equal(response.status, 200);
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'shop.example');
    assert.equal(seen.host, 'shop.example');
    assert.match(String(seen['x-request-id']), /^[0-9a-f]{12}-[0-9a-z]+$/);
  });

  void it('keeps a valid incoming X-Request-Id, replaces an invalid one, and appends to X-Forwarded-For', async () => {
    await request(liveUrl(router), {
      headers: { 'x-request-id': 'req-abc.123', 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(seen['x-request-id'], 'req-abc.123');
    assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    await request(liveUrl(router), { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.notEqual(seen['x-request-id'], 'bad id with spaces');
  });

  void it('strips hop-by-hop headers and the headers Connection names, both ways', async () => {
    const response = await request(liveUrl(router), {
      headers: {
        connection: 'keep-alive, x-client-private',
        'x-client-private': 'secret',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-connection': 'keep-alive',
        upgrade: 'h2c',
        'x-kept': 'yes',
      },
    });
    assert.equal(seen['x-kept'], 'yes');
    for (const name of ['x-client-private', 'keep-alive', 'te', 'proxy-connection', 'upgrade']) {
      assert.equal(seen[name], undefined, `${name} must not reach the upstream`);
    }
    assert.notEqual(seen.connection, 'keep-alive, x-client-private');
    assert.equal(response.headers['x-upstream-private'], undefined);
    assert.notEqual(response.headers['keep-alive'], 'timeout=30');
  });

  void it('streams a chunked request body upstream without the client framing', async () => {
    let received = '';
    let transferEncoding: string | undefined;
    const echo = await startServer((req, res) => {
      transferEncoding = req.headers['transfer-encoding'];
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (received += chunk));
      req.on('end', () => res.end('done'));
    });
    try {
      await router.prepare({ blue: [target('e1', echo.port)], green: [] });
      const response = await request(liveUrl(router), {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        body: 'chunked body',
      });
      assert.equal(response.body, 'done');
      assert.equal(received, 'chunked body');
      assert.equal(transferEncoding, 'chunked');
    } finally {
      await router.prepare({ blue: [target('b1', backend.port)], green: [] });
      await echo.close();
    }
  });
});
