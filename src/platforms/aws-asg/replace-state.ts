/**
 * Mode replace-instances: everything the step lists are computed from, read from AWS in one
 * pass — the production group, its launch template, the group's instances and every instance
 * cutover tagged for the app (launched but not attached yet, too), the images cutover baked,
 * and what each of the group's balancers says about each instance. Nothing is remembered in
 * the process: a rerun after a crash reads the same facts and plans the same remaining calls.
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  type Instance as Ec2Instance,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../../aws/aws-call.js';
import type { BalancerHealth } from '../../aws/balancer-attachment.js';
import { classicElbAttachment } from '../../aws/classic-elb-attachment.js';
import { CUTOVER_TAG, tagValue } from '../../aws/cutover-tags.js';
import { targetGroupAttachment } from '../../aws/target-group-attachment.js';
import { CutoverError } from '../../shared/errors.js';

export interface ObservedGroup {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  readonly templateId: string;
  /** The version the group launches from: replace-instances needs `$Default`. */
  readonly templateVersion: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly loadBalancerNames: readonly string[];
  readonly targetGroupArns: readonly string[];
}

export interface ObservedTemplate {
  readonly id: string;
  readonly defaultVersion: number;
  /** The default version's full launch data: a new version copies it and changes the image. */
  readonly defaultData: RequestLaunchTemplateData;
  readonly versions: readonly { readonly number: number; readonly description: string }[];
}

export interface ObservedInstance {
  readonly id: string;
  /** EC2's state: pending, running, stopping, stopped, shutting-down, terminated. */
  readonly state: string;
  readonly app: string | undefined;
  readonly slot: string | undefined;
  readonly release: string | undefined;
  /** The group's lifecycle state (InService, Standby …); undefined: not a member of the group. */
  readonly lifecycle: string | undefined;
  readonly privateIp: string;
  readonly imageId: string;
  readonly subnetId: string | undefined;
}

export interface ObservedImage {
  readonly id: string;
  readonly release: string;
  readonly state: string;
  readonly created: string;
}

export interface ObservedBalancer {
  readonly kind: 'elb' | 'elbv2';
  /** The Classic ELB's name or the target group's ARN. */
  readonly id: string;
  readonly health: ReadonlyMap<string, BalancerHealth>;
}

export interface ReplaceState {
  readonly group: ObservedGroup;
  readonly template: ObservedTemplate;
  readonly instances: readonly ObservedInstance[];
  readonly images: readonly ObservedImage[];
  readonly balancers: readonly ObservedBalancer[];
}

export interface ReplaceClients {
  readonly asg: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
}

/** Not terminated (nor on its way): a stopped instance still costs its volumes and must be retired. */
const ALIVE = new Set(['pending', 'running', 'stopping', 'stopped']);

export function isAlive(instance: ObservedInstance): boolean {
  return ALIVE.has(instance.state);
}

export async function observeReplaceState(
  clients: ReplaceClients,
  app: string,
  groupName: string,
): Promise<ReplaceState> {
  const group = await observeGroup(clients.asg, groupName);
  const template = await observeTemplate(clients.ec2, group.group.templateId);
  const instances = await observeInstances(clients.ec2, app, group.members);
  const images = await observeImages(clients.ec2, app);
  const balancers: ObservedBalancer[] = [];
  for (const name of group.group.loadBalancerNames) {
    const health = await classicElbAttachment(
      { autoScaling: clients.asg, elb: clients.elb },
      name,
    ).instanceHealth();
    balancers.push({ kind: 'elb', id: name, health });
  }
  for (const arn of group.group.targetGroupArns) {
    const health = await targetGroupAttachment(
      { autoScaling: clients.asg, elbv2: clients.elbv2 },
      arn,
    ).instanceHealth();
    balancers.push({ kind: 'elbv2', id: arn, health });
  }
  return { group: group.group, template, instances, images, balancers };
}

async function observeGroup(
  asg: AutoScalingClient,
  name: string,
): Promise<{ group: ObservedGroup; members: Map<string, string> }> {
  const answer = await awsCall(
    `DescribeAutoScalingGroups(${name})`,
    asg,
    (abortSignal) =>
      asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), { abortSignal }),
    'CUTOVER_E_PROVISION',
  );
  const found = answer.AutoScalingGroups?.find((group) => group.AutoScalingGroupName === name);
  if (found === undefined) {
    throw new CutoverError(
      'CUTOVER_E_NOT_FOUND',
      `Auto Scaling group ${name} (platform.group) does not exist`,
      {
        details: { group: name },
      },
    );
  }
  const template = found.LaunchTemplate;
  if (template?.LaunchTemplateId === undefined) {
    throw new CutoverError(
      'CUTOVER_E_PROVISION',
      `Auto Scaling group ${name} does not launch from a launch template (mode replace-instances needs one; launch configurations and mixed-instances policies are not supported)`,
      { details: { group: name } },
    );
  }
  const tags: Record<string, string> = {};
  for (const tag of found.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return {
    group: {
      name,
      min: found.MinSize ?? 0,
      max: found.MaxSize ?? 0,
      desired: found.DesiredCapacity ?? 0,
      templateId: template.LaunchTemplateId,
      templateVersion: template.Version ?? '$Default',
      tags,
      loadBalancerNames: found.LoadBalancerNames ?? [],
      targetGroupArns: found.TargetGroupARNs ?? [],
    },
    members: new Map(
      (found.Instances ?? []).map((instance) => [instance.InstanceId ?? '', String(instance.LifecycleState)]),
    ),
  };
}

async function observeTemplate(ec2: EC2Client, id: string): Promise<ObservedTemplate> {
  const versions: {
    number: number;
    description: string;
    isDefault: boolean;
    data: RequestLaunchTemplateData;
  }[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall(
      `DescribeLaunchTemplateVersions(${id})`,
      ec2,
      (abortSignal) =>
        ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, NextToken: token }), {
          abortSignal,
        }),
      'CUTOVER_E_PROVISION',
    );
    for (const version of page.LaunchTemplateVersions ?? []) {
      versions.push({
        number: version.VersionNumber ?? 0,
        description: version.VersionDescription ?? '',
        isDefault: version.DefaultVersion === true,
        // The response and request shapes of launch data agree on every field a version copies.
        data: (version.LaunchTemplateData ?? {}) as RequestLaunchTemplateData,
      });
    }
    token = page.NextToken;
  } while (token);
  const byDefault = versions.find((version) => version.isDefault) ?? versions[0];
  if (byDefault === undefined) {
    throw new CutoverError('CUTOVER_E_PROVISION', `launch template ${id} has no version`, {
      details: { template: id },
    });
  }
  return {
    id,
    defaultVersion: byDefault.number,
    defaultData: byDefault.data,
    versions: versions.map(({ number, description }) => ({ number, description })),
  };
}

/** The group's members, and every instance tagged for the app (members or not). */
async function observeInstances(
  ec2: EC2Client,
  app: string,
  members: ReadonlyMap<string, string>,
): Promise<ObservedInstance[]> {
  const found = new Map<string, Ec2Instance>();
  const collect = async (what: string, input: ConstructorParameters<typeof DescribeInstancesCommand>[0]) => {
    let token: string | undefined;
    do {
      const page = await awsCall(
        what,
        ec2,
        (abortSignal) =>
          ec2.send(new DescribeInstancesCommand({ ...input, NextToken: token }), { abortSignal }),
        'CUTOVER_E_PROVISION',
      );
      for (const reservation of page.Reservations ?? [])
        for (const instance of reservation.Instances ?? [])
          if (instance.InstanceId !== undefined) found.set(instance.InstanceId, instance);
      token = page.NextToken;
    } while (token);
  };
  await collect('DescribeInstances(tagged)', {
    Filters: [{ Name: `tag:${CUTOVER_TAG.app}`, Values: [app] }],
  });
  const untagged = [...members.keys()].filter((id) => id !== '' && !found.has(id));
  if (untagged.length > 0) await collect('DescribeInstances(group members)', { InstanceIds: untagged });
  return [...found.values()]
    .map((instance) => ({
      id: instance.InstanceId!,
      state: instance.State?.Name ?? 'unknown',
      app: tagValue(instance.Tags, CUTOVER_TAG.app),
      slot: tagValue(instance.Tags, CUTOVER_TAG.slot),
      release: tagValue(instance.Tags, CUTOVER_TAG.release),
      lifecycle: members.get(instance.InstanceId!),
      privateIp: instance.PrivateIpAddress ?? '',
      imageId: instance.ImageId ?? '',
      subnetId: instance.SubnetId,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function observeImages(ec2: EC2Client, app: string): Promise<ObservedImage[]> {
  const answer = await awsCall(
    'DescribeImages(baked)',
    ec2,
    (abortSignal) =>
      ec2.send(
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: [{ Name: `tag:${CUTOVER_TAG.app}`, Values: [app] }],
        }),
        { abortSignal },
      ),
    'CUTOVER_E_PROVISION',
  );
  return (answer.Images ?? [])
    .filter((image) => image.ImageId !== undefined)
    .map((image) => ({
      id: image.ImageId!,
      release: tagValue(image.Tags, CUTOVER_TAG.release) ?? '',
      state: image.State ?? 'available',
      created: image.CreationDate ?? '',
    }));
}
