/**
 * `cutover deploy --plan` for router aws-alb (platform aws-asg, replica groups), against moto:
 * the plan of a `switch` and of a `shift` of 10/50/100 with stickiness is made (and makes no
 * call that changes anything), then the same deploy runs for real, and the calls moto recorded
 * are the plan's calls — the attach of the new group to its slot's target group, one
 * ModifyListener per step with the planned weights and stickiness, and for the deploy that
 * first retires a standby slot, that slot's stop and its group's detach.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { deployCalls, type DeployPlan } from '../../src/shared/plan.js';
import { listenerForward } from '../support/aws-alb.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import type { DeploymentOutput } from './aws-scenario.js';
import { albScenario } from './aws-alb-scenario.js';

const SWITCH = ['strategy:', '  kind: switch'];
const SHIFT = [
  'strategy:',
  '  kind: shift',
  '  steps: [{ weight: 10, pause: 500ms }, { weight: 50, pause: 500ms }, { weight: 100 }]',
];

void describe('cutover deploy --plan, router aws-alb, against moto', () => {
  const aws = albScenario(SWITCH);

  /** Plans `release` (asserting the plan changes nothing), deploys it, compares the calls. */
  async function planThenDeploy(release: string): Promise<{ plan: DeployPlan; made: string[] }> {
    await startRecording(aws.fixture.moto.endpoint);
    const planned = await aws.harness.cli(['deploy', release, '--plan', '--json']);
    assert.equal(planned.code, 0, planned.stderr + planned.stdout);
    const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
    assert.deepEqual(
      (await recordedRequests(aws.fixture.moto.endpoint)).filter(isMutating).map((r) => r.action),
      [],
      'the plan made no call that changes anything',
    );
    const calls = deployCalls(plan);
    await startRecording(aws.fixture.moto.endpoint);
    const deployed = await aws.harness.cli(['deploy', release, '--json']);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    assert.equal((JSON.parse(deployed.stdout) as DeploymentOutput).deployment.phase, 'standby');
    const made = (await recordedRequests(aws.fixture.moto.endpoint)).filter(isMutating);
    assertPlanMade(calls, made);
    return { plan, made: made.map((request) => request.action) };
  }

  void it('a switch: the new group attached to its target group, one ModifyListener to 100/0, as planned', async () => {
    const first = await aws.harness.cli(['deploy', 'v1', '--json']);
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
            { TargetGroupArn: aws.alb.targetGroups.blue, Weight: 0 },
            { TargetGroupArn: aws.alb.targetGroups.green, Weight: 100 },
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
    assert.deepEqual((await listenerForward(aws.elbv2, aws.alb.listenerArn)).weights, {
      [aws.alb.targetGroups.blue]: 0,
      [aws.alb.targetGroups.green]: 100,
    });
  });

  void it('a shift of 10/50/100 with stickiness after retiring the standby slot, as planned', async () => {
    aws.writeConfig(SHIFT);
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
    assert.equal(detach?.input.AutoScalingGroupName, groupName(aws.fixture.app, 'blue', 'v1'));
  });
});
