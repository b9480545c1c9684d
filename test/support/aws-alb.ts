/**
 * An Application Load Balancer for the aws-alb router's tests, made in moto with the SDK: the
 * ALB in the default VPC's subnets, one target group per slot, and an HTTP listener whose
 * default action forwards to blue's target group (what a team has before cutover takes over).
 * Also the read-backs the tests assert with: the listener's or a rule's forward action as AWS
 * holds it, and the listener's rules.
 */
import { DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  ModifyTargetGroupAttributesCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export interface AlbLayout {
  readonly loadBalancerArn: string;
  readonly dnsName: string;
  readonly listenerArn: string;
  readonly targetGroups: { readonly blue: string; readonly green: string };
  readonly targetGroupNames: { readonly blue: string; readonly green: string };
}

export async function createAlb(
  clients: { ec2: EC2Client; elbv2: ElasticLoadBalancingV2Client },
  name: string,
  port = 8000,
): Promise<AlbLayout> {
  const vpc = (await clients.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.find((found) => found.IsDefault);
  if (vpc?.VpcId === undefined) throw new Error('moto has no default VPC');
  const subnets = (
    await clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }] }))
  ).Subnets?.map((subnet) => subnet.SubnetId ?? '');
  const created = await clients.elbv2.send(
    new CreateLoadBalancerCommand({ Name: name, Subnets: subnets?.slice(0, 2), Type: 'application' }),
  );
  const loadBalancer = created.LoadBalancers?.[0];
  if (loadBalancer?.LoadBalancerArn === undefined) throw new Error('moto created no load balancer');
  const targetGroupNames = { blue: `${name}-blue`.slice(0, 32), green: `${name}-green`.slice(0, 32) };
  const targetGroups = { blue: '', green: '' };
  for (const slot of ['blue', 'green'] as const) {
    const group = await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: targetGroupNames[slot],
        Protocol: 'HTTP',
        Port: port,
        VpcId: vpc.VpcId,
        TargetType: 'instance',
      }),
    );
    targetGroups[slot] = group.TargetGroups?.[0]?.TargetGroupArn ?? '';
  }
  const listener = await clients.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancer.LoadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroups.blue }],
    }),
  );
  const listenerArn = listener.Listeners?.[0]?.ListenerArn;
  if (listenerArn === undefined) throw new Error('moto created no listener');
  return {
    loadBalancerArn: loadBalancer.LoadBalancerArn,
    dnsName: loadBalancer.DNSName ?? '',
    listenerArn,
    targetGroups,
    targetGroupNames,
  };
}

/** A rule on the listener (path /app/*) forwarding to blue, for the router's rule mode. */
export async function createAppRule(
  elbv2: ElasticLoadBalancingV2Client,
  layout: AlbLayout,
  priority: number,
): Promise<string> {
  const answer = await elbv2.send(
    new CreateRuleCommand({
      ListenerArn: layout.listenerArn,
      Priority: priority,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/app/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: layout.targetGroups.blue }],
    }),
  );
  const arn = answer.Rules?.[0]?.RuleArn;
  if (arn === undefined) throw new Error('moto created no rule');
  return arn;
}

export async function setDeregistrationDelay(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  seconds: number,
): Promise<void> {
  await elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(seconds) }],
    }),
  );
}

/** What the listener's (or the rule's) forward action holds, as AWS reports it. */
export interface ForwardState {
  /** Target group ARN → weight. */
  readonly weights: Record<string, number>;
  /** Stickiness seconds, or 'off'. */
  readonly stickiness: number | 'off';
}

export function forwardState(actions: readonly Action[]): ForwardState {
  const forward = actions.find((action) => action.Type === 'forward');
  const weights: Record<string, number> = {};
  if (forward?.ForwardConfig?.TargetGroups !== undefined) {
    for (const group of forward.ForwardConfig.TargetGroups)
      weights[group.TargetGroupArn ?? ''] = group.Weight ?? 1;
  } else if (forward?.TargetGroupArn !== undefined) {
    weights[forward.TargetGroupArn] = 1;
  }
  const sticky = forward?.ForwardConfig?.TargetGroupStickinessConfig;
  return { weights, stickiness: sticky?.Enabled === true ? (sticky.DurationSeconds ?? 0) : 'off' };
}

export async function listenerForward(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<ForwardState> {
  const answer = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
  return forwardState(answer.Listeners?.[0]?.DefaultActions ?? []);
}

export async function ruleForward(
  elbv2: ElasticLoadBalancingV2Client,
  ruleArn: string,
): Promise<ForwardState> {
  const answer = await elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
  return forwardState(answer.Rules?.[0]?.Actions ?? []);
}

/** The listener's rules other than the default one. */
export async function listenerRules(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<Rule[]> {
  const answer = await elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
  return (answer.Rules ?? []).filter((rule) => rule.IsDefault !== true);
}
