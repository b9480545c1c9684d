import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import {
  PREVIEW_TOKEN,
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';

void describe('proxy preview route', () => {
  let router: BuiltinRouter;
  let blue: TestServer;
  let green: TestServer;
  const seenByGreen: http.IncomingHttpHeaders[] = [];
  let greenLiveHits = 0;

  before(async () => {
    blue = await startServer((_req, res) => res.end('blue'));
    green = await startServer((req, res) => {
      seenByGreen.push(req.headers);
      if (req.headers['x-test-preview'] !== 'yes') greenLiveHits += 1;
      res.end('green');
    });
    router = await openRouter({ previewListen: '127.0.0.1:0' });
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
  });

  void it('describes a header with the token and reaches only the idle slot with it', async () => {
    const route = await router.preview('green');
    assert.equal(route.slot, 'green');
    assert.equal(
      route.headers['x-cutover-preview'],
      undefined,
      'a preview listener exists, so the route uses it',
    );
    const viaListener = await request(`${route.url}/`, { headers: { 'x-test-preview': 'yes' } });
    assert.equal(viaListener.body, 'green');

    const viaHeader = await request(liveUrl(router), {
      headers: { 'x-cutover-preview': PREVIEW_TOKEN, 'x-test-preview': 'yes' },
    });
    assert.equal(viaHeader.body, 'green');
    assert.equal(seenByGreen.at(-1)?.['x-cutover-preview'], undefined, 'the token is not forwarded upstream');
  });

  void it('ignores the preview header without the right token', async () => {
    for (const value of ['1', 'green', `${PREVIEW_TOKEN}x`, PREVIEW_TOKEN.slice(1) + 'X']) {
      const response = await request(liveUrl(router), { headers: { 'x-cutover-preview': value } });
      assert.equal(response.body, 'blue', `header value ${value} must not reach the idle slot`);
    }
    assert.equal(greenLiveHits, 0, 'live traffic never reached the slot with weight 0');
  });

  void it('a preview header as long as the token but with a non-ASCII byte goes live, and the proxy keeps serving', async () => {
    // Same length in characters, one byte more in UTF-8: comparing it once threw out of the
    // request handler and stopped the process.
    const value = `${PREVIEW_TOKEN.slice(0, -1)}\u00e9`;
    const response = await request(liveUrl(router), { headers: { 'x-cutover-preview': value } });
    assert.equal(response.body, 'blue');
    assert.equal((await request(liveUrl(router))).body, 'blue', 'the proxy still answers');
  });

  void it('returns the live URL plus the header when there is no preview listener', async () => {
    const plain = await openRouter();
    try {
      await plain.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
      await plain.setWeights({ blue: 100, green: 0 });
      const route = await plain.preview('green');
      assert.equal(route.url, liveUrl(plain, ''));
      assert.deepEqual(route.headers, { 'x-cutover-preview': PREVIEW_TOKEN });
      const response = await request(`${route.url}/`, {
        headers: { ...route.headers, 'x-test-preview': 'yes' },
      });
      assert.equal(response.body, 'green');
    } finally {
      await plain.close();
    }
  });
});
