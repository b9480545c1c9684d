// The stack mode replica-stack copies, made in moto with the SDK as a team would have it before
// cutover: a group "web" with a target-tracking and a simple scaling policy (and the simple
// policy's CloudWatch alarms, one on the group and one on each load balancer), a Classic ELB
// and an Application Load Balancer with a target group, each with non-default listeners,
// subnets, security groups, health checks and attributes, so a copy that drops one shows.
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  ConfigureHealthCheckCommand,
  CreateLoadBalancerCommand as CreateClassic,
  ElasticLoadBalancingClient,
  ModifyLoadBalancerAttributesCommand as ModifyClassicAttributes,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { AWS_TEST_REGION } from './aws-asg-fixture.js';

export interface ReplicaSource {
  readonly group: string;
  readonly classic: string;
  readonly albArn: string;
  readonly albName: string;
  readonly targetGroupArn: string;
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly vpcId: string;
  readonly simplePolicyArn: string;
  readonly clients: SourceClients;
}

export interface SourceClients {
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  destroy(): void;
}

export function sourceClients(endpoint: string): SourceClients {
  const config = { region: AWS_TEST_REGION, endpoint, maxAttempts: 1, credentials: MOTO_CREDENTIALS };
  const asg = new AutoScalingClient(config);
  const elb = new ElasticLoadBalancingClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const cloudwatch = new CloudWatchClient(config);
  return {
    asg,
    elb,
    elbv2,
    cloudwatch,
    destroy: () => {
      for (const client of [asg, elb, elbv2, cloudwatch]) client.destroy();
    },
  };
}

export async function createReplicaSource(
  endpoint: string,
  ec2: EC2Client,
  imageId: string,
): Promise<ReplicaSource> {
  const clients = sourceClients(endpoint);
  const { asg, elb, elbv2, cloudwatch } = clients;
  const vpcId = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
  const subnets = (
    (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })))
      .Subnets ?? []
  )
    .map((subnet) => subnet.SubnetId!)
    .sort()
    .slice(0, 2);
  const securityGroups: string[] = [];
  for (const name of ['web-lb', 'web-lb-extra']) {
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }),
    );
    securityGroups.push(sg.GroupId!);
  }

  await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'web',
      LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
    }),
  );
  const group = 'web';
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      LaunchTemplate: { LaunchTemplateName: 'web', Version: '$Latest' },
      MinSize: 0,
      MaxSize: 4,
      DesiredCapacity: 0,
      AvailabilityZones: [`${AWS_TEST_REGION}a`],
    }),
  );

  const classic = 'web-elb';
  await elb.send(
    new CreateClassic({
      LoadBalancerName: classic,
      Listeners: [
        { Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8000 },
        { Protocol: 'TCP', LoadBalancerPort: 8443, InstanceProtocol: 'TCP', InstancePort: 8443 },
      ],
      Subnets: [...subnets],
      SecurityGroups: [...securityGroups],
    }),
  );
  await elb.send(
    new ConfigureHealthCheckCommand({
      LoadBalancerName: classic,
      HealthCheck: {
        Target: 'HTTP:8000/healthz',
        Interval: 15,
        Timeout: 4,
        UnhealthyThreshold: 3,
        HealthyThreshold: 4,
      },
    }),
  );
  await elb.send(
    new ModifyClassicAttributes({
      LoadBalancerName: classic,
      LoadBalancerAttributes: {
        CrossZoneLoadBalancing: { Enabled: true },
        ConnectionDraining: { Enabled: true, Timeout: 42 },
        ConnectionSettings: { IdleTimeout: 77 },
      },
    }),
  );

  const targetGroup = await elbv2.send(
    new CreateTargetGroupCommand({
      Name: 'web-tg',
      Protocol: 'HTTP',
      Port: 8000,
      VpcId: vpcId,
      TargetType: 'instance',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 12,
      HealthCheckTimeoutSeconds: 6,
      HealthyThresholdCount: 3,
      UnhealthyThresholdCount: 4,
      Matcher: { HttpCode: '200-299' },
    }),
  );
  const targetGroupArn = targetGroup.TargetGroups![0]!.TargetGroupArn!;
  await elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: targetGroupArn,
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: '33' },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
      ],
    }),
  );
  const alb = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: 'web-alb',
      Subnets: [...subnets],
      SecurityGroups: [...securityGroups],
      Scheme: 'internet-facing',
      Type: 'application',
    }),
  );
  const albArn = alb.LoadBalancers![0]!.LoadBalancerArn!;
  await elbv2.send(
    new ModifyLoadBalancerAttributesCommand({
      LoadBalancerArn: albArn,
      Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '88' }],
    }),
  );
  await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: albArn,
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: albArn,
      Port: 8080,
      Protocol: 'HTTP',
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'maintenance' },
        },
      ],
    }),
  );

  await asg.send(
    new PutScalingPolicyCommand({
      AutoScalingGroupName: group,
      PolicyName: 'cpu-50',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
        TargetValue: 50,
      },
    }),
  );
  const simple = await asg.send(
    new PutScalingPolicyCommand({
      AutoScalingGroupName: group,
      PolicyName: 'add-two',
      PolicyType: 'SimpleScaling',
      AdjustmentType: 'ChangeInCapacity',
      ScalingAdjustment: 2,
      Cooldown: 120,
    }),
  );
  // moto's PutScalingPolicy answers without the ARN: read it back.
  const simplePolicyArn =
    simple.PolicyARN ??
    (await asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: group, PolicyNames: ['add-two'] })))
      .ScalingPolicies![0]!.PolicyARN!;
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-cpu-high',
      Namespace: 'AWS/EC2',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: group }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: 80,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [simplePolicyArn],
    }),
  );
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-latency-high',
      Namespace: 'AWS/ELB',
      MetricName: 'Latency',
      Dimensions: [{ Name: 'LoadBalancerName', Value: classic }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 1.5,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [simplePolicyArn],
    }),
  );
  const albDimension = albArn.slice(albArn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'web-alb-5xx',
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Dimensions: [{ Name: 'LoadBalancer', Value: albDimension }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [simplePolicyArn],
    }),
  );
  // Not the source's: an alarm nobody asked cutover to copy.
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: 'unrelated',
      Namespace: 'AWS/EC2',
      MetricName: 'CPUUtilization',
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  return {
    group,
    classic,
    albArn,
    albName: 'web-alb',
    targetGroupArn,
    subnets,
    securityGroups,
    vpcId,
    simplePolicyArn,
    clients,
  };
}

/**
 * What two ALB stacks must share to be replicas, read from AWS: the balancer's subnets, security
 * groups, scheme and attributes; each listener, with the stack's own target group written `TG`;
 * the target group's protocol, port, VPC, health check and attributes.
 */
export async function albStackShape(elbv2: ElasticLoadBalancingV2Client, balancerArn: string) {
  const balancer = (await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [balancerArn] })))
    .LoadBalancers![0]!;
  const listeners =
    (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: balancerArn }))).Listeners ?? [];
  const targetGroupArn = listeners
    .flatMap((listener) => listener.DefaultActions ?? [])
    .find((action) => action.TargetGroupArn !== undefined)?.TargetGroupArn;
  const group = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn!] })))
    .TargetGroups![0]!;
  const attributes = (list: { Key?: string; Value?: string }[] | undefined) =>
    Object.fromEntries((list ?? []).map((a) => [a.Key ?? '', a.Value ?? '']));
  return {
    subnets: (balancer.AvailabilityZones ?? []).map((zone) => zone.SubnetId).sort(),
    securityGroups: [...(balancer.SecurityGroups ?? [])].sort(),
    scheme: balancer.Scheme,
    attributes: attributes(
      (await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: balancerArn })))
        .Attributes,
    ),
    listeners: listeners
      .map((listener) => ({
        port: listener.Port,
        protocol: listener.Protocol,
        actions: JSON.parse(
          JSON.stringify(listener.DefaultActions ?? []).replaceAll(targetGroupArn!, 'TG'),
        ) as unknown,
      }))
      .sort((a, b) => (a.port ?? 0) - (b.port ?? 0)),
    targetGroup: {
      protocol: group.Protocol,
      port: group.Port,
      vpc: group.VpcId,
      healthCheck: [
        group.HealthCheckProtocol,
        group.HealthCheckPath,
        group.HealthCheckIntervalSeconds,
        group.HealthCheckTimeoutSeconds,
        group.HealthyThresholdCount,
        group.UnhealthyThresholdCount,
        group.Matcher?.HttpCode,
      ],
      attributes: attributes(
        (await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: group.TargetGroupArn })))
          .Attributes,
      ),
    },
  };
}
