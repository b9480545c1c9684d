/**
 * `kill -9` of `cutover server` in each phase of a deployment. On restart it must reconcile
 * from the journal with no operator input, and no request may ever reach a slot that has not
 * passed its checks: the e2e app answers "<version>-unhealthy" until its health check passes,
 * so one such body seen by the load means invariant 1 was broken.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startLoad, waitFor, type RunningLoad } from '../support/load.js';
import { CutoverHarness, type HarnessOptions } from './harness.js';

interface Deployment {
  id: string;
  phase: string;
  standbyUntil: string | null;
}

const harnesses: CutoverHarness[] = [];
after(() => Promise.all(harnesses.map((h) => h.teardown())));

async function setup(
  options: Partial<HarnessOptions> & { v2Files?: Record<string, string> },
): Promise<CutoverHarness> {
  const harness = await CutoverHarness.create({
    releases: { v1: {}, v2: { files: options.v2Files ?? {} } },
    drainTimeout: options.drainTimeout ?? '2s',
    ...(options.extraYaml ? { extraYaml: options.extraYaml } : {}),
  });
  harnesses.push(harness);
  await harness.startServer();
  const first = await harness.cli(['deploy', 'v1']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  return harness;
}

async function startDeploy(harness: CutoverHarness): Promise<Deployment> {
  const { status, body } = await harness.api<{ deployment: Deployment }>('POST', '/v1/deployments', {
    release: 'v2',
  });
  assert.equal(status, 202, JSON.stringify(body));
  return body.deployment;
}

function loadOn(harness: CutoverHarness): RunningLoad {
  return startLoad({ url: harness.trafficUrl, connections: 20, errorBackoffMs: 20 });
}

function assertOnlyHealthyBodies(bodies: Record<string, number>): void {
  for (const body of Object.keys(bodies)) {
    assert.ok(
      !body.endsWith('-unhealthy'),
      `a request reached an instance that had not passed its checks: ${JSON.stringify(bodies)}`,
    );
  }
}

/** Kill -9 in `phase`, restart, and let the journal drive the deployment to `expected`. */
async function crashIn(
  harness: CutoverHarness,
  deployment: Deployment,
  phase: string,
  expected: string,
): Promise<Deployment> {
  await harness.waitForPhase(deployment.id, [phase]);
  const before = loadOn(harness);
  await harness.killServer();
  const during = await before.stop();
  const afterRestart = loadOn(harness);
  await harness.startServer();
  await harness.waitForPhase(deployment.id, [expected], 30_000);
  await waitFor(() => afterRestart.stats().ok > 50, { what: 'traffic to flow after the restart' });
  const stats = await afterRestart.stop();
  assertOnlyHealthyBodies(during.bodies);
  assertOnlyHealthyBodies(stats.bodies);
  const { body } = await harness.api<{ deployment: Deployment }>('GET', `/v1/deployments/${deployment.id}`);
  return body.deployment;
}

describe('kill -9 of cutover server during a deployment', () => {
  it('in provisioning: resumes provisioning and completes', async () => {
    const harness = await setup({ extraYaml: 'hooks:\n  beforeProvision: "sleep 1"' });
    const deployment = await startDeploy(harness);
    await crashIn(harness, deployment, 'provisioning', 'standby');
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v2');
  });

  it('in verifying: keeps traffic off green until it is healthy, then completes', async () => {
    const harness = await setup({ v2Files: { UNHEALTHY_FOR_MS: '2500' } });
    const deployment = await startDeploy(harness);
    await crashIn(harness, deployment, 'verifying', 'standby');
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v2');
  });

  it('in shifting: re-applies the step it had journaled and completes the shift', async () => {
    const harness = await setup({
      extraYaml: 'strategy:\n  kind: shift\n  steps:\n    - { weight: 50, pause: 3s }',
    });
    const deployment = await startDeploy(harness);
    await crashIn(harness, deployment, 'shifting', 'standby');
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v2');
  });

  it('in draining: finishes the drain after the restart and reaches standby', async () => {
    const harness = await setup({ drainTimeout: '10s' });
    // A slow request in flight on blue keeps the drain open long enough to crash in it.
    const slow = fetch(`${harness.trafficUrl}/slow?ms=3000`).then(
      (response) => response.text(),
      (error: Error) => `failed: ${error.message}`,
    );
    const deployment = await startDeploy(harness);
    const final = await crashIn(harness, deployment, 'draining', 'standby');
    assert.ok(final.standbyUntil);
    // The slow request's connection went down with the server's proxy; that is the crash, not the drain.
    await slow;
  });

  it('in standby: stays in standby with the same window, and rollback is still instant', async () => {
    const harness = await setup({});
    const deployment = await startDeploy(harness);
    await harness.waitForPhase(deployment.id, ['standby']);
    const { body } = await harness.api<{ deployment: Deployment }>('GET', `/v1/deployments/${deployment.id}`);
    const bluePids = harness.instancePids('blue');
    const final = await crashIn(harness, deployment, 'standby', 'standby');
    assert.equal(final.standbyUntil, body.deployment.standbyUntil);
    assert.deepEqual(harness.instancePids('blue'), bluePids, 'blue kept running through the crash');
    const rollback = await harness.cli(['rollback']);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v1');
    assert.deepEqual(harness.instancePids('blue'), bluePids, 'rollback restarted nothing');
  });
});
