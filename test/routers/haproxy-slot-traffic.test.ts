/**
 * HAProxy's per-slot traffic counters (routers/haproxy/slot-traffic.ts), what the builtin
 * analysis reads when the router is HAProxy: against a real HAProxy driven by the router, and
 * against hostile `show stat` text.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/shared/logger.js';
import { createHaproxyRouter, type HaproxyRouter } from '../../src/routers/haproxy/haproxy-router.js';
import { slotTrafficFromStat } from '../../src/routers/haproxy/slot-traffic.js';
import { parseStat } from '../../src/routers/haproxy/runtime-api.js';
import { startHaproxyHarness, type HaproxyHarness } from '../support/daemons/haproxy.js';
import { freePort } from '../support/daemons/common.js';

/** A backend answering every request with `status`. */
async function startStatusBackend(status: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(String(status));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.status;
}

void describe('HAProxy slot traffic from a real HAProxy', () => {
  let haproxy: HaproxyHarness | undefined;
  let router: HaproxyRouter | undefined;
  const backends: { close(): Promise<void> }[] = [];

  before(async () => {
    haproxy = await startHaproxyHarness();
    await haproxy.router.close();
    router = createHaproxyRouter(haproxy.config, {
      logger: silentLogger,
      baseDir: haproxy.dir,
      previewToken: haproxy.previewToken,
    });
    await router.open();
  });
  after(async () => {
    await router?.close();
    await haproxy?.teardown();
    for (const backend of backends) await backend.close();
  });

  void it('counts each slot’s requests and 5xx, connection failures as proxy errors, and never preview requests', async () => {
    const h = haproxy!;
    const r = router!;
    const ok = await startStatusBackend(200);
    const failing = await startStatusBackend(500);
    backends.push(ok, failing);
    await r.prepare({
      blue: [{ id: 'b1', host: '127.0.0.1', port: ok.port }],
      green: [{ id: 'g1', host: '127.0.0.1', port: failing.port }],
    });
    await r.setWeights({ blue: 50, green: 50 });
    const before = await r.slotTraffic();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push(await get(h.publicUrl));
    const preview = await r.preview('green');
    for (let i = 0; i < 5; i += 1) assert.equal(await get(preview.url, { ...preview.headers }), 500);
    const afterAnswers = await r.slotTraffic();
    const delta = (slot: 'blue' | 'green', key: 'requests' | 'errors' | 'proxyErrors') =>
      afterAnswers[slot][key] - before[slot][key];
    assert.equal(
      delta('blue', 'requests') + delta('green', 'requests'),
      40,
      'preview requests are not counted',
    );
    assert.equal(delta('blue', 'requests'), statuses.filter((status) => status === 200).length);
    assert.equal(delta('green', 'errors'), statuses.filter((status) => status === 500).length);
    assert.equal(delta('blue', 'errors'), 0);
    assert.equal(delta('green', 'proxyErrors'), 0, 'a 500 of the upstream is not a connection failure');
    assert.equal(afterAnswers.green.fineLatency, null, 'HAProxy keeps no latency distribution');

    // Green's instance gone: HAProxy's own 503s count as green's errors and connection failures.
    const deadPort = await freePort();
    await r.prepare({
      blue: [{ id: 'b1', host: '127.0.0.1', port: ok.port }],
      green: [{ id: 'g2', host: '127.0.0.1', port: deadPort }],
    });
    await r.setWeights({ blue: 0, green: 100 });
    const beforeDead = await r.slotTraffic();
    for (let i = 0; i < 4; i += 1) assert.equal(await get(h.publicUrl), 503);
    const afterDead = await r.slotTraffic();
    assert.equal(afterDead.green.requests - beforeDead.green.requests, 4);
    assert.equal(afterDead.green.errors - beforeDead.green.errors, 4);
    assert.equal(afterDead.green.proxyErrors - beforeDead.green.proxyErrors, 4);
  });

  void it('a HAProxy that cannot be reached rejects with CUTOVER_E_ROUTER naming the socket', async () => {
    const unreachable = createHaproxyRouter(
      { ...haproxy!.config, socket: `${haproxy!.dir}/no-such.sock` },
      { logger: silentLogger, baseDir: haproxy!.dir, previewToken: haproxy!.previewToken },
    );
    await assert.rejects(unreachable.slotTraffic(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CUTOVER_E_ROUTER');
      assert.match(error.message, /no-such\.sock/);
      return true;
    });
  });
});

void describe('slotTrafficFromStat with hostile show stat text', () => {
  const backends = new Set(['app', 'app_blue', 'app_green']);
  const header = '# pxname,svname,req_tot,hrsp_5xx,econ,eresp';

  void it('keeps only the live backends’ slot servers: not FRONTEND/BACKEND rows, the preview backend or strangers', () => {
    const rows = parseStat(
      [
        header,
        'app,blue_1,10,1,0,0',
        'app_blue,blue_2,5,0,1,1',
        'app,BACKEND,99,99,99,99',
        'web,FRONTEND,99,99,99,99',
        'app_preview,green_1,50,50,0,0',
        'other,green_1,70,70,0,0',
        'app,intruder_1,70,70,0,0',
        'app_green,green_1,3,3,0,0',
      ].join('\n'),
    );
    assert.deepEqual(slotTrafficFromStat(rows, backends), {
      blue: { requests: 17, errors: 3, proxyErrors: 2, fineLatency: null },
      green: { requests: 3, errors: 3, proxyErrors: 0, fineLatency: null },
    });
  });

  void it('cells that are not counters count as zero: empty, negative, fractional, huge, text, missing', () => {
    const rows = parseStat(
      [header, 'app,blue_1,,-5,1.5,abc', 'app,blue_2,1e400,9007199254740993,NaN', 'app,green_1', ''].join(
        '\n',
      ),
    );
    assert.deepEqual(slotTrafficFromStat(rows, backends), {
      blue: { requests: 0, errors: 0, proxyErrors: 0, fineLatency: null },
      green: { requests: 0, errors: 0, proxyErrors: 0, fineLatency: null },
    });
    assert.deepEqual(slotTrafficFromStat(parseStat(''), backends).blue.requests, 0);
    assert.deepEqual(
      slotTrafficFromStat(parseStat('not csv at all\n\u0000\u0001'), backends).green.errors,
      0,
    );
  });
});
