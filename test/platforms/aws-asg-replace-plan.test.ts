// The replace-instances plan helpers without AWS: the runner's one-call-at-a-time replay of a
// retirement, the step lists' `<…>` stand-ins as placeholders, the conditional deregistrations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plannedReplaceSteps, simulateRun, stateAfter } from '../../src/platforms/aws-asg/replace-plan.js';
import type { ObservedInstance, ReplaceState } from '../../src/platforms/aws-asg/replace-state.js';
import { MAX_SIZE_TAG, retireSteps, versionTag } from '../../src/platforms/aws-asg/replace-steps.js';
import { isAlive } from '../../src/platforms/aws-asg/replace-state.js';

function member(id: string, slot: string, lifecycle: string): ObservedInstance {
  return {
    id,
    state: 'running',
    app: 'shop',
    slot,
    release: 'v1',
    lifecycle,
    privateIp: '10.0.0.1',
    imageId: 'ami-v1',
    subnetId: undefined,
  };
}

const STATE: ReplaceState = {
  group: {
    name: 'prod',
    min: 1,
    max: 4,
    desired: 2,
    templateId: 'lt-1',
    templateVersion: '$Default',
    tags: { [MAX_SIZE_TAG]: '2', [versionTag('blue')]: '2', [versionTag('green')]: '1' },
    loadBalancerNames: [],
    targetGroupArns: ['arn:tg'],
  },
  template: { id: 'lt-1', defaultVersion: 2, defaultData: { ImageId: 'ami-v1' }, versions: [] },
  instances: [
    member('i-b1', 'blue', 'InService'),
    member('i-b2', 'blue', 'InService'),
    member('i-g1', 'green', 'Standby'),
    member('i-g2', 'green', 'Standby'),
  ],
  images: [],
  balancers: [{ kind: 'elbv2', id: 'arn:tg', health: new Map([['i-g1', 'healthy']]) }],
};

void test('a retirement replayed one call at a time: each call computed from the state the earlier ones leave', () => {
  const { calls, after } = simulateRun(STATE, (now) => retireSteps(now, 'shop', 'green', { idleOnly: true }));
  assert.deepEqual(
    calls.map((step) => (step.kind === 'call' ? step.call : step.until)),
    [
      'TerminateInstanceInAutoScalingGroup',
      'TerminateInstanceInAutoScalingGroup',
      'UpdateAutoScalingGroup',
      'DeleteTags',
      'DeregisterTargets',
    ],
  );
  assert.deepEqual(
    after.instances.filter(isAlive).map((instance) => instance.id),
    ['i-b1', 'i-b2'],
  );
  assert.equal(after.group.max, 2);
  assert.equal(after.group.tags[MAX_SIZE_TAG], undefined);
  assert.equal(after.balancers[0]!.health.size, 0, 'the deregistered instance is off the balancer');
  assert.deepEqual(simulateRun(after, (now) => retireSteps(now, 'shop', 'green')).calls, [], 'nothing left');
});

void test('stand-ins become placeholders; an EnterStandby is followed by its conditional deregistration', () => {
  const steps = plannedReplaceSteps(
    [
      {
        kind: 'call',
        service: 'ec2',
        call: 'RunInstances',
        input: { ClientToken: 'cutover-abc', MinCount: 1, MaxCount: 1, Skipped: undefined },
        why: 'launch',
      },
      { kind: 'wait', until: 'instances-running', why: 'running' },
      {
        kind: 'call',
        service: 'autoscaling',
        call: 'EnterStandby',
        input: {
          AutoScalingGroupName: 'prod',
          InstanceIds: ['<new instance 1>'],
          ShouldDecrementDesiredCapacity: true,
        },
        why: 'standby',
      },
    ],
    STATE,
    { deadlineMs: 5_000, deploymentKnown: false },
  );
  assert.deepEqual(steps[0], {
    kind: 'call',
    service: 'ec2',
    operation: 'RunInstances',
    input: { ClientToken: { placeholder: 'idempotency token of this launch' }, MinCount: 1, MaxCount: 1 },
  });
  assert.equal(steps[1]!.kind, 'wait');
  assert.equal(steps[1]!.kind === 'wait' && steps[1]!.deadlineMs, 5_000);
  assert.deepEqual(steps[2]!.kind === 'call' && steps[2]!.input.InstanceIds, [
    { placeholder: 'new instance 1' },
  ]);
  assert.deepEqual(steps[3], {
    kind: 'call',
    service: 'elasticloadbalancing',
    operation: 'DeregisterTargets',
    input: { TargetGroupArn: 'arn:tg', Targets: [{ Id: { placeholder: 'new instance 1' } }] },
    condition: steps[3]!.kind === 'call' ? steps[3]!.condition : '',
  });
  assert.match(
    String(steps[3].kind === 'call' && steps[3].condition),
    /only for instances a load balancer still lists/,
  );
});

void test('a call whose effect a plan cannot replay is refused with a stable code, not guessed', () => {
  assert.throws(
    () =>
      stateAfter(STATE, [
        { kind: 'call', service: 'ec2', call: 'CreateImage', input: { InstanceId: 'i-b1' }, why: 'bake' },
      ]),
    (error: unknown) => (error as { code?: string }).code === 'CUTOVER_E_INTERNAL',
  );
});
