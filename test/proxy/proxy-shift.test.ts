import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { liveUrl, openRouter, request, target } from './support/proxy-fixture.js';

void describe('proxy weighted shift', () => {
  let router: BuiltinRouter;
  let blue: VersionBackend;
  let green: VersionBackend;

  before(async () => {
    blue = await startVersionBackend('blue');
    green = await startVersionBackend('green');
    router = await openRouter({ stickyCookie: 'slot' });
    await router.prepare({ blue: [target('b1', blue.port)], green: [target('g1', green.port)] });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await green.close();
  });

  void it('splits new clients by weight and sets the sticky cookie', async () => {
    await router.setWeights({ blue: 50, green: 50 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i += 1) {
      const response = await request(liveUrl(router));
      counts[response.body] = (counts[response.body] ?? 0) + 1;
      assert.match(
        String(response.headers['set-cookie']),
        new RegExp(`^slot=${response.body}; Path=/; HttpOnly`),
      );
    }
    assert.ok(
      (counts.blue ?? 0) > 40 && (counts.green ?? 0) > 40,
      `both versions get a share: ${JSON.stringify(counts)}`,
    );
  });

  void it('keeps each client on one version during the shift', async () => {
    await router.setWeights({ blue: 70, green: 30 });
    for (let client = 0; client < 20; client += 1) {
      const agent = new http.Agent({ keepAlive: false });
      const first = await request(liveUrl(router), { agent });
      const cookie = String(first.headers['set-cookie']).split(';')[0]!;
      for (let i = 0; i < 10; i += 1) {
        const again = await request(liveUrl(router), { agent, headers: { cookie: `other=1; ${cookie}` } });
        assert.equal(again.body, first.body, `client ${client} stays on ${first.body}`);
        assert.equal(
          again.headers['set-cookie'],
          undefined,
          'no new cookie while the sticky slot keeps weight',
        );
      }
    }
  });

  void it('moves a sticky client once its slot has no weight left', async () => {
    await router.setWeights({ blue: 0, green: 100 });
    const response = await request(liveUrl(router), { headers: { cookie: 'slot=blue' } });
    assert.equal(response.body, 'green');
    await router.setWeights({ blue: 100, green: 0 });
    const back = await request(liveUrl(router), { headers: { cookie: 'slot=green' } });
    assert.equal(back.body, 'blue');
  });

  void it('sends every new request to the new slot after an atomic switch returns', async () => {
    for (let i = 0; i < 50; i += 1) {
      const to = i % 2 === 0 ? 'green' : 'blue';
      await router.setWeights(to === 'green' ? { blue: 0, green: 100 } : { blue: 100, green: 0 });
      const responses = await Promise.all([1, 2, 3].map(() => request(liveUrl(router))));
      assert.deepEqual(
        responses.map((response) => response.body),
        [to, to, to],
      );
    }
  });
});
