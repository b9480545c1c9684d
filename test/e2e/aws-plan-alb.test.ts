/**
 * `cutover deploy --plan` for router aws-alb (platform aws-asg, replica groups), against moto:
 * the plan of a `switch` and of a `shift` of 10/50/100 with stickiness is made (and makes no
 * call that changes anything), then the same deploy runs for real, and the calls moto recorded
 * are the plan's calls — the attach of the new group to its slot's target group, one
 * ModifyListener per step with the planned weights and stickiness, and for the deploy that
 * first retires a standby slot, that slot's stop and its group's detach.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { deployCalls, type DeployPlan } from '../../src/shared/plan.js';
import { AWS_TEST_REGION, makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { createAlb, listenerForward, type AlbLayout } from '../support/aws-alb.js';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import { awsConnection, configYamlWithRouter, type DeploymentOutput } from './aws-scenario.js';
import { CutoverHarness } from './harness.js';

const SWITCH = ['strategy:', '  kind: switch'];
const SHIFT = [
  'strategy:',
  '  kind: shift',
  '  steps: [{ weight: 10, pause: 500ms }, { weight: 50, pause: 500ms }, { weight: 100 }]',
];

void describe('cutover deploy --plan, router aws-alb, against moto', () => {
  let fixture: AwsAsgFixture;
  let harness: CutoverHarness;
  let elbv2: ElasticLoadBalancingV2Client;
  let alb: AlbLayout;

  const writeConfig = (strategy: readonly string[]): void => {
    const router = {
      kind: 'aws-alb',
      listenerArn: alb.listenerArn,
      targetGroups: { blue: alb.targetGroupNames.blue, green: alb.targetGroupNames.green },
      stickiness: '1h',
      ...awsConnection(fixture),
      settleTimeout: '20s',
    };
    writeFileSync(harness.configFile, configYamlWithRouter(fixture, router, {}, strategy));
  };

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2', 'v3']);
    elbv2 = new ElasticLoadBalancingV2Client({
      region: AWS_TEST_REGION,
      endpoint: fixture.moto.endpoint,
      maxAttempts: 1,
      credentials: MOTO_CREDENTIALS,
    });
    alb = await createAlb({ ec2: fixture.ec2, elbv2 }, `${fixture.app}-alb`);
    harness = await CutoverHarness.create({ releases: {} });
    writeConfig(SWITCH);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      elbv2?.destroy();
      await fixture?.cleanup();
    }
  });

  /** Plans `release` (asserting the plan changes nothing), deploys it, compares the calls. */
  async function planThenDeploy(release: string): Promise<{ plan: DeployPlan; made: string[] }> {
    await startRecording(fixture.moto.endpoint);
    const planned = await harness.cli(['deploy', release, '--plan', '--json']);
    assert.equal(planned.code, 0, planned.stderr + planned.stdout);
    const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
    assert.deepEqual(
      (await recordedRequests(fixture.moto.endpoint)).filter(isMutating).map((r) => r.action),
      [],
      'the plan made no call that changes anything',
    );
    const calls = deployCalls(plan);
    await startRecording(fixture.moto.endpoint);
    const deployed = await harness.cli(['deploy', release, '--json']);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    assert.equal((JSON.parse(deployed.stdout) as DeploymentOutput).deployment.phase, 'standby');
    const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
    assertPlanMade(calls, made);
    return { plan, made: made.map((request) => request.action) };
  }

  void it('a switch: the new group attached to its target group, one ModifyListener to 100/0, as planned', async () => {
    const first = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);

    const { plan, made } = await planThenDeploy('v2');
    assert.deepEqual(made, [
      'CreateLaunchTemplate',
      'CreateAutoScalingGroup',
      'AttachLoadBalancerTargetGroups',
      'ModifyListener',
    ]);
    const modify = deployCalls(plan).find((call) => call.operation === 'ModifyListener');
    assert.deepEqual(modify?.input.DefaultActions, [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: alb.targetGroups.blue, Weight: 0 },
            { TargetGroupArn: alb.targetGroups.green, Weight: 100 },
          ],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
    const retire = plan.phases.find((phase) => phase.later);
    assert.deepEqual(
      retire?.steps.flatMap((step) => (step.kind === 'call' ? [step.operation] : [])),
      ['UpdateAutoScalingGroup', 'TerminateInstances', 'DetachLoadBalancerTargetGroups'],
      'retire later: blue to zero, then its group off blue’s target group',
    );
    assert.deepEqual((await listenerForward(elbv2, alb.listenerArn)).weights, {
      [alb.targetGroups.blue]: 0,
      [alb.targetGroups.green]: 100,
    });
  });

  void it('a shift of 10/50/100 with stickiness after retiring the standby slot, as planned', async () => {
    writeConfig(SHIFT);
    const { plan, made } = await planThenDeploy('v3');
    assert.deepEqual(
      plan.phases.map((phase) => phase.phase),
      ['retire-standby', 'provision', 'verify', 'shift', 'shift', 'shift', 'drain', 'retire'],
    );
    assert.deepEqual(made, [
      'UpdateAutoScalingGroup',
      'DetachLoadBalancerTargetGroups',
      'DeleteAutoScalingGroup',
      'DeleteLaunchTemplate',
      'CreateLaunchTemplate',
      'CreateAutoScalingGroup',
      'AttachLoadBalancerTargetGroups',
      'ModifyListener',
      'ModifyListener',
      'ModifyListener',
    ]);
    const forwards = deployCalls(plan)
      .filter((call) => call.operation === 'ModifyListener')
      .map((call) => JSON.stringify(call.input.DefaultActions));
    assert.match(forwards[0]!, /"Weight":10.*"Weight":90.*"Enabled":true,"DurationSeconds":3600/);
    assert.match(forwards[1]!, /"Weight":50.*"Weight":50.*"Enabled":true/);
    assert.match(forwards[2]!, /"Weight":100.*"Weight":0.*"Enabled":false/);
    const detach = deployCalls(plan).find((call) => call.operation === 'DetachLoadBalancerTargetGroups');
    assert.equal(detach?.input.AutoScalingGroupName, groupName(fixture.app, 'blue', 'v1'));
  });
});
