// Shared set-up for the aws-asg platform tests: a real moto server (EC2 and Auto Scaling), one
// image per release baked from an instance, and platforms over that endpoint. Every count is
// read from moto directly, outside the platform, so a duplicate cannot hide.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance as Ec2Instance,
} from '@aws-sdk/client-ec2';
import { CUTOVER_TAG, tagValue } from '../../src/aws/cutover-tags.js';
import { awsAsgPlatformConfig, type AwsAsgPlatformConfig } from '../../src/platforms/aws-asg/config.js';
import { createAwsAsgPlatform } from '../../src/platforms/aws-asg/aws-asg-platform.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import type { Platform } from '../../src/shared/platform.js';
import type { Slot } from '../../src/shared/slot.js';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/daemons/moto.js';

export const AWS_TEST_REGION = 'us-east-1';
const PROVISION_AND_HANG = fileURLToPath(
  new URL('../support/apps/aws-asg-provision-and-hang.ts', import.meta.url),
);
const LIVE_STATES = new Set(['pending', 'running', 'stopping', 'stopped']);

export interface AwsAsgFixture {
  readonly moto: MotoServer;
  readonly app: string;
  readonly ec2: EC2Client;
  readonly asg: AutoScalingClient;
  /** The image id baked for each release. */
  readonly images: Readonly<Record<string, string>>;
  /** The raw `platform:` section (before parsing), with `overrides` on top. */
  settings(overrides?: Record<string, unknown>): Record<string, unknown>;
  config(overrides?: Record<string, unknown>): AwsAsgPlatformConfig;
  platform(overrides?: Record<string, unknown>, logger?: Logger): Platform;
  /** Every EC2 instance tagged with the app, whatever its state. */
  instances(): Promise<Ec2Instance[]>;
  /** Instances of the app not terminated (or terminating). */
  countRunning(): Promise<number>;
  /** Instances of the slot EC2 has shut down or is shutting down (the polite stop). */
  shutDown(slot: Slot): Promise<number>;
  /** Groups and launch templates tagged with the app. */
  countGroups(): Promise<number>;
  countTemplates(): Promise<number>;
  /** The release an instance runs, read from its image's name. */
  releaseOf(instanceId: string): Promise<string>;
  /** Runs provision in a child process; resolves with its last line, or undefined when it died first. */
  provisionInChild(
    slot: Slot,
    release: string,
    options?: {
      crashAt?: number;
      kill?: boolean;
      deploymentId?: string;
      overrides?: Record<string, unknown>;
    },
  ): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export async function makeAwsAsgFixture(releases: readonly string[] = ['v1', 'v2']): Promise<AwsAsgFixture> {
  // The SDK's default credential chain reads these (children inherit them): moto's, never real ones.
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  const moto = await startMoto();
  const client = {
    region: AWS_TEST_REGION,
    endpoint: moto.endpoint,
    maxAttempts: 1,
    credentials: MOTO_CREDENTIALS,
  };
  const ec2 = new EC2Client(client);
  const asg = new AutoScalingClient(client);
  const app = 'ctest';
  try {
    const images = await bakeImages(ec2, app, releases);
    const settings = (overrides: Record<string, unknown> = {}) => ({
      kind: 'aws-asg',
      region: AWS_TEST_REGION,
      endpoint: moto.endpoint,
      maxAttempts: 1,
      image: { name: `${app}-\${RELEASE}` },
      availabilityZones: [`${AWS_TEST_REGION}a`],
      instances: 2,
      port: 8000,
      userData: '#!/bin/sh\necho "installing ${RELEASE} in ${SLOT}"\n',
      pollInterval: '20ms',
      readyTimeout: '10s',
      stopGrace: '1s',
      ...overrides,
    });
    const config = (overrides: Record<string, unknown> = {}) =>
      awsAsgPlatformConfig.parse(settings(overrides));
    const instances = async () => {
      const answer = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: `tag:${CUTOVER_TAG.app}`, Values: [app] }] }),
      );
      return (answer.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
    };
    return {
      moto,
      app,
      ec2,
      asg,
      images,
      settings,
      config,
      platform: (overrides = {}, logger = silentLogger) =>
        createAwsAsgPlatform(config(overrides), { app, logger }),
      instances,
      async countRunning() {
        return (await instances()).filter((instance) => LIVE_STATES.has(instance.State?.Name ?? '')).length;
      },
      async shutDown(slot) {
        return (await instances()).filter(
          (instance) =>
            tagValue(instance.Tags, CUTOVER_TAG.slot) === slot &&
            ['shutting-down', 'terminated'].includes(instance.State?.Name ?? ''),
        ).length;
      },
      async countGroups() {
        const answer = await asg.send(new DescribeAutoScalingGroupsCommand({}));
        return (answer.AutoScalingGroups ?? []).filter(
          (group) => tagValue(group.Tags, CUTOVER_TAG.app) === app,
        ).length;
      },
      async countTemplates() {
        const answer = await ec2.send(new DescribeLaunchTemplatesCommand({}));
        return (answer.LaunchTemplates ?? []).filter(
          (template) => tagValue(template.Tags, CUTOVER_TAG.app) === app,
        ).length;
      },
      async releaseOf(instanceId) {
        const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        const imageId = described.Reservations?.[0]?.Instances?.[0]?.ImageId;
        const release = Object.entries(images).find(([, id]) => id === imageId)?.[0];
        if (release === undefined)
          throw new Error(`instance ${instanceId} runs image ${imageId}, no release's`);
        return release;
      },
      async provisionInChild(slot, release, options = {}) {
        const input = {
          config: settings(options.overrides),
          app,
          slot,
          release,
          ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
        };
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', PROVISION_AND_HANG, JSON.stringify(input)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: {
              ...process.env,
              ...(options.crashAt === undefined
                ? {}
                : { CUTOVER_TEST_AWS_CRASH_AT: String(options.crashAt) }),
            },
          },
        );
        const exited = once(child, 'exit');
        const lines = createInterface({ input: child.stdout });
        const first = await Promise.race([
          once(lines, 'line').then(([line]) => line as string),
          exited.then(() => undefined),
        ]);
        lines.close();
        if (first !== undefined && options.kill !== false) child.kill('SIGKILL');
        await exited;
        return first;
      },
      async cleanup() {
        ec2.destroy();
        asg.destroy();
        await moto.stop();
      },
    };
  } catch (error) {
    ec2.destroy();
    asg.destroy();
    await moto.stop();
    throw error;
  }
}

/** One image per release, named `<app>-<release>`, baked from a throwaway instance. */
async function bakeImages(
  ec2: EC2Client,
  app: string,
  releases: readonly string[],
): Promise<Record<string, string>> {
  const base = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.[0]?.ImageId;
  if (base === undefined) throw new Error('moto lists no amazon image to launch from');
  const run = await ec2.send(new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1 }));
  const builder = run.Instances![0]!.InstanceId!;
  const images: Record<string, string> = {};
  for (const release of releases) {
    const image = await ec2.send(
      new CreateImageCommand({ InstanceId: builder, Name: `${app}-${release}`, NoReboot: true }),
    );
    images[release] = image.ImageId!;
  }
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [builder] }));
  return images;
}
