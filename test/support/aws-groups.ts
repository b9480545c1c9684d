/**
 * The AWS layout the router tests stand on, created in moto directly with the SDK (the aws-asg
 * platform lives on another branch): one launch template, two Auto Scaling groups (one per
 * slot), an ALB target group and a Classic ELB, none attached to anything. Also the handful of
 * read-backs the tests assert with, so they check AWS's state rather than the router's word.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  AttachLoadBalancersCommand,
  AttachLoadBalancerTargetGroupsCommand,
  SetInstanceHealthCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeVpcsCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  DescribeInstanceHealthCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SlotEndpoints } from '../../src/shared/slot.js';
import { MOTO_CREDENTIALS } from './daemons/moto.js';

export const TEST_REGION = 'us-east-1';

export interface AwsTestClients {
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  destroy(): void;
}

export function awsTestClients(endpoint: string, region = TEST_REGION): AwsTestClients {
  const config = { region, endpoint, maxAttempts: 1, credentials: MOTO_CREDENTIALS };
  const autoScaling = new AutoScalingClient(config);
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  return {
    autoScaling,
    ec2,
    elb,
    elbv2,
    destroy: () => {
      for (const client of [autoScaling, ec2, elb, elbv2]) client.destroy();
    },
  };
}

export interface AwsGroupsLayout {
  readonly blueGroup: string;
  readonly greenGroup: string;
  readonly targetGroupArn: string;
  readonly targetGroupName: string;
  readonly loadBalancerName: string;
  /** The slots as the aws-asg platform would hand them to a router. */
  readonly endpoints: Required<SlotEndpoints>;
}

/** Creates the layout with `capacity` instances per group. Names carry `tag` so layouts never collide. */
export async function createAwsGroups(
  clients: AwsTestClients,
  tag: string,
  capacity = 2,
): Promise<AwsGroupsLayout> {
  const vpcs = await clients.ec2.send(new DescribeVpcsCommand({}));
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (vpcId === undefined) throw new Error('moto has no default VPC');
  const images = await clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const imageId = images.Images?.[0]?.ImageId;
  if (imageId === undefined) throw new Error('moto lists no image');
  const templateName = `lt-${tag}`;
  await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: templateName,
      LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
    }),
  );
  const groups = { blue: `app-${tag}-blue`, green: `app-${tag}-green` };
  for (const name of Object.values(groups)) {
    await clients.autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateName: templateName, Version: '$Latest' },
        MinSize: capacity,
        MaxSize: capacity,
        DesiredCapacity: capacity,
        AvailabilityZones: [`${TEST_REGION}a`],
      }),
    );
  }
  const targetGroupName = `tg-${tag}`.slice(0, 32);
  const created = await clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: targetGroupName,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcId,
      TargetType: 'instance',
    }),
  );
  const targetGroupArn = created.TargetGroups?.[0]?.TargetGroupArn;
  if (targetGroupArn === undefined) throw new Error('moto created no target group');
  const loadBalancerName = `clb-${tag}`.slice(0, 32);
  await clients.elb.send(
    new CreateLoadBalancerCommand({
      LoadBalancerName: loadBalancerName,
      Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 }],
      AvailabilityZones: [`${TEST_REGION}a`],
    }),
  );
  const endpoint = (id: string) => ({ kind: 'aws-asg', id, details: { region: TEST_REGION } });
  return {
    blueGroup: groups.blue,
    greenGroup: groups.green,
    targetGroupArn,
    targetGroupName,
    loadBalancerName,
    endpoints: { blue: endpoint(groups.blue), green: endpoint(groups.green) },
  };
}

/** The instance ids of a group, sorted. */
export async function groupInstanceIds(clients: AwsTestClients, group: string): Promise<string[]> {
  const answer = await clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  return (answer.AutoScalingGroups?.[0]?.Instances ?? []).map((instance) => instance.InstanceId ?? '').sort();
}

/** What the group says it is attached to. */
export async function groupAttachments(
  clients: AwsTestClients,
  group: string,
): Promise<{ targetGroups: string[]; loadBalancers: string[] }> {
  const answer = await clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  const found = answer.AutoScalingGroups?.[0];
  return { targetGroups: found?.TargetGroupARNs ?? [], loadBalancers: found?.LoadBalancerNames ?? [] };
}

/** Target id → state, as the target group reports it. */
export async function targetStates(
  clients: AwsTestClients,
  targetGroupArn: string,
): Promise<Record<string, string>> {
  const answer = await clients.elbv2.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  const states: Record<string, string> = {};
  for (const entry of answer.TargetHealthDescriptions ?? []) {
    states[entry.Target?.Id ?? ''] = entry.TargetHealth?.State ?? 'unknown';
  }
  return states;
}

/** The instance ids registered with a Classic ELB, sorted. */
export async function loadBalancerInstanceIds(clients: AwsTestClients, name: string): Promise<string[]> {
  const answer = await clients.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
  return (answer.LoadBalancerDescriptions?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? '').sort();
}

/** Instance id → InService/OutOfService, as the Classic ELB reports it. */
export async function instanceStates(clients: AwsTestClients, name: string): Promise<Record<string, string>> {
  const answer = await clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: name }));
  const states: Record<string, string> = {};
  for (const entry of answer.InstanceStates ?? []) states[entry.InstanceId ?? ''] = entry.State ?? 'Unknown';
  return states;
}

/** Stops a group's instances: moto then reports them OutOfService / unused (its only "unhealthy"). */
export async function stopGroupInstances(clients: AwsTestClients, group: string): Promise<void> {
  const ids = await groupInstanceIds(clients, group);
  await clients.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
}

/** The group marks its instances Unhealthy (SetInstanceHealth): they never count as serving. */
export async function markGroupUnhealthy(clients: AwsTestClients, group: string): Promise<void> {
  for (const id of await groupInstanceIds(clients, group)) {
    await clients.autoScaling.send(
      new SetInstanceHealthCommand({
        InstanceId: id,
        HealthStatus: 'Unhealthy',
        ShouldRespectGracePeriod: false,
      }),
    );
  }
}

/** Attaches a group behind cutover's back (a hand edit in the console). */
export async function attachByHand(
  clients: AwsTestClients,
  group: string,
  to: { targetGroupArn?: string; loadBalancerName?: string },
): Promise<void> {
  if (to.targetGroupArn !== undefined) {
    await clients.autoScaling.send(
      new AttachLoadBalancerTargetGroupsCommand({
        AutoScalingGroupName: group,
        TargetGroupARNs: [to.targetGroupArn],
      }),
    );
  }
  if (to.loadBalancerName !== undefined) {
    await clients.autoScaling.send(
      new AttachLoadBalancersCommand({
        AutoScalingGroupName: group,
        LoadBalancerNames: [to.loadBalancerName],
      }),
    );
  }
}
