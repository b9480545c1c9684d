/**
 * `GET /v1/status` and `/metrics` answer while a provision is under way: they read what the
 * engine knows now and never queue behind the platform. The new release listens only after
 * START_DELAY_MS, and provision waits for that; both answers must arrive before it does.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

interface GreenRecord {
  state?: string;
  instances: { pid?: number; port: number }[];
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNREFUSED' ? resolve(true) : reject(error),
    );
  });
}

describe('status and metrics during a provision', () => {
  let harness: CutoverHarness;
  after(() => harness.teardown());

  it('answer while the provision is still pending', async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: { files: { START_DELAY_MS: '8000' } } },
      instances: 1,
    });
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
    const started = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v2',
    });
    assert.equal(started.status, 202);

    // The platform is inside provision: the green instance was spawned, and listens only later.
    const recordFile = path.join(harness.stateDir, 'platform', 'process', 'green.json');
    const readGreen = (): GreenRecord | undefined =>
      existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as GreenRecord) : undefined;
    await waitFor(() => readGreen()?.instances[0]?.pid !== undefined, {
      timeoutMs: 15_000,
      what: 'the green instance to be spawned',
    });
    const port = readGreen()!.instances[0]!.port;

    const status = await harness.api<{ active: { phase: string }[] }>('GET', '/v1/status');
    const metrics = await fetch(`${harness.adminUrl}/metrics`, {
      headers: { authorization: `Bearer ${harness.token()}` },
    });
    const metricsText = await metrics.text();

    // Both answered before the instance listened, so before provision() could return.
    assert.equal(await connectionRefused(port), true, 'the provision had already finished');
    assert.equal(readGreen()?.state, 'starting');
    assert.equal(status.status, 200);
    assert.deepEqual(
      status.body.active.map((deployment) => deployment.phase),
      ['provisioning'],
    );
    assert.equal(metrics.status, 200);
    assert.match(metricsText, /cutover_deployment_phase\{phase="provisioning"[^}]*\} 1/);
    await harness.waitForPhase(started.body.deployment.id, ['standby'], 40_000);
  });
});
