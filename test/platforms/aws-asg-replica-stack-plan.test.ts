/**
 * Platform.planProvision / planStop / coldStandby.planPark of aws-asg mode replica-stack with a
 * Classic ELB replica, against moto: planning makes no call that changes anything, and
 * provision(), park() and stop() then make exactly the planned calls, in order, with the planned
 * values (the e2e plan test compares the ALB replica behind route53; moto's Classic ELB has no
 * hosted zone for a route53 alias, so the Classic path is compared here, at the platform).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { isCutoverError } from '../../src/shared/errors.js';
import type { PlannedStep } from '../../src/shared/plan.js';
import type { Platform } from '../../src/shared/platform.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { recordedRequests, startRecording } from '../support/moto-recorder.js';
import { assertPlanMade, isMutating } from '../support/plan-match.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from './aws-asg-fixture.js';
import { createReplicaSource, type ReplicaSource } from './aws-replica-source.js';

/** A deployment id as the engine makes them (the plan names it by that shape). */
const DEPLOYMENT = 'd-20261205-120000-a1b2c3';

type Call = Extract<PlannedStep, { kind: 'call' }>;
const callsOf = (steps: readonly PlannedStep[]): Call[] =>
  steps.filter((step): step is Call => step.kind === 'call');

void describe('aws-asg replica-stack plans (Classic ELB), against moto', () => {
  let fixture: AwsAsgFixture;
  let source: ReplicaSource;
  let platform: Platform;

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
    platform = fixture.platform({
      mode: 'replica-stack',
      replicate: { group: source.group, loadBalancer: { classic: source.classic } },
    });
    await platform.provision('blue', 'v1', { deploymentId: 'd-1' });
  });
  after(async () => {
    await platform?.close();
    source?.clients.destroy();
    await fixture?.cleanup();
  });

  /** Plans with `plan` (asserting it changes nothing), runs `act`, compares the calls made. */
  async function planThenMake(plan: () => Promise<readonly PlannedStep[]>, act: () => Promise<unknown>) {
    await startRecording(fixture.moto.endpoint);
    const steps = await plan();
    assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
    await startRecording(fixture.moto.endpoint);
    await act();
    const made = (await recordedRequests(fixture.moto.endpoint)).filter(isMutating);
    const bound = assertPlanMade(callsOf(steps), made);
    return { calls: callsOf(steps), made, bound };
  }

  void it('provision of green: the replica, its health check and attributes, the attach, the copies, as planned', async () => {
    const name = replicaName(fixture.app, 'green', 'v2');
    const group = groupName(fixture.app, 'green', 'v2');
    let endpoint: unknown;
    const { calls, made, bound } = await planThenMake(
      async () => {
        const plan = await platform.planProvision!('green', 'v2');
        endpoint = plan.endpoint;
        return plan.steps;
      },
      () => platform.provision('green', 'v2', { deploymentId: DEPLOYMENT }),
    );
    assert.deepEqual(
      made.map((request) => request.action),
      [
        'CreateLaunchTemplate',
        'CreateAutoScalingGroup',
        'CreateLoadBalancer',
        'ConfigureHealthCheck',
        'ModifyLoadBalancerAttributes',
        'AttachLoadBalancers',
        'PutScalingPolicy',
        'PutScalingPolicy',
        'PutMetricAlarm',
        'PutMetricAlarm',
        'PutMetricAlarm',
        'ResumeProcesses',
      ],
    );
    assert.equal(calls.length, made.length);
    assert.equal(calls[2]!.input.LoadBalancerName, name);
    assert.equal(bound.get('id of this deployment'), DEPLOYMENT);
    assert.match(String(bound.get(`ARN of scaling policy ${group}/add-two`)), /:scalingPolicy:/);
    // Alarms on the source ELB are copied onto the replica's name.
    const alarms = calls.filter((call) => call.operation === 'PutMetricAlarm');
    assert.ok(
      alarms.some((alarm) => JSON.stringify(alarm.input.Dimensions).includes(`"Value":"${name}"`)),
      JSON.stringify(alarms.map((alarm) => alarm.input.Dimensions)),
    );
    assert.deepEqual(endpoint, {
      kind: 'aws-load-balancer',
      id: name,
      details: {
        region: 'us-east-1',
        dnsName: `<DNS name of load balancer ${name}>`,
        canonicalHostedZoneId: `<hosted zone of load balancer ${name}>`,
        type: 'classic',
        planned: 'true',
      },
    });
  });

  void it('provision of green again (a rerun): nothing created, what is copied put again, as planned', async () => {
    const { made } = await planThenMake(
      async () => (await platform.planProvision!('green', 'v2', { deploymentId: DEPLOYMENT })).steps,
      () => platform.provision('green', 'v2', { deploymentId: DEPLOYMENT }),
    );
    const actions = made.map((request) => request.action);
    assert.ok(!actions.some((action) => action.startsWith('Create')), actions.join(', '));
  });

  void it('park of blue and stop of green: suspended first, then to zero, as planned', async () => {
    const blue = groupName(fixture.app, 'blue', 'v1');
    const parked = await planThenMake(
      () => platform.coldStandby!.planPark!('blue'),
      () => platform.coldStandby!.park('blue'),
    );
    assert.deepEqual(
      parked.made.map((request) => [request.action, request.params.AutoScalingGroupName]),
      [
        ['SuspendProcesses', blue],
        ['UpdateAutoScalingGroup', blue],
      ],
    );
    const again = await planThenMake(
      () => platform.coldStandby!.planPark!('blue'),
      () => platform.coldStandby!.park('blue'),
    );
    assert.deepEqual(
      again.made.map((request) => request.action),
      ['SuspendProcesses'],
      'a parked group is not scaled again',
    );
    const stopped = await planThenMake(
      () => platform.planStop!('green', { graceMs: 1000 }),
      () => platform.stop('green', { graceMs: 1000 }),
    );
    assert.deepEqual(stopped.made.map((request) => request.action).slice(0, 2), [
      'SuspendProcesses',
      'UpdateAutoScalingGroup',
    ]);
  });

  void it("a load balancer with the replica's name that is not cutover's: the plan refuses it as provision does", async () => {
    const name = replicaName(fixture.app, 'blue', 'v2');
    await source.clients.elb.send(
      new CreateLoadBalancerCommand({
        LoadBalancerName: name,
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8000 }],
        AvailabilityZones: ['us-east-1a'],
      }),
    );
    await startRecording(fixture.moto.endpoint);
    await assert.rejects(platform.planProvision!('blue', 'v2'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, new RegExp(`a Classic ELB named ${name} exists and is not cutover's`));
      return true;
    });
    assert.deepEqual((await recordedRequests(fixture.moto.endpoint)).filter(isMutating), []);
  });
});
