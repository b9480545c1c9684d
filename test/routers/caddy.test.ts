import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCutoverError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { weightsAllOn, type SlotTargets } from '../../src/shared/slot.js';
import { CaddyAdmin } from '../../src/routers/caddy/caddy-admin.js';
import { createCaddyRouter } from '../../src/routers/caddy/caddy-router.js';
import { startCaddyHarness, type CaddyHarness } from '../support/daemons/caddy.js';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startHeldBackend } from '../support/held-backend.js';
import { startLoad, waitFor } from '../support/load.js';
import { prepareBlueLivePair, type BlueGreenBackends } from './blue-live-pair.js';
import { getOnce, runRouterContract, sample } from './contract.js';

runRouterContract('caddy', () => startCaddyHarness());
runRouterContract('caddy (switchBy: config)', () => startCaddyHarness({ router: { switchBy: 'config' } }));

void describe('caddy router, switch by marker file (the default)', () => {
  let harness: CaddyHarness;
  let pair: BlueGreenBackends | undefined;

  before(async () => {
    harness = await startCaddyHarness();
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
  });

  after(async () => {
    await harness?.router.close();
    await harness?.teardown();
    await pair?.close();
  });

  void it('Switch_WritesNoConfig_AndTheSameKeepAliveConnectionCarriesOnToTheNewSlot', async () => {
    const interposer = await startInterposer(harness.adminUrl);
    const router = createCaddyRouter(
      { ...harness.config, adminUrl: interposer.url },
      deps(harness.previewToken),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await router.open();
      const before = await getOn(harness.publicUrl, agent);
      await router.setWeights(weightsAllOn('green'));
      const afterSwitch = await getOn(harness.publicUrl, agent);
      assert.deepEqual(
        interposer.seen.filter((request) => request.method !== 'GET'),
        [],
        'a switch must not change Caddy config (that reloads Caddy)',
      );
      assert.equal(before.body, 'blue-1');
      assert.equal(afterSwitch.body, 'green-1');
      assert.equal(afterSwitch.socket, before.socket, 'Caddy kept the client connection across the switch');
    } finally {
      agent.destroy();
      await router.setWeights(weightsAllOn('blue'));
      await router.close();
      await interposer.close();
    }
  });

  // Regression: when every switch was an admin API config change, Caddy reloaded and closed
  // its idle keep-alive connections, ~26 failed requests per switch with 50 connections.
  void it('SwitchesUnderKeepAliveLoad_NoRequestFails', async () => {
    const load = startLoad({ url: harness.publicUrl, connections: 20 });
    try {
      for (let i = 0; i < 10; i++) {
        await harness.router.setWeights(weightsAllOn(i % 2 === 0 ? 'green' : 'blue'));
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    } finally {
      const stats = await load.stop();
      assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
      assert.ok(
        (stats.bodies['blue-1'] ?? 0) > 0 && (stats.bodies['green-1'] ?? 0) > 0,
        JSON.stringify(stats.bodies),
      );
    }
  });

  void it('MarkerRemovedByHand_Answers503_AndVerifySaysWhy_NextSwitchPutsItBack', async () => {
    const dir = harness.config.switchDir ?? '';
    await rm(path.join(dir, `${harness.config.server}.live`));
    const reply = await getOnce(harness.publicUrl);
    assert.equal(reply.status, 503);
    const seen = await harness.router.verify();
    assert.equal(seen.kind, 'unverifiable');
    assert.match(seen.kind === 'unverifiable' ? seen.reason : '', /no live marker file/);
    await harness.router.setWeights(weightsAllOn('blue'));
    assert.deepEqual(new Set(await sample(harness.publicUrl, 10)), new Set(['blue-1']));
  });
});

void describe('caddy router, switch by config change', () => {
  let harness: CaddyHarness;
  let pair: BlueGreenBackends | undefined;
  let targets: SlotTargets;

  const serverPath = () => `/config/apps/http/servers/${harness.config.server}`;
  const foreignRoute = {
    '@id': 'someone-else',
    match: [{ path: ['/other'] }],
    handle: [{ handler: 'static_response', body: 'other' }],
  };
  const removeForeignRoute = async () => {
    const reply = await harness.adminRequest('DELETE', '/id/someone-else');
    assert.equal(reply.status, 200, reply.body);
  };

  before(async () => {
    harness = await startCaddyHarness({ router: { switchBy: 'config' } });
    await harness.router.open();
    pair = await prepareBlueLivePair(harness.router);
    targets = pair.targets;
  });

  after(async () => {
    await harness?.router.close();
    await harness?.teardown();
    await pair?.close();
  });

  void it('Switch_IsOneTargetedPatchOfTheLiveRouteWithIfMatch', async () => {
    const interposer = await startInterposer(harness.adminUrl);
    const router = createCaddyRouter(
      { ...harness.config, adminUrl: interposer.url },
      deps(harness.previewToken),
    );
    try {
      await router.open();
      await router.setWeights(weightsAllOn('green'));
      const writes = interposer.seen.filter((request) => request.method !== 'GET');
      assert.equal(writes.length, 1, JSON.stringify(writes));
      assert.equal(writes[0]?.method, 'PATCH');
      assert.equal(writes[0]?.path, `${serverPath()}/routes/2`);
      assert.match(writes[0]?.ifMatch ?? '', new RegExp(`^"${serverPath()} [0-9a-f]+"$`));
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
    } finally {
      await router.setWeights(weightsAllOn('blue'));
      await router.close();
      await interposer.close();
    }
  });

  void it('ConcurrentEdit_IsDetectedByIfMatch_AndOurChangeIsReappliedOnTopOfIt', async () => {
    // Someone adds a route to the server between the router's read and its write.
    const interposer = await startInterposer(harness.adminUrl, async (count) => {
      if (count === 1) {
        const reply = await harness.adminRequest('PUT', `${serverPath()}/routes/0`, foreignRoute);
        assert.equal(reply.status, 200, reply.body);
      }
    });
    const router = createCaddyRouter(
      { ...harness.config, adminUrl: interposer.url },
      deps(harness.previewToken),
    );
    try {
      await router.open();
      await router.setWeights(weightsAllOn('green'));
      const writes = interposer.seen.filter((request) => request.method !== 'GET');
      assert.deepEqual(
        writes.map((write) => write.status),
        [412, 200],
        'the first write was refused by If-Match, the second made on the fresh read',
      );
      assert.deepEqual(await getOnce(`${harness.publicUrl}other`), { status: 200, body: 'other' });
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
      assert.deepEqual((await router.verify()).kind, 'observed');
    } finally {
      await removeForeignRoute();
      await router.setWeights(weightsAllOn('blue'));
      await router.close();
      await interposer.close();
    }
  });

  void it('ConcurrentEditsThatNeverStop_GiveAClearRouterError', async () => {
    const interposer = await startInterposer(harness.adminUrl, async (count) => {
      const reply = await harness.adminRequest('PUT', `${serverPath()}/routes/0`, {
        ...foreignRoute,
        '@id': `someone-else-${count}`,
      });
      assert.equal(reply.status, 200, reply.body);
    });
    const router = createCaddyRouter(
      { ...harness.config, adminUrl: interposer.url, conflictRetries: 1 },
      deps(harness.previewToken),
    );
    try {
      await router.open();
      await assert.rejects(router.setWeights(weightsAllOn('green')), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
        assert.match(error.message, /changed while cutover was updating it.*If-Match/);
        return true;
      });
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    } finally {
      for (const count of [1, 2]) {
        const reply = await harness.adminRequest('DELETE', `/id/someone-else-${count}`);
        assert.equal(reply.status, 200, reply.body);
      }
      await router.close();
      await interposer.close();
    }
  });

  void it('CaddyRestartedWithoutItsAutosave_StateIsReappliedOnTheNextChange', async () => {
    await harness.router.setWeights(weightsAllOn('green'));
    await harness.restartWithoutResume();
    const seen = await harness.router.verify();
    assert.equal(seen.kind, 'unverifiable');
    assert.match(seen.kind === 'unverifiable' ? seen.reason : '', /no server "cutover".*--resume/);

    await harness.router.setWeights(weightsAllOn('green'));
    await waitFor(async () => (await getOnce(harness.publicUrl).catch(() => undefined))?.body === 'green-1', {
      timeoutMs: 10_000,
      what: 'the recreated server to serve',
    });
    assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
    assert.deepEqual(await harness.router.verify(), {
      kind: 'observed',
      weights: weightsAllOn('green'),
      targets,
    });
    const route = await harness.router.preview('blue');
    assert.deepEqual(new Set(await sample(route.url, 10, route.headers)), new Set(['blue-1']));
    await harness.router.setWeights(weightsAllOn('blue'));
  });

  void it('RefusedConfig_LeavesTheOldOneServing_WithCaddysMessage', async () => {
    const undo = await harness.rejectNextConfig();
    try {
      await assert.rejects(harness.router.setWeights(weightsAllOn('green')), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
        assert.match(error.message, /Caddy refused PATCH .*loading certificates/);
        return true;
      });
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['blue-1']));
    } finally {
      await undo();
    }
  });

  void it('WeightedSplit_IsRefusedBecauseCaddy26HasNoWeights', async () => {
    assert.equal(harness.router.describe().capabilities.weighted, false);
    await assert.rejects(harness.router.setWeights({ blue: 50, green: 50 }), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
      assert.match(error.message, /Caddy 2\.6 has no weighted upstreams/);
      return true;
    });
    assert.deepEqual(new Set(await sample(harness.publicUrl, 10)), new Set(['blue-1']));
  });

  void it('InFlightRequest_FinishesAcrossASwitch_AndDrainStatusCountsIt', async () => {
    const held = await startHeldBackend('blue-held');
    try {
      await harness.router.prepare({
        ...targets,
        blue: [{ id: 'blue-held', host: '127.0.0.1', port: held.port }],
      });
      const slow = getOnce(harness.publicUrl);
      await waitFor(() => held.waiting() === 1, { timeoutMs: 5_000, what: 'the slow request to reach blue' });
      await harness.router.setWeights(weightsAllOn('green'));
      assert.deepEqual(new Set(await sample(harness.publicUrl, 20)), new Set(['green-1']));
      assert.deepEqual(await harness.router.drainStatus('blue'), {
        kind: 'counted',
        inFlight: 1,
        connections: 1,
      });
      held.release();
      assert.deepEqual(await slow, { status: 200, body: 'blue-held' });
      await waitFor(
        async () => {
          const status = await harness.router.drainStatus('blue');
          return status.kind === 'counted' && status.inFlight === 0;
        },
        { timeoutMs: 10_000, what: 'blue to drain' },
      );
    } finally {
      await harness.router.setWeights(weightsAllOn('green'));
      await harness.router.prepare(targets);
      await harness.router.setWeights(weightsAllOn('blue'));
      await held.close();
    }
  });
});

function deps(previewToken: string): { logger: typeof silentLogger; baseDir: string; previewToken: string } {
  return { logger: silentLogger, baseDir: process.cwd(), previewToken };
}

/** One GET on `agent`; answers the body and the socket it went over. */
function getOn(url: string, agent: http.Agent): Promise<{ body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ body, socket: request.socket }));
    });
    request.on('error', reject);
  });
}

interface SeenRequest {
  method: string;
  path: string;
  ifMatch: string | undefined;
  status: number;
}

interface Interposer {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Sits between a router and Caddy's admin API, forwarding everything (trailers included) and
 * recording it; `beforeWrite(n)` runs before the n-th write is forwarded, so a test can make
 * "someone else" change the config between the router's read and its write.
 */
async function startInterposer(
  adminUrl: string,
  beforeWrite?: (count: number) => Promise<void>,
): Promise<Interposer> {
  const admin = new CaddyAdmin(adminUrl, 10_000);
  const seen: SeenRequest[] = [];
  let writes = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const method = request.method ?? 'GET';
        if (method !== 'GET') {
          writes += 1;
          await beforeWrite?.(writes);
        }
        const ifMatch = request.headers['if-match'];
        const body = Buffer.concat(chunks).toString('utf8');
        const upstream = await admin.send(method, request.url ?? '/', {
          body: body.length > 0 ? body : undefined,
          headers: ifMatch !== undefined ? { 'if-match': ifMatch } : {},
        });
        seen.push({ method, path: request.url ?? '/', ifMatch, status: upstream.status });
        const trailers = Object.entries(upstream.trailers).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        );
        response.writeHead(upstream.status, {
          'content-type': 'application/json',
          ...(trailers.length > 0 ? { trailer: trailers.map(([name]) => name).join(', ') } : {}),
        });
        response.write(upstream.body);
        response.addTrailers(Object.fromEntries(trailers));
        response.end();
      })().catch((error: unknown) => {
        response.writeHead(502);
        response.end(JSON.stringify({ error: String(error) }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
