/**
 * `cutover deploy --plan` for recipe 1 (aws-asg mode replace-instances) behind a target group,
 * against moto: after v1 is deployed, the plan of v2 makes no call that changes anything, and
 * the deploy of v2 then makes exactly the planned calls, in order, with the planned inputs; each
 * placeholder stands for the value the deploy sent (the new instances, the baked image, the
 * launch template version, the deployment's id).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { deployCalls, type DeployPlan } from '../../src/shared/plan.js';
import {
  PRODUCTION_GROUP,
  makeReplaceFixture,
  type ReplaceFixture,
} from '../platforms/aws-asg-replace-fixture.js';
import { AWS_TEST_REGION } from '../platforms/aws-asg-fixture.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import type { DeploymentOutput } from './aws-scenario.js';
import { CutoverHarness } from './harness.js';

const HEALTH_SCRIPT = fileURLToPath(new URL('../support/apps/asg-instance-health.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function configYaml(fixture: ReplaceFixture): string {
  const connection = { region: AWS_TEST_REGION, endpoint: fixture.aws.moto.endpoint, maxAttempts: 1 };
  const router = {
    kind: fixture.kind,
    targetGroup: fixture.balancer.name,
    ...connection,
    settleTimeout: '20s',
  };
  // moto's instances run nothing: the check is the group's view (the idle slot waits in Standby).
  const probe = [
    process.execPath,
    '--import',
    TSX,
    HEALTH_SCRIPT,
    fixture.aws.moto.endpoint,
    AWS_TEST_REGION,
    'standby-ok',
  ];
  return [
    `app: ${fixture.aws.app}`,
    `platform: ${JSON.stringify(fixture.settings({ readyTimeout: '20s', pollInterval: '50ms' }))}`,
    `router: ${JSON.stringify(router)}`,
    'health:',
    `  exec: { command: ${JSON.stringify(probe)} }`,
    '  interval: 100ms',
    '  timeout: 20s',
    '  healthyThreshold: 1',
    '  unhealthyThreshold: 1',
    '  deadline: 60s',
    'drain: { timeout: 1s }',
    'rollbackWindow: 10m',
    '',
  ].join('\n');
}

void describe('cutover deploy --plan, recipe 1 (replace instances) behind a target group, against moto', () => {
  let fixture: ReplaceFixture;
  let harness: CutoverHarness;

  before(async () => {
    fixture = await makeReplaceFixture('aws-target-group');
    harness = await CutoverHarness.create({ releases: {} });
    writeFileSync(harness.configFile, configYaml(fixture));
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await fixture?.cleanup();
    }
  });

  void it('plans v2 without changing anything, and the deploy makes exactly the planned calls', async () => {
    const first = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const blue = await fixture.liveTagged('blue');
    // The instances from before cutover: green's after v1, in Standby; the deploy of v2 replaces them.
    const original = await fixture.liveTagged('green');

    await startRecording(fixture.aws.moto.endpoint);
    const planned = await harness.cli(['deploy', 'v2', '--plan', '--json']);
    assert.equal(planned.code, 0, planned.stderr + planned.stdout);
    const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
    assert.deepEqual(
      (await recordedRequests(fixture.aws.moto.endpoint)).filter(isMutating).map((request) => request.action),
      [],
      'the plan made no call that changes anything',
    );
    assert.equal(plan.toSlot, 'green');
    assert.deepEqual(await fixture.liveTagged('green'), original, 'no instance launched, none terminated');
    const calls = deployCalls(plan);
    const operations = calls.map((call) => call.operation);
    for (const expected of ['RunInstances', 'CreateImage', 'AttachInstances', 'ExitStandby', 'EnterStandby'])
      assert.ok(operations.includes(expected), `${expected} planned: ${operations.join(', ')}`);

    const drain = plan.phases.find((phase) => phase.phase === 'drain');
    assert.match(
      JSON.stringify(drain?.steps),
      new RegExp(`no instance of blue in ${PRODUCTION_GROUP} registered at target group`),
    );

    await startRecording(fixture.aws.moto.endpoint);
    const deployed = await harness.cli(['deploy', 'v2', '--json']);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    const { deployment } = JSON.parse(deployed.stdout) as DeploymentOutput;
    assert.equal(deployment.phase, 'standby');
    const made = (await recordedRequests(fixture.aws.moto.endpoint)).filter(isMutating);
    const bound = assertPlanMade(calls, made);

    const green = await fixture.liveTagged('green');
    assert.equal(green.length, 2);
    assert.equal(bound.get('id of this deployment'), deployment.id);
    assert.deepEqual([bound.get('new instance 1'), bound.get('new instance 2')].sort(), green);
    assert.deepEqual(
      bound.get('the instances of green in Standby after provision')?.split(',').sort(),
      green,
    );
    const enter = made.find(
      (request) => request.action === 'EnterStandby' && request.params['InstanceIds.member.1'] === blue[0],
    );
    assert.ok(enter, `blue's instances went into Standby: ${JSON.stringify(made)}`);
  });
});
