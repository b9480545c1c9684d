/**
 * Shadow comparison through the real builtin router (a proxy worker process): the worker
 * compares mirrored copies' answers with the live ones and reports counts and redacted samples
 * to the control plane's ledger; the live answers are the live slot's, untouched; unsafe methods
 * are never compared; a slow shadow and the concurrency cap drop copies, counted.
 */
import assert from 'node:assert/strict';
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

void describe('proxy shadow comparison (builtin router, worker process)', () => {
  let router: BuiltinRouter;
  let blue: TestServer;
  let green: TestServer;
  const greenSaw: string[] = [];
  let stamp = 0;
  let greenSlowAnswered = 0;

  before(async () => {
    const answer = (name: string) => (req: { url?: string }, res: import('node:http').ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      stamp += 1;
      const differs = url.pathname === '/other' && name === 'green';
      res.setHeader('content-type', 'application/json');
      // Alike on both slots but for /other, where green's differ (and every value is a secret).
      res.setHeader('set-cookie', differs ? 'session=green-secret' : 'session=shared-secret');
      res.setHeader('x-api-key', differs ? 'green-key' : 'shared-key');
      const body = JSON.stringify({ v: 1, ts: `${name}-${stamp}`, name: differs ? 'changed' : 'same' });
      if (url.pathname === '/slow' && name === 'green')
        setTimeout(() => {
          greenSlowAnswered += 1;
          res.end(body);
        }, 1_000);
      else res.end(body);
    };
    blue = await startServer((req, res) => {
      req.resume();
      answer('blue')(req, res);
    });
    green = await startServer((req, res) => {
      greenSaw.push(`${req.method} ${req.url}`);
      req.resume();
      answer('green')(req, res);
    });
    router = await openRouter({
      workers: 1,
      mirror: {
        percent: 100,
        methods: ['GET', 'HEAD', 'DELETE'],
        unsafeMethodsDuplicateWrites: true,
        compare: {
          headers: ['content-type', 'set-cookie', 'x-api-key'],
          ignore: ['$.ts'],
          timeout: '300ms',
          maxConcurrent: 1,
          secretHeaders: ['X-Api-Key'],
          secretQueryParams: ['customer'],
        },
      },
    });
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
  });

  const counts = () => router.shadow.counts().green;

  void it('pairs differing only in an ignored path are compared and alike; the live answer is the live slot’s', async () => {
    for (let i = 0; i < 10; i += 1) {
      const response = await request(liveUrl(router, `/same/${i}`));
      assert.equal(response.status, 200);
      assert.match(response.body, /"ts":"blue-\d+"/, 'the client gets blue’s answer');
    }
    await waitFor(() => counts().compared === 10, { what: 'ten compared pairs' });
    assert.equal(counts().differing, 0);
    assert.deepEqual(router.shadow.counts().blue, { compared: 0, differing: 0, dropped: 0 });
  });

  void it('a differing field is counted and sampled, with cookies, secret headers and secret query values redacted', async () => {
    const since = Date.now();
    const before = counts();
    for (let i = 0; i < 3; i += 1) {
      const response = await request(liveUrl(router, `/other?token=t0p-s3cret&page=${i}&Customer=acme`), {
        headers: { cookie: 'session=abc', authorization: 'Bearer sekrit' },
      });
      assert.match(response.body, /"name":"same"/);
    }
    await waitFor(() => counts().compared === before.compared + 3, { what: 'three more compared pairs' });
    assert.equal(counts().differing, before.differing + 3);
    await waitFor(() => router.shadow.samples('green', since).length === 3, { what: 'three samples' });
    const [sample] = router.shadow.samples('green', since);
    assert.ok(sample);
    assert.equal(sample.method, 'GET');
    assert.equal(sample.target, '/other?token=[redacted]&page=0&Customer=[redacted]');
    assert.equal(sample.live.status, 200);
    assert.equal(sample.live.headers['set-cookie'], '[redacted]');
    assert.equal(sample.shadow.headers['x-api-key'], '[redacted]');
    assert.equal(sample.live.headers['content-type'], 'application/json');
    assert.deepEqual(
      sample.headers.sort(),
      ['set-cookie', 'x-api-key'],
      'compared on the real values, shown redacted',
    );
    assert.deepEqual(sample.body, { kind: 'json', paths: ['$.name'], more: false });
    assert.match(sample.shadow.body ?? '', /"name":"changed"/);
    const text = JSON.stringify(router.shadow.samples('green', 0));
    for (const secret of ['t0p-s3cret', 'acme', 'secret', 'green-key', 'shared-key', 'sekrit'])
      assert.ok(!text.includes(secret), `no sample shows ${secret}`);
  });

  void it('an unsafe method is copied (as configured) but never compared', async () => {
    const before = counts();
    const response = await request(liveUrl(router, '/same/delete'), { method: 'DELETE' });
    assert.equal(response.status, 200);
    await waitFor(() => greenSaw.includes('DELETE /same/delete'), { what: 'the DELETE copy at green' });
    await request(liveUrl(router, '/same/after'));
    await waitFor(() => counts().compared === before.compared + 1, { what: 'the GET after it compared' });
    assert.deepEqual(counts(), { ...before, compared: before.compared + 1 }, 'the DELETE was not counted');
  });

  void it('a shadow slower than the timeout is dropped; past maxConcurrent the copy is not even sent', async () => {
    const before = counts();
    const sentBefore = greenSaw.filter((line) => line.startsWith('GET /slow')).length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(liveUrl(router, '/slow'))));
    assert.ok(answers.every((answer) => answer.status === 200));
    assert.equal(
      greenSlowAnswered,
      0,
      'the live answers came before the slow shadow answered: they never waited',
    );
    await waitFor(() => counts().dropped === before.dropped + 5, { what: 'five dropped copies' });
    assert.equal(counts().compared, before.compared);
    assert.equal(
      greenSaw.filter((line) => line.startsWith('GET /slow')).length - sentBefore,
      1,
      'one copy in flight at once (maxConcurrent 1); the others were never sent',
    );
  });
});
