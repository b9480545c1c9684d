// The replace-instances step lists as pure functions of a described state (no AWS): which
// calls a provision and a retirement plan, in which order, with which inputs — the capacity
// decrement rule, what is restored, what a reconcile leaves alone, which images are pruned.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BalancerHealth } from '../../src/aws/balancer-attachment.js';
import type { ObservedInstance, ReplaceState } from '../../src/platforms/aws-asg/replace-state.js';
import {
  MAX_SIZE_TAG,
  provisionSteps,
  retireSteps,
  versionDescription,
  versionTag,
  type ProvisionTarget,
  type ReplaceStep,
} from '../../src/platforms/aws-asg/replace-steps.js';

const APP = 'shop';

function instance(
  id: string,
  slot: string | undefined,
  release: string | undefined,
  lifecycle?: string,
  state = 'running',
): ObservedInstance {
  return {
    id,
    state,
    app: slot === undefined ? undefined : APP,
    slot,
    release,
    lifecycle,
    privateIp: '10.0.0.1',
    imageId: `ami-${release ?? 'base'}`,
    subnetId: undefined,
  };
}

function state(
  overrides: Partial<ReplaceState> & { health?: Record<string, BalancerHealth> } = {},
): ReplaceState {
  const { health = {}, ...rest } = overrides;
  return {
    group: {
      name: 'prod',
      min: 1,
      max: 2,
      desired: 2,
      templateId: 'lt-1',
      templateVersion: '$Default',
      tags: {},
      loadBalancerNames: [],
      targetGroupArns: ['arn:tg'],
    },
    template: {
      id: 'lt-1',
      defaultVersion: 1,
      defaultData: { ImageId: 'ami-base', InstanceType: 't3.micro' },
      versions: [],
    },
    instances: [],
    images: [],
    balancers: [{ kind: 'elbv2', id: 'arn:tg', health: new Map(Object.entries(health)) }],
    ...rest,
  };
}

const target: ProvisionTarget = {
  app: APP,
  slot: 'green',
  release: 'v2',
  userData: 'install v2',
  imageName: 'cutover-shop-v2',
  keepImages: 2,
  fallbackCount: 1,
};

const calls = (steps: ReplaceStep[]) =>
  steps.map((step) => (step.kind === 'call' ? step.call : `wait:${step.until}`));
const input = (steps: ReplaceStep[], name: string) => {
  const step = steps.find((found) => found.kind === 'call' && found.call === name);
  assert.ok(step?.kind === 'call', `${name} in ${calls(steps).join(', ')}`);
  return step.input as Record<string, unknown>;
};

void test('AFirstProvision_PlansEveryCallInOrder_WithPlaceholdersForIdsAwsHasNotGivenYet', () => {
  const before = state({
    instances: [
      instance('i-a', undefined, undefined, 'InService'),
      instance('i-b', undefined, undefined, 'InService'),
    ],
    health: { 'i-a': 'healthy', 'i-b': 'healthy' },
  });
  const steps = provisionSteps(before, target);
  assert.deepEqual(calls(steps), [
    'CreateTags',
    'CreateOrUpdateTags',
    'RunInstances',
    'wait:instances-running',
    'CreateImage',
    'wait:image-available',
    'UpdateAutoScalingGroup',
    'AttachInstances',
    'wait:in-service-at-balancers',
    'CreateLaunchTemplateVersion',
    'ModifyLaunchTemplate',
    'CreateOrUpdateTags',
    'EnterStandby',
  ]);
  assert.deepEqual(input(steps, 'CreateTags').Resources, ['i-a', 'i-b']);
  const run = input(steps, 'RunInstances');
  assert.equal(run.MinCount, 2, 'as many as serve now');
  assert.deepEqual(run.LaunchTemplate, { LaunchTemplateId: 'lt-1', Version: '1' }, 'an explicit version');
  assert.equal(Buffer.from(String(run.UserData), 'base64').toString(), 'install v2');
  assert.equal(input(steps, 'CreateImage').NoReboot, true);
  assert.equal(input(steps, 'UpdateAutoScalingGroup').MaxSize, 4);
  assert.deepEqual(input(steps, 'AttachInstances').InstanceIds, ['<new instance 1>', '<new instance 2>']);
  const version = input(steps, 'CreateLaunchTemplateVersion');
  assert.equal(version.VersionDescription, versionDescription(APP, 'green', 'v2'));
  assert.deepEqual(
    {
      ...(version.LaunchTemplateData as Record<string, unknown>),
      TagSpecifications: undefined,
      UserData: undefined,
    },
    { ImageId: '<image of v2>', InstanceType: 't3.micro', TagSpecifications: undefined, UserData: undefined },
    'the full data of the default, with the new image',
  );
  assert.equal(input(steps, 'EnterStandby').ShouldDecrementDesiredCapacity, true);
  const remembered = input(steps, 'CreateOrUpdateTags').Tags as { Key: string; Value: string }[];
  assert.deepEqual(
    remembered.map((tag) => [tag.Key, tag.Value]),
    [
      [MAX_SIZE_TAG, '2'],
      [versionTag('blue'), '1'],
    ],
  );
});

void test('AProvisionWhoseInstancesAreAttachedButNotHealthyYet_OnlyWaits', () => {
  const now = state({
    group: { ...state().group, max: 4, tags: { [MAX_SIZE_TAG]: '2', [versionTag('blue')]: '1' } },
    instances: [instance('i-a', 'blue', 'v1', 'InService'), instance('i-n', 'green', 'v2', 'InService')],
    images: [{ id: 'ami-v2', release: 'v2', state: 'available', created: '2026-12-05' }],
    health: { 'i-a': 'healthy', 'i-n': 'pending' },
  });
  const steps = provisionSteps(now, { ...target, fallbackCount: 1 });
  assert.equal(calls(steps)[0], 'wait:in-service-at-balancers');
  assert.ok(!calls(steps).includes('RunInstances'), 'nothing launched twice');
  assert.ok(!calls(steps).includes('CreateImage'), 'nothing baked twice');
});

void test('Retirement_DecrementsOnlyForInstancesStillCounted_AndRestoresDefaultAndMaxSize', () => {
  const now = state({
    group: {
      ...state().group,
      max: 4,
      desired: 2,
      tags: { [MAX_SIZE_TAG]: '2', [versionTag('blue')]: '3', [versionTag('green')]: '4' },
    },
    template: { ...state().template, defaultVersion: 4 },
    instances: [
      instance('i-b1', 'blue', 'v1', 'InService'),
      instance('i-b2', 'blue', 'v1', 'InService'),
      instance('i-g1', 'green', 'v2', 'Standby'),
      instance('i-g2', 'green', 'v2', 'InService'),
      instance('i-g3', 'green', 'v2', undefined),
    ],
  });
  const steps = retireSteps(now, APP, 'green');
  const terminations = steps.flatMap((step) =>
    step.kind === 'call' && step.call === 'TerminateInstanceInAutoScalingGroup' ? [step.input] : [],
  );
  assert.deepEqual(terminations, [
    { InstanceId: 'i-g1', ShouldDecrementDesiredCapacity: false },
    { InstanceId: 'i-g2', ShouldDecrementDesiredCapacity: true },
  ]);
  assert.deepEqual(
    input(steps, 'TerminateInstances').InstanceIds,
    ['i-g3'],
    'never attached: EC2 terminates it',
  );
  assert.deepEqual(input(steps, 'ModifyLaunchTemplate'), { LaunchTemplateId: 'lt-1', DefaultVersion: '3' });
  assert.equal(input(steps, 'UpdateAutoScalingGroup').MaxSize, 2);
  const forgotten = (input(steps, 'DeleteTags').Tags as { Key: string }[]).map((tag) => tag.Key);
  assert.deepEqual(forgotten, [versionTag('green'), MAX_SIZE_TAG]);
});

void test('Reconcile_LeavesInstancesInService_RetiresOnlyIdleOnes', () => {
  const now = state({
    instances: [instance('i-g1', 'green', 'v2', 'InService'), instance('i-g2', 'green', 'v2', 'Standby')],
  });
  const steps = retireSteps(now, APP, 'green', { idleOnly: true });
  const ids = steps.flatMap((step) => (step.kind === 'call' ? [step.input.InstanceId] : []));
  assert.deepEqual(ids.filter(Boolean), ['i-g2']);
});

void test('IdleInstancesABalancerStillLists_AreDeregistered_ButServingOnesAreNot', () => {
  const now = state({
    instances: [
      instance('i-b1', 'blue', 'v1', 'InService'),
      instance('i-g1', 'green', 'v2', 'Standby'),
      instance('i-old', 'green', 'v0', undefined, 'terminated'),
    ],
    health: { 'i-b1': 'healthy', 'i-g1': 'healthy', 'i-old': 'healthy' },
  });
  const steps = retireSteps(now, APP, 'blue', { idleOnly: true });
  assert.deepEqual(input(steps, 'DeregisterTargets').Targets, [{ Id: 'i-g1' }, { Id: 'i-old' }]);
});

void test('ImagesBeyondKeepImages_AreDeregisteredWithTheirSnapshots_UnlessStillInUse', () => {
  const now = state({
    group: {
      ...state().group,
      max: 4,
      tags: { [MAX_SIZE_TAG]: '2', [versionTag('blue')]: '1', [versionTag('green')]: '9' },
    },
    template: {
      ...state().template,
      defaultVersion: 9,
      versions: [{ number: 9, description: versionDescription(APP, 'green', 'v2') }],
    },
    instances: [instance('i-b', 'blue', 'v1', 'InService'), instance('i-g', 'green', 'v2', 'Standby')],
    images: [
      { id: 'ami-v2', release: 'v2', state: 'available', created: '2026-12-05T03' },
      { id: 'ami-v1', release: 'v1', state: 'available', created: '2026-12-05T02' },
      { id: 'ami-v0', release: 'v0', state: 'available', created: '2026-12-05T01' },
      { id: 'ami-vm1', release: 'v-1', state: 'available', created: '2026-12-05T00' },
    ],
  });
  const steps = provisionSteps(now, { ...target, keepImages: 2 });
  const pruned = steps.flatMap((step) =>
    step.kind === 'call' && step.call === 'DeregisterImage' ? [step.input] : [],
  );
  assert.deepEqual(pruned, [
    { ImageId: 'ami-v0', DeleteAssociatedSnapshots: true },
    { ImageId: 'ami-vm1', DeleteAssociatedSnapshots: true },
  ]);
  // ami-v1 is kept twice over: within the last two releases, and blue's instances run it.
  assert.deepEqual(calls(steps), ['DeregisterImage', 'DeregisterImage']);
});
