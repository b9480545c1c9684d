/**
 * `cutover deploy --plan` for recipe 2 (replica group), against moto, for a target group and a
 * Classic ELB: the plan of v2 is made (and makes no call that changes anything), then v2 is
 * deployed for real, and the calls moto recorded are the plan's calls — same operations, same
 * order, same input values, each placeholder standing for exactly one value the deploy sent.
 * Hostile cases: a release with no image, and a platform/router that cannot plan.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DeleteAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { after, before, describe, it } from 'node:test';
import { deployCalls, type DeployPlan } from '../../src/shared/plan.js';
import { loadConfig } from '../../src/config/load.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { openAppStore } from '../../src/server/open-app.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import {
  attachedGroups,
  configYaml,
  createBalancer,
  type Balancer,
  type DeploymentOutput,
} from './aws-scenario.js';
import { CutoverHarness } from './harness.js';

for (const kind of ['aws-target-group', 'aws-elb'] as const) {
  void describe(`cutover deploy --plan, replica group behind ${kind}, against moto`, () => {
    let fixture: AwsAsgFixture;
    let harness: CutoverHarness;
    let balancer: Balancer;

    before(async () => {
      fixture = await makeAwsAsgFixture(['v1', 'v2', 'v3']);
      balancer = await createBalancer(kind, fixture);
      harness = await CutoverHarness.create({ releases: {} });
      writeFileSync(harness.configFile, configYaml(fixture, kind, balancer.name));
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        balancer?.destroy();
        await fixture?.cleanup();
      }
    });

    void it('plans v2 without changing anything, and the deploy makes exactly the planned calls', async () => {
      const first = await harness.cli(['deploy', 'v1', '--json']);
      assert.equal(first.code, 0, first.stderr + first.stdout);

      await startRecording(fixture.moto.endpoint);
      const planned = await harness.cli(['deploy', 'v2', '--plan', '--json']);
      assert.equal(planned.code, 0, planned.stderr + planned.stdout);
      const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
      const duringPlan = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
      assert.deepEqual(
        duringPlan.map((request) => request.action),
        [],
        'the plan made no call that changes anything',
      );
      assert.equal(plan.fromSlot, 'blue');
      assert.equal(plan.toSlot, 'green');
      const blue = groupName(fixture.app, 'blue', 'v1');
      const green = groupName(fixture.app, 'green', 'v2');
      assert.deepEqual(await attachedGroups(fixture, balancer), [blue], 'nothing moved');
      assert.equal(await fixture.countGroups(), 1, 'no group created');

      const calls = deployCalls(plan);
      const [attach, detach] =
        kind === 'aws-elb'
          ? ['AttachLoadBalancers', 'DetachLoadBalancers']
          : ['AttachLoadBalancerTargetGroups', 'DetachLoadBalancerTargetGroups'];
      assert.deepEqual(
        calls.map((call) => call.operation),
        ['CreateLaunchTemplate', 'CreateAutoScalingGroup', attach, detach],
      );
      const waits = plan.phases.flatMap((phase) => phase.steps).filter((step) => step.kind === 'wait');
      assert.ok(
        waits.some((wait) =>
          wait.until.includes(`2 instances InService and Healthy in Auto Scaling group ${green}`),
        ),
        JSON.stringify(waits),
      );
      const retire = plan.phases.find((phase) => phase.later);
      assert.deepEqual(
        retire?.steps
          .filter((step) => step.kind === 'call')
          .map((step) => step.kind === 'call' && step.operation),
        ['UpdateAutoScalingGroup', 'TerminateInstances'],
        'what retire does later: blue to zero, then what is left after the grace',
      );

      // The text form: the same calls, placeholders in angle brackets, and still no change.
      const text = await harness.cli(['deploy', 'v2', '--plan']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`autoscaling CreateAutoScalingGroup\\n +AutoScalingGroupName: "${green}"`),
      );
      assert.match(text.stdout, /LaunchTemplateId: <id of launch template /);
      assert.match(text.stdout, new RegExp(`autoscaling ${detach}\\n +AutoScalingGroupName: "${blue}"`));
      assert.match(text.stdout, /^later: after the rollback window/m);
      assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);

      await startRecording(fixture.moto.endpoint);
      const deployed = await harness.cli(['deploy', 'v2', '--json']);
      assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
      const { deployment } = JSON.parse(deployed.stdout) as DeploymentOutput;
      assert.equal(deployment.phase, 'standby');
      const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
      assert.deepEqual(
        made.map((request) => request.action),
        calls.map((call) => call.operation),
        'the deploy made the planned calls, in order',
      );
      const bound = assertPlanMade(calls, made);
      assert.equal(bound.get('id of this deployment'), deployment.id);
      assert.equal(made[2]!.params.AutoScalingGroupName, green);
      assert.equal(made[3]!.params.AutoScalingGroupName, blue);
    });

    void it('plans v3 with v2 in standby: blue retired first, its old group and template deleted, then the same switch', async () => {
      await startRecording(fixture.moto.endpoint);
      const planned = await harness.cli(['deploy', 'v3', '--plan', '--json']);
      assert.equal(planned.code, 0, planned.stderr + planned.stdout);
      const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
      assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
      assert.deepEqual(
        plan.phases.map((phase) => phase.phase),
        ['retire-standby', 'provision', 'verify', 'switch', 'drain', 'retire'],
      );
      assert.equal(plan.toSlot, 'blue');
      const calls = deployCalls(plan);

      await startRecording(fixture.moto.endpoint);
      const deployed = await harness.cli(['deploy', 'v3', '--json']);
      assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
      const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
      assertPlanMade(calls, made);
      const oldBlue = groupName(fixture.app, 'blue', 'v1');
      assert.ok(
        made.some((m) => m.action === 'DeleteAutoScalingGroup' && m.params.AutoScalingGroupName === oldBlue),
        'the planned deletion of blue’s old group was made',
      );
      assert.deepEqual(await attachedGroups(fixture, balancer), [groupName(fixture.app, 'blue', 'v3')]);
    });

    void it('a release with no image: the plan fails as the deploy does, and changes nothing', async () => {
      await startRecording(fixture.moto.endpoint);
      const planned = await harness.cli(['deploy', 'v9', '--plan']);
      const deployed = await harness.cli(['deploy', 'v9']);
      assert.notEqual(planned.code, 0);
      assert.equal(planned.code, deployed.code, planned.stderr + deployed.stderr);
      assert.match(planned.stderr, /CUTOVER_E_NOT_FOUND/);
      const said = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('cutover:'));
      assert.deepEqual(said(planned.stderr), said(deployed.stderr));
      assert.equal(said(planned.stderr).length, 1, planned.stderr);
      assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
    });

    void it('the app lock held by a live deploy: the plan is refused as the deploy is', async () => {
      const store = openAppStore(loadConfig(harness.configFile));
      const owner = `cutover@${hostname()}:${process.pid} one-shot deploy v7`;
      try {
        assert.ok((await store.acquireLease(fixture.app, owner, 60_000)).acquired);
        const planned = await harness.cli(['deploy', 'v2', '--plan']);
        const deployed = await harness.cli(['deploy', 'v2']);
        const said = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('cutover:'));
        assert.equal(planned.code, 3, planned.stderr);
        assert.equal(deployed.code, 3, deployed.stderr);
        assert.match(said(planned.stderr).join('\n'), /the lock is held by cutover@.* one-shot deploy v7/);
        assert.deepEqual(said(planned.stderr), said(deployed.stderr));
      } finally {
        await store.releaseLease(fixture.app, owner);
        await store.close();
      }
    });

    void it('a live group that is gone: the plan fails with the deploy’s code and message', async () => {
      // Someone deleted the live group behind cutover's back.
      await fixture.asg.send(
        new DeleteAutoScalingGroupCommand({
          AutoScalingGroupName: groupName(fixture.app, 'blue', 'v3'),
          ForceDelete: true,
        }),
      );
      await startRecording(fixture.moto.endpoint);
      const planned = await harness.cli(['deploy', 'v2', '--plan']);
      assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
      const deployed = await harness.cli(['deploy', 'v2']);
      const said = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('cutover:'));
      assert.notEqual(planned.code, 0, planned.stdout);
      assert.equal(planned.code, deployed.code, planned.stderr + deployed.stderr);
      assert.match(said(planned.stderr).join('\n'), /does not exist/);
      assert.deepEqual(said(planned.stderr), said(deployed.stderr));
    });
  });
}

void describe('cutover deploy --plan with a platform and router that cannot plan', () => {
  let harness: CutoverHarness;
  before(async () => {
    harness = await CutoverHarness.create({ releases: {} });
  });
  after(async () => harness?.teardown());

  void it('is refused naming both, with no server running, and nothing started', async () => {
    const text = await harness.cli(['deploy', 'v1', '--plan']);
    assert.equal(text.code, 2, text.stderr + text.stdout);
    assert.match(
      text.stderr,
      /--plan cannot list the calls of this deploy: platform process and router builtin/,
    );
    assert.match(text.stderr, /CUTOVER_E_USAGE/);
    const json = await harness.cli(['deploy', 'v1', '--plan', '--json']);
    assert.equal(json.code, 2);
    const answer = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(answer.ok, false);
    assert.equal(answer.error.code, 'CUTOVER_E_USAGE');
    assert.match(answer.error.message, /platform process and router builtin/);
  });
});
