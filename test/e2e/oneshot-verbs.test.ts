/**
 * The one-shot verbs beyond deploy and rollback, through a real nginx with no server: `retire`
 * stops the old slot once (and only once) its rollback window has ended, the next deploy retires
 * a standby on its own, and a manual promotion gate is a resting point between two commands
 * (`deploy` stops there, `promote` carries on to standby, `abort` ends the next one). A rollback
 * killed before its traffic move is finished by the next `cutover rollback`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';
import { processAlive, sample } from './oneshot-scenario.js';

interface Deployment {
  id: string;
  phase: string;
  release: string;
  standbyUntil: string | null;
}

function useNginxHarness(options: { rollbackWindow: string; extraYaml?: string }): () => CutoverHarness {
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;
  before(async () => {
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, v3: {} },
      router: { config: daemon.config, url: daemon.url },
      rollbackWindow: options.rollbackWindow,
      extraYaml: options.extraYaml,
    });
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await daemon?.teardown();
    }
  });
  return () => {
    assert.ok(harness, 'the one-shot harness did not start');
    return harness;
  };
}

async function json<T>(harness: CutoverHarness, args: string[], code = 0): Promise<T> {
  const result = await harness.cli([...args, '--json']);
  assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}

// The window outlasts a one-shot CLI start on a loaded machine (tsx compiles on each run).
describe('cutover retire without a server', () => {
  const h = useNginxHarness({ rollbackWindow: '8s' });

  it('leaves the old slot warm inside its rollback window and stops it once the window has ended', async () => {
    await json(h(), ['deploy', 'v1']);
    const { deployment } = await json<{ deployment: Deployment }>(h(), ['deploy', 'v2']);
    assert.equal(deployment.phase, 'standby');
    const oldPids = h().instancePids('blue');
    assert.equal(oldPids.length, 2);

    const early = await json<{ retired: Deployment[]; waiting: Deployment[] }>(h(), ['retire']);
    assert.deepEqual(early.retired, []);
    assert.deepEqual(
      early.waiting.map((d) => d.id),
      [deployment.id],
    );
    for (const pid of oldPids) assert.ok(processAlive(pid), `old-slot instance ${pid} still runs`);

    const windowEnd = new Date(deployment.standbyUntil!).getTime();
    await waitFor(() => Date.now() > windowEnd, { timeoutMs: 15_000, what: 'the rollback window to end' });
    const late = await json<{ retired: Deployment[]; waiting: Deployment[] }>(h(), ['retire']);
    assert.deepEqual(
      late.retired.map((d) => [d.id, d.phase]),
      [[deployment.id, 'retired']],
    );
    for (const pid of oldPids) assert.ok(!processAlive(pid), `old-slot instance ${pid} stopped`);
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v2']);
    const rollback = await h().cli(['rollback']);
    assert.equal(rollback.code, 2, 'nothing is left to roll back to');
  });

  it('the next deploy retires a standby whose window is still open', async () => {
    const { deployment: v3 } = await json<{ deployment: Deployment }>(h(), ['deploy', 'v3']);
    assert.equal(v3.phase, 'standby');
    const { deployment: again } = await json<{ deployment: Deployment }>(h(), ['deploy', 'v1']);
    assert.equal(again.phase, 'standby');
    const { deployments } = await json<{ deployments: Deployment[] }>(h(), ['history']);
    assert.deepEqual(
      deployments.slice(0, 2).map((d) => [d.release, d.phase]),
      [
        ['v1', 'standby'],
        ['v3', 'retired'],
      ],
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);
  });
});

describe('a manual promotion gate without a server', () => {
  const h = useNginxHarness({
    rollbackWindow: '10m',
    extraYaml: ['strategy:', '  kind: switch', '  promotion: manual'].join('\n'),
  });

  it('deploy stops at the gate (exit 0), promote carries it on, abort ends the next one', async () => {
    const first = await json<{ ok: boolean; deployment: Deployment }>(h(), ['deploy', 'v1']);
    assert.deepEqual([first.ok, first.deployment.phase], [true, 'awaiting-promotion']);
    const promoted = await json<{ ok: boolean; deployment: Deployment }>(h(), ['promote']);
    assert.deepEqual([promoted.ok, promoted.deployment.phase], [true, 'retired']);
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);

    const second = await json<{ deployment: Deployment }>(h(), ['deploy', 'v2']);
    assert.equal(second.deployment.phase, 'awaiting-promotion');
    const aborted = await json<{ deployment: Deployment }>(h(), ['abort', second.deployment.id]);
    assert.equal(aborted.deployment.phase, 'aborted');
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);
    assert.deepEqual(h().instancePids('green').filter(processAlive), [], 'the aborted slot was stopped');
  });

  it('deploy --no-wait exits 2: without a server the CLI is the engine', async () => {
    const result = await h().cli(['deploy', 'v3', '--no-wait']);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /--no-wait needs a running cutover server/);
    const { deployments } = await json<{ deployments: Deployment[] }>(h(), ['history']);
    assert.ok(!deployments.some((d) => d.release === 'v3'), 'nothing was started');
  });
});

describe('a one-shot rollback killed before its traffic move', () => {
  const h = useNginxHarness({ rollbackWindow: '10m' });

  it('the next `cutover rollback` takes up the journaled rollback and finishes it (exit 0, rolled-back)', async () => {
    await json(h(), ['deploy', 'v1']);
    const { deployment } = await json<{ deployment: Deployment }>(h(), ['deploy', 'v2']);
    assert.equal(deployment.phase, 'standby');
    const rolledBackPids = h().instancePids('green');
    // The CLI SIGKILLs itself between the journaled `rolling-back` and the move back to blue.
    const killed = await h().cli(['rollback', '--json'], {
      CUTOVER_TEST_CRASH_AT_POINT: 'unwind.before-move',
    });
    assert.notEqual(killed.code, 0, killed.stdout + killed.stderr);
    const { deployments } = await json<{ deployments: Deployment[] }>(h(), ['history']);
    assert.equal(deployments.find((d) => d.id === deployment.id)?.phase, 'rolling-back');

    const rollback = await json<{ ok: boolean; deployment: Deployment }>(h(), ['rollback']);
    assert.deepEqual(
      [rollback.ok, rollback.deployment.id, rollback.deployment.phase],
      [true, deployment.id, 'rolled-back'],
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);
    assert.deepEqual(rolledBackPids.filter(processAlive), [], 'the rolled-back slot was stopped');
  });
});
