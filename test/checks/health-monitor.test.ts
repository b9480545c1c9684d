import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { HealthMonitor } from '../../src/checks/health-monitor.js';
import type { Target } from '../../src/shared/slot.js';
import { waitFor } from '../support/load.js';
import { healthConfig, startHealthServer } from './health-fixture.js';

void describe('HealthMonitor', () => {
  let servers: Awaited<ReturnType<typeof startHealthServer>>[];
  before(async () => {
    servers = [await startHealthServer('blue-0-v1'), await startHealthServer('blue-1-v1')];
  });
  after(async () => {
    for (const server of servers) await server.close();
  });

  void it('flags the target that starts failing, once, and reports its recovery', async () => {
    const [good, bad] = servers as [(typeof servers)[0], (typeof servers)[0]];
    const check = healthConfig({ interval: '20ms', unhealthyThreshold: 3, healthyThreshold: 2 });
    const monitor = new HealthMonitor([good.target, bad.target], check);
    const unhealthy: [Target, string][] = [];
    monitor.on('unhealthy', (target, detail) => unhealthy.push([target, detail]));
    monitor.start();
    try {
      bad.setStatus(500);
      const [target, detail] = (await once(monitor, 'unhealthy')) as [Target, string];
      assert.deepEqual(target, bad.target);
      assert.equal(detail, 'GET /healthz answered 500 (expected 200)');
      assert.equal(monitor.status().find((state) => state.target.id === 'blue-1-v1')?.consecutiveFailures, 3);

      bad.setStatus(200);
      const [recovered] = (await once(monitor, 'recovered')) as [Target, string];
      assert.deepEqual(recovered, bad.target);
      assert.deepEqual(
        unhealthy.map(([flagged]) => flagged.id),
        ['blue-1-v1'],
      );
      assert.ok(monitor.status().every((state) => state.healthy));
    } finally {
      monitor.stop();
    }
    await monitor.idle();
  });

  void it('emits nothing after stop() and leaves no round running', async () => {
    const [server] = servers;
    server!.setStatus('hang');
    const check = healthConfig({ interval: '10ms', timeout: '10s', unhealthyThreshold: 1 });
    const monitor = new HealthMonitor([server!.target], check);
    let events = 0;
    monitor.on('unhealthy', () => (events += 1));
    monitor.start();
    // Stopping while the first probe hangs aborts it; the round ends at once, with no event.
    const before = server!.requests();
    await waitFor(() => server!.requests() > before, { what: 'the first probe to reach the server' });
    monitor.stop();
    await monitor.idle();
    assert.equal(events, 0);
    server!.setStatus(200);
  });
});
