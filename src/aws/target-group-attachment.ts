/**
 * An ELBv2 (ALB/NLB) target group as a balancer groups attach to: AttachLoadBalancerTargetGroups,
 * DescribeTargetHealth, and the deregistration delay as the drain.
 */
import {
  AttachLoadBalancerTargetGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  type AttachLoadBalancerTargetGroupsCommandInput,
  type AutoScalingClient,
  type DetachLoadBalancerTargetGroupsCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  type DeregisterTargetsCommandInput,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CutoverError } from '../shared/errors.js';
import { listGroups } from './auto-scaling-groups.js';
import { awsCall } from './aws-call.js';
import type { BalancerAttachment, BalancerHealth } from './balancer-attachment.js';
import type { AwsCallSpec } from './planned-call.js';

/** A target group ARN, as opposed to its name. */
const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/;

/** The ARN of a target group given by ARN or by name; CUTOVER_E_ROUTER when it does not exist. */
export async function resolveTargetGroupArn(
  client: ElasticLoadBalancingV2Client,
  arnOrName: string,
): Promise<string> {
  const byArn = TARGET_GROUP_ARN.test(arnOrName);
  const answer = await awsCall(`DescribeTargetGroups(${arnOrName})`, client, (abortSignal) =>
    client.send(
      new DescribeTargetGroupsCommand(byArn ? { TargetGroupArns: [arnOrName] } : { Names: [arnOrName] }),
      { abortSignal },
    ),
  );
  const arn = answer.TargetGroups?.[0]?.TargetGroupArn;
  if (arn === undefined) {
    throw new CutoverError('CUTOVER_E_ROUTER', `target group ${arnOrName} does not exist`);
  }
  return arn;
}

export function targetGroupAttachment(
  clients: { autoScaling: AutoScalingClient; elbv2: ElasticLoadBalancingV2Client },
  targetGroupArn: string,
): BalancerAttachment {
  const shortName = targetGroupArn.split('/')[1] ?? targetGroupArn;
  const attachCall = (group: string): AwsCallSpec<AttachLoadBalancerTargetGroupsCommandInput> => ({
    service: 'autoscaling',
    operation: 'AttachLoadBalancerTargetGroups',
    input: { AutoScalingGroupName: group, TargetGroupARNs: [targetGroupArn] },
  });
  const detachCall = (group: string): AwsCallSpec<DetachLoadBalancerTargetGroupsCommandInput> => ({
    service: 'autoscaling',
    operation: 'DetachLoadBalancerTargetGroups',
    input: { AutoScalingGroupName: group, TargetGroupARNs: [targetGroupArn] },
  });
  const deregisterCall = (ids: readonly string[]): AwsCallSpec<DeregisterTargetsCommandInput> => ({
    service: 'elasticloadbalancing',
    operation: 'DeregisterTargets',
    input: { TargetGroupArn: targetGroupArn, Targets: ids.map((Id) => ({ Id })) },
  });
  return {
    label: `target group ${shortName}`,
    attachedGroups: async () =>
      (await listGroups(clients.autoScaling)).filter((group) =>
        group.targetGroupArns.includes(targetGroupArn),
      ),
    attach: async (group) => {
      const { input } = attachCall(group);
      await awsCall(`AttachLoadBalancerTargetGroups(${group})`, clients.autoScaling, (abortSignal) =>
        clients.autoScaling.send(new AttachLoadBalancerTargetGroupsCommand(input), { abortSignal }),
      );
    },
    detach: async (group) => {
      const { input } = detachCall(group);
      await awsCall(`DetachLoadBalancerTargetGroups(${group})`, clients.autoScaling, (abortSignal) =>
        clients.autoScaling.send(new DetachLoadBalancerTargetGroupsCommand(input), { abortSignal }),
      );
    },
    // No Port: the target group's own port, the one an attached group registers with.
    register: async (ids) => {
      await awsCall(`RegisterTargets(${shortName})`, clients.elbv2, (abortSignal) =>
        clients.elbv2.send(
          new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: ids.map((Id) => ({ Id })) }),
          { abortSignal },
        ),
      );
    },
    deregister: async (ids) => {
      const { input } = deregisterCall(ids);
      await awsCall(`DeregisterTargets(${shortName})`, clients.elbv2, (abortSignal) =>
        clients.elbv2.send(new DeregisterTargetsCommand(input), { abortSignal }),
      );
    },
    attachCall,
    detachCall,
    deregisterCall,
    instanceHealth: async () => {
      const answer = await awsCall(`DescribeTargetHealth(${shortName})`, clients.elbv2, (abortSignal) =>
        clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), {
          abortSignal,
        }),
      );
      const health = new Map<string, BalancerHealth>();
      for (const entry of answer.TargetHealthDescriptions ?? []) {
        const id = entry.Target?.Id;
        if (id !== undefined) health.set(id, targetHealth(entry.TargetHealth?.State));
      }
      return health;
    },
    drainTimeoutMs: async () => {
      const answer = await awsCall(
        `DescribeTargetGroupAttributes(${shortName})`,
        clients.elbv2,
        (abortSignal) =>
          clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }), {
            abortSignal,
          }),
      );
      const delay = answer.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
      const seconds = Number(delay);
      // AWS's own default when the attribute is missing or unreadable.
      return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 300_000;
    },
  };
}

/** `unused` (stopped, or in a zone the balancer does not serve) and `unavailable` never take traffic. */
function targetHealth(state: TargetHealthStateEnum | undefined): BalancerHealth {
  switch (state) {
    case 'healthy':
      return 'healthy';
    case 'initial':
      return 'pending';
    case 'draining':
      return 'draining';
    default:
      return 'unhealthy';
  }
}
