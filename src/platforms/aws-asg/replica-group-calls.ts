/**
 * The input of each call the replica-group provision and stop make, built in one place: the
 * platform sends `spec.input`, and the planner (replica-group-plan.ts) prints the same spec.
 * Values only an earlier call gives (the id of a launch template created a moment before, the
 * deployment's id) are Placeholders in a plan and strings when the call is made.
 */
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { AwsCallSpec } from '../../aws/planned-call.js';
import type { Placeholder } from '../../shared/plan.js';
import type { Slot } from '../../shared/slot.js';
import type { AwsAsgPlatformConfig } from './config.js';

export interface GroupCapacity {
  readonly min: number;
  readonly max: number;
  readonly desired: number;
}

/** A tag whose value is a string when sent, and may be a placeholder in a plan. */
export interface Tag<V extends string | Placeholder = string> {
  readonly Key: string;
  readonly Value: V;
}

/** The launch data of a slot's template: the release's image, the config's instance settings. */
export function launchTemplateData(
  config: AwsAsgPlatformConfig,
  imageId: string,
  slot: Slot,
  release: string,
): RequestLaunchTemplateData {
  const userData = config.userData?.replace(/\$\{RELEASE\}/g, release).replace(/\$\{SLOT\}/g, slot);
  return {
    ImageId: imageId,
    InstanceType: config.instanceType as never,
    ...(userData === undefined ? {} : { UserData: Buffer.from(userData, 'utf8').toString('base64') }),
    ...(config.securityGroups.length > 0 ? { SecurityGroupIds: config.securityGroups } : {}),
    ...(config.keyName === undefined ? {} : { KeyName: config.keyName }),
    ...(config.instanceProfile === undefined
      ? {}
      : {
          IamInstanceProfile: config.instanceProfile.startsWith('arn:')
            ? { Arn: config.instanceProfile }
            : { Name: config.instanceProfile },
        }),
  };
}

export function createLaunchTemplateCall<V extends string | Placeholder>(
  name: string,
  data: RequestLaunchTemplateData,
  tags: readonly Tag<V>[],
) {
  return {
    service: 'ec2',
    operation: 'CreateLaunchTemplate',
    input: {
      LaunchTemplateName: name,
      LaunchTemplateData: data,
      VersionDescription: 'created by cutover',
      TagSpecifications: [{ ResourceType: 'launch-template' as const, Tags: [...tags] }],
    },
  } satisfies AwsCallSpec<object>;
}

export function createGroupCall<V extends string | Placeholder>(
  config: AwsAsgPlatformConfig,
  name: string,
  template: { readonly id: V; readonly version: V },
  capacity: GroupCapacity,
  tags: readonly Tag<V>[],
) {
  return {
    service: 'autoscaling',
    operation: 'CreateAutoScalingGroup',
    input: {
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: template.id, Version: template.version },
      MinSize: capacity.min,
      MaxSize: capacity.max,
      DesiredCapacity: capacity.desired,
      ...(config.subnets === undefined
        ? { AvailabilityZones: config.availabilityZones }
        : { VPCZoneIdentifier: config.subnets.join(',') }),
      Tags: tags.map((tag) => ({
        ...tag,
        ResourceId: name,
        ResourceType: 'auto-scaling-group',
        PropagateAtLaunch: true,
      })),
    },
  } satisfies AwsCallSpec<object>;
}

export function setCapacityCall(name: string, capacity: GroupCapacity) {
  return {
    service: 'autoscaling',
    operation: 'UpdateAutoScalingGroup',
    input: {
      AutoScalingGroupName: name,
      MinSize: capacity.min,
      MaxSize: capacity.max,
      DesiredCapacity: capacity.desired,
    },
  } satisfies AwsCallSpec<object>;
}

/** stop(): the group lets its instances go (EC2 shuts each down politely). */
export function scaleToZeroCall(name: string) {
  return {
    service: 'autoscaling',
    operation: 'UpdateAutoScalingGroup',
    input: { AutoScalingGroupName: name, MinSize: 0, DesiredCapacity: 0 },
  } satisfies AwsCallSpec<object>;
}

/** stop() after its grace: the instances still there; in a plan, a placeholder for the list. */
export function terminateInstancesCall<I extends string[] | Placeholder>(instanceIds: I) {
  return {
    service: 'ec2',
    operation: 'TerminateInstances',
    input: { InstanceIds: instanceIds },
  } satisfies AwsCallSpec<object>;
}

export function deleteGroupCall(name: string) {
  return {
    service: 'autoscaling',
    operation: 'DeleteAutoScalingGroup',
    input: { AutoScalingGroupName: name, ForceDelete: true },
  } satisfies AwsCallSpec<object>;
}

export function deleteLaunchTemplateCall(id: string) {
  return {
    service: 'ec2',
    operation: 'DeleteLaunchTemplate',
    input: { LaunchTemplateId: id },
  } satisfies AwsCallSpec<object>;
}
