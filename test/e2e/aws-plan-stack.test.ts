/**
 * `cutover deploy --plan` for recipe 3 (platform aws-asg, mode replica-stack, with an ALB (and
 * target group) replica and the source group's scaling policies and alarms, behind router route53 in mode
 * alias), against moto: the plan of v2 is made (and makes no call that changes anything), then
 * v2 is deployed for real, and the calls moto recorded — Auto Scaling, ELB, CloudWatch and the
 * Route 53 change batch — are the plan's calls, in order, with the planned values; the blue
 * stack's park after the DNS hold included.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { deployCalls, type DeployPlan } from '../../src/shared/plan.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { createReplicaSource, type ReplicaSource } from '../platforms/aws-replica-source.js';
import type { DeploymentOutput } from './aws-scenario.js';
import { createStackZone, replicaStackConfig, type StackZone } from './aws-stack-scenario.js';
import { CutoverHarness } from './harness.js';

void describe('cutover deploy --plan, replica stack (ALB) behind route53, against moto', () => {
  let fixture: AwsAsgFixture;
  let source: ReplicaSource;
  let harness: CutoverHarness;
  let zone: StackZone | undefined;

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
    zone = await createStackZone(fixture);
    harness = await CutoverHarness.create({ releases: {} });
    const router = { ttl: '1s', dnsMargin: '1s', settleTimeout: '10s' };
    writeFileSync(harness.configFile, replicaStackConfig(fixture, source, zone.zoneId, router, '2s'));
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      zone?.route53.destroy();
      source?.clients.destroy();
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
    assert.deepEqual(
      (await recordedRequests(fixture.moto.endpoint)).filter(isMutating).map((r) => r.action),
      [],
      'the plan made no call that changes anything',
    );
    const calls = deployCalls(plan);
    const green = groupName(fixture.app, 'green', 'v2');
    const blue = groupName(fixture.app, 'blue', 'v1');
    const replica = replicaName(fixture.app, 'green', 'v2');
    const operations = calls.map((call) => call.operation);
    assert.deepEqual(operations.slice(0, 2), ['CreateLaunchTemplate', 'CreateAutoScalingGroup']);
    for (const wanted of [
      'CreateTargetGroup',
      'CreateLoadBalancer',
      'CreateListener',
      'AttachLoadBalancerTargetGroups',
      'PutScalingPolicy',
      'PutMetricAlarm',
      'ResumeProcesses',
      'ChangeResourceRecordSets',
      'SuspendProcesses',
      'UpdateAutoScalingGroup',
    ]) {
      assert.ok(operations.includes(wanted), `${wanted} planned: ${operations.join(', ')}`);
    }
    const create = calls.find((call) => call.operation === 'CreateLoadBalancer');
    assert.equal(create?.input.Name, replica);
    const park = calls.slice(-2);
    assert.deepEqual(
      park.map((call) => [call.operation, call.input.AutoScalingGroupName]),
      [
        ['SuspendProcesses', blue],
        ['UpdateAutoScalingGroup', blue],
      ],
      'blue is parked after the DNS hold',
    );
    const waits = plan.phases.flatMap((phase) => phase.steps).filter((step) => step.kind === 'wait');
    assert.ok(
      waits.some((wait) => wait.until.includes(`load balancer ${replica} counts every instance of ${green}`)),
      JSON.stringify(waits),
    );

    await startRecording(fixture.moto.endpoint);
    const deployed = await harness.cli(['deploy', 'v2', '--json']);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    const { deployment } = JSON.parse(deployed.stdout) as DeploymentOutput;
    assert.equal(deployment.phase, 'standby');
    const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
    const bound = assertPlanMade(calls, made);
    assert.deepEqual(
      made.map((request) => request.action),
      operations.filter((operation) => operation !== 'TerminateInstances'),
      'every planned call was made (none of them is conditional here)',
    );
    assert.equal(bound.get('id of this deployment'), deployment.id);
    // The record names what the provision made: the placeholders stood for green's balancer.
    const balancer = (await source.clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [replica] })))
      .LoadBalancers![0]!;
    assert.equal(bound.get(`ARN of load balancer ${replica}`), balancer.LoadBalancerArn);
    assert.equal(bound.get(`DNS name of load balancer ${replica}`), balancer.DNSName);
    assert.equal(bound.get(`hosted zone of load balancer ${replica}`), balancer.CanonicalHostedZoneId);
  });

  void it('plans v1 back onto blue with v2 in standby: the parked stack stopped, its existing replica, policies and alarms put again, as planned', async () => {
    await startRecording(fixture.moto.endpoint);
    const planned = await harness.cli(['deploy', 'v1', '--plan', '--json']);
    assert.equal(planned.code, 0, planned.stderr + planned.stdout);
    const { plan } = JSON.parse(planned.stdout) as { plan: DeployPlan };
    assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
    assert.deepEqual(
      plan.phases.map((phase) => phase.phase),
      ['retire-standby', 'provision', 'verify', 'switch', 'drain', 'retire'],
    );
    const calls = deployCalls(plan);
    const operations = calls.map((call) => call.operation);
    // Blue's stack exists (parked): no load balancer, target group or listener is created.
    for (const absent of [
      'CreateLoadBalancer',
      'CreateTargetGroup',
      'CreateListener',
      'CreateAutoScalingGroup',
    ]) {
      assert.ok(!operations.includes(absent), `${absent} not planned: ${operations.join(', ')}`);
    }
    const blue = groupName(fixture.app, 'blue', 'v1');
    const restore = calls.find((call) => call.operation === 'UpdateAutoScalingGroup');
    assert.deepEqual(
      [restore?.input.AutoScalingGroupName, restore?.input.DesiredCapacity],
      [blue, 2],
      'the parked group gets its capacity back',
    );

    await startRecording(fixture.moto.endpoint);
    const deployed = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(deployed.code, 0, deployed.stderr + deployed.stdout);
    assert.equal((JSON.parse(deployed.stdout) as DeploymentOutput).deployment.phase, 'standby');
    const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
    assertPlanMade(calls, made);
    assert.deepEqual(
      made.map((request) => request.action),
      operations.filter((operation) => operation !== 'TerminateInstances'),
    );
  });

  void it('a replicate.group that does not exist: the plan fails as the deploy does, and changes nothing', async () => {
    const config = readFileSync(harness.configFile, 'utf8');
    writeFileSync(harness.configFile, config.replace(`"group":"${source.group}"`, '"group":"no-such-group"'));
    try {
      await startRecording(fixture.moto.endpoint);
      const planned = await harness.cli(['deploy', 'v2', '--plan']);
      assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
      const deployed = await harness.cli(['deploy', 'v2']);
      const said = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('cutover:'));
      assert.notEqual(planned.code, 0, planned.stdout);
      assert.match(
        said(planned.stderr).join('\n'),
        /the Auto Scaling group no-such-group whose scaling policies replicate.group copies does not exist/,
      );
      assert.ok(
        said(deployed.stderr).some((line) => line.includes('no-such-group whose scaling policies')) ||
          deployed.stdout.includes('no-such-group whose scaling policies'),
        deployed.stdout + deployed.stderr,
      );
    } finally {
      writeFileSync(harness.configFile, config);
    }
  });
});
