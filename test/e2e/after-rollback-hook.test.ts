/**
 * hooks.afterRollback runs after a rollback with the environment of the deployment's other
 * hooks; its failure is logged and audited and leaves the rollback done.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';

const harnesses: CutoverHarness[] = [];
after(() => Promise.all(harnesses.map((harness) => harness.teardown())));

async function deployedTwice(afterRollback: string): Promise<{ harness: CutoverHarness; id: string }> {
  const harness = await CutoverHarness.create({
    releases: { v1: {}, v2: {} },
    instances: 1,
    extraYaml: `hooks:\n  afterRollback: ${JSON.stringify(afterRollback)}`,
  });
  harnesses.push(harness);
  await harness.startServer();
  assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
  const second = await harness.cli(['deploy', 'v2', '--json']);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  const { deployment } = JSON.parse(second.stdout) as { deployment: { id: string } };
  return { harness, id: deployment.id };
}

describe('hooks.afterRollback', () => {
  it('runs after a rollback, with the deployment hook environment, before rollback returns', async () => {
    const { harness, id } = await deployedTwice('env | grep ^CUTOVER_ | sort > after-rollback.env');
    const written = path.join(harness.dir, 'after-rollback.env');
    assert.equal(existsSync(written), false, 'the hook ran before any rollback');

    const rollback = await harness.cli(['rollback']);

    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    const env = Object.fromEntries(
      readFileSync(written, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    assert.deepEqual(env, {
      CUTOVER_APP: 'e2e',
      CUTOVER_DEPLOYMENT: id,
      CUTOVER_PREVIOUS_RELEASE: 'v1',
      CUTOVER_PREVIOUS_SLOT: 'blue',
      CUTOVER_RELEASE: 'v2',
      CUTOVER_SLOT: 'green',
    });
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v1');
  });

  it('a failing afterRollback is audited and logged, and the rollback stands', async () => {
    const { harness, id } = await deployedTwice('echo cannot notify >&2; exit 3');

    const rollback = await harness.cli(['rollback', '--json']);

    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    assert.equal(
      (JSON.parse(rollback.stdout) as { deployment: { phase: string } }).deployment.phase,
      'rolled-back',
    );
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v1');
    assert.equal(await harness.phaseOf(id), 'rolled-back');
    const { body } = await harness.api<{
      audit: { action: string; outcome: string; details: { message?: string } }[];
    }>('GET', '/v1/audit');
    const entry = body.audit.find((item) => item.action === 'afterRollback');
    assert.equal(entry?.outcome, 'failed', JSON.stringify(body.audit));
    assert.match(entry.details.message ?? '', /afterRollback hook exited with code 3: cannot notify/);
    assert.match(harness.serverLog, /"hook\.failed"/);
  });
});
