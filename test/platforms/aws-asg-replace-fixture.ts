// Shared set-up for mode replace-instances: moto (through the aws-asg fixture, which bakes a
// base image), a balancer (a Classic ELB or a target group), and the production group the team
// already runs — a launch template on the base image and a group of two instances attached to
// the balancer. Every read goes to moto directly, outside cutover.
import {
  AttachLoadBalancerTargetGroupsCommand,
  AttachLoadBalancersCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeInstancesCommand,
  type Image,
} from '@aws-sdk/client-ec2';
import { CUTOVER_TAG } from '../../src/aws/cutover-tags.js';
import { createAwsAsgPlatform } from '../../src/platforms/aws-asg/aws-asg-platform.js';
import { awsAsgPlatformConfig } from '../../src/platforms/aws-asg/config.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import type { Platform } from '../../src/shared/platform.js';
import { AWS_TEST_REGION, makeAwsAsgFixture, type AwsAsgFixture } from './aws-asg-fixture.js';
import { createBalancer, type AwsRouterKind, type Balancer } from '../e2e/aws-scenario.js';

export const PRODUCTION_GROUP = 'shop-production';
const TEMPLATE = 'shop-template';

export interface ReplaceFixture {
  readonly aws: AwsAsgFixture;
  readonly balancer: Balancer;
  readonly kind: AwsRouterKind;
  readonly templateId: string;
  /** The instances the group ran before cutover, sorted. */
  readonly original: readonly string[];
  /** The `platform:` section of mode replace-instances. */
  settings(overrides?: Record<string, unknown>): Record<string, unknown>;
  platform(overrides?: Record<string, unknown>, logger?: Logger): Platform;
  group(): Promise<AutoScalingGroup>;
  /** InService / Standby members of the group, sorted. */
  members(lifecycle: 'InService' | 'Standby'): Promise<string[]>;
  /** The template's default version number and its image. */
  defaultVersion(): Promise<{ number: number; imageId: string }>;
  /** Images cutover baked (tagged with the app). */
  bakedImages(): Promise<Image[]>;
  /** Instances tagged with the slot (any release) that EC2 has not terminated (stopped ones count). */
  liveTagged(slot: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function makeReplaceFixture(kind: AwsRouterKind = 'aws-target-group'): Promise<ReplaceFixture> {
  const aws = await makeAwsAsgFixture(['base']);
  try {
    const balancer = await createBalancer(kind, aws);
    const created = await aws.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: TEMPLATE,
        LaunchTemplateData: { ImageId: aws.images.base, InstanceType: 't3.micro' },
      }),
    );
    const templateId = created.LaunchTemplate!.LaunchTemplateId!;
    await aws.asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: PRODUCTION_GROUP,
        LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Default' },
        MinSize: 1,
        MaxSize: 2,
        DesiredCapacity: 2,
        AvailabilityZones: [`${AWS_TEST_REGION}a`],
      }),
    );
    if (kind === 'aws-elb') {
      await aws.asg.send(
        new AttachLoadBalancersCommand({
          AutoScalingGroupName: PRODUCTION_GROUP,
          LoadBalancerNames: [balancer.name],
        }),
      );
    } else {
      await aws.asg.send(
        new AttachLoadBalancerTargetGroupsCommand({
          AutoScalingGroupName: PRODUCTION_GROUP,
          TargetGroupARNs: [balancer.arn!],
        }),
      );
    }
    const group = async () =>
      (
        await aws.asg.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [PRODUCTION_GROUP] }),
        )
      ).AutoScalingGroups![0]!;
    const members = async (lifecycle: string) =>
      ((await group()).Instances ?? [])
        .filter((instance) => instance.LifecycleState === lifecycle)
        .map((instance) => instance.InstanceId!)
        .sort();
    const original = await members('InService');
    const settings = (overrides: Record<string, unknown> = {}) => ({
      kind: 'aws-asg',
      mode: 'replace-instances',
      region: AWS_TEST_REGION,
      endpoint: aws.moto.endpoint,
      maxAttempts: 1,
      group: PRODUCTION_GROUP,
      port: 8000,
      userData: '#!/bin/sh\ninstall-shop ${RELEASE} # ${SLOT}\n',
      keepImages: 2,
      pollInterval: '20ms',
      readyTimeout: '10s',
      stopGrace: '1s',
      ...overrides,
    });
    return {
      aws,
      balancer,
      kind,
      templateId,
      original,
      settings,
      platform: (overrides = {}, logger = silentLogger) =>
        createAwsAsgPlatform(awsAsgPlatformConfig.parse(settings(overrides)), { app: aws.app, logger }),
      group,
      members,
      async defaultVersion() {
        const answer = await aws.ec2.send(
          new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['$Default'] }),
        );
        const version = answer.LaunchTemplateVersions![0]!;
        return { number: version.VersionNumber!, imageId: version.LaunchTemplateData?.ImageId ?? '' };
      },
      async bakedImages() {
        const answer = await aws.ec2.send(
          new DescribeImagesCommand({
            Owners: ['self'],
            Filters: [{ Name: `tag:${CUTOVER_TAG.slot}`, Values: ['blue', 'green'] }],
          }),
        );
        return answer.Images ?? [];
      },
      async liveTagged(slot) {
        const answer = await aws.ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${CUTOVER_TAG.slot}`, Values: [slot] },
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
          }),
        );
        return (answer.Reservations ?? [])
          .flatMap((reservation) => reservation.Instances ?? [])
          .map((instance) => instance.InstanceId!)
          .sort();
      },
      async cleanup() {
        balancer.destroy();
        await aws.cleanup();
      },
    };
  } catch (error) {
    await aws.cleanup();
    throw error;
  }
}
