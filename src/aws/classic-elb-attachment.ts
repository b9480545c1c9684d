/**
 * A Classic ELB as a balancer groups attach to: AttachLoadBalancers, DescribeInstanceHealth,
 * and the connection-draining timeout as the drain.
 */
import {
  AttachLoadBalancersCommand,
  DetachLoadBalancersCommand,
  type AttachLoadBalancersCommandInput,
  type AutoScalingClient,
  type DetachLoadBalancersCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterInstancesFromLoadBalancerCommand,
  type DeregisterInstancesFromLoadBalancerCommandInput,
  DescribeInstanceHealthCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  RegisterInstancesWithLoadBalancerCommand,
  type ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import { CutoverError } from '../shared/errors.js';
import { listGroups } from './auto-scaling-groups.js';
import { awsCall } from './aws-call.js';
import type { BalancerAttachment, BalancerHealth } from './balancer-attachment.js';
import type { AwsCallSpec } from './planned-call.js';

/** CUTOVER_E_ROUTER when the load balancer does not exist. */
export async function requireClassicElb(client: ElasticLoadBalancingClient, name: string): Promise<void> {
  const answer = await awsCall(`DescribeLoadBalancers(${name})`, client, (abortSignal) =>
    client.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }), { abortSignal }),
  );
  if ((answer.LoadBalancerDescriptions ?? []).length === 0) {
    throw new CutoverError('CUTOVER_E_ROUTER', `Classic ELB ${name} does not exist`);
  }
}

export function classicElbAttachment(
  clients: { autoScaling: AutoScalingClient; elb: ElasticLoadBalancingClient },
  loadBalancerName: string,
): BalancerAttachment {
  const attachCall = (group: string): AwsCallSpec<AttachLoadBalancersCommandInput> => ({
    service: 'autoscaling',
    operation: 'AttachLoadBalancers',
    input: { AutoScalingGroupName: group, LoadBalancerNames: [loadBalancerName] },
  });
  const detachCall = (group: string): AwsCallSpec<DetachLoadBalancersCommandInput> => ({
    service: 'autoscaling',
    operation: 'DetachLoadBalancers',
    input: { AutoScalingGroupName: group, LoadBalancerNames: [loadBalancerName] },
  });
  const deregisterCall = (
    ids: readonly string[],
  ): AwsCallSpec<DeregisterInstancesFromLoadBalancerCommandInput> => ({
    service: 'elasticloadbalancing',
    operation: 'DeregisterInstancesFromLoadBalancer',
    input: { LoadBalancerName: loadBalancerName, Instances: ids.map((InstanceId) => ({ InstanceId })) },
  });
  return {
    label: `Classic ELB ${loadBalancerName}`,
    attachedGroups: async () =>
      (await listGroups(clients.autoScaling)).filter((group) =>
        group.loadBalancerNames.includes(loadBalancerName),
      ),
    attach: async (group) => {
      const { input } = attachCall(group);
      await awsCall(`AttachLoadBalancers(${group})`, clients.autoScaling, (abortSignal) =>
        clients.autoScaling.send(new AttachLoadBalancersCommand(input), { abortSignal }),
      );
    },
    detach: async (group) => {
      const { input } = detachCall(group);
      await awsCall(`DetachLoadBalancers(${group})`, clients.autoScaling, (abortSignal) =>
        clients.autoScaling.send(new DetachLoadBalancersCommand(input), { abortSignal }),
      );
    },
    register: async (ids) => {
      await awsCall(`RegisterInstancesWithLoadBalancer(${loadBalancerName})`, clients.elb, (abortSignal) =>
        clients.elb.send(
          new RegisterInstancesWithLoadBalancerCommand({
            LoadBalancerName: loadBalancerName,
            Instances: ids.map((InstanceId) => ({ InstanceId })),
          }),
          { abortSignal },
        ),
      );
    },
    deregister: async (ids) => {
      const { input } = deregisterCall(ids);
      await awsCall(`DeregisterInstancesFromLoadBalancer(${loadBalancerName})`, clients.elb, (abortSignal) =>
        clients.elb.send(new DeregisterInstancesFromLoadBalancerCommand(input), { abortSignal }),
      );
    },
    attachCall,
    detachCall,
    deregisterCall,
    instanceHealth: async () => {
      const answer = await awsCall(
        `DescribeInstanceHealth(${loadBalancerName})`,
        clients.elb,
        (abortSignal) =>
          clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: loadBalancerName }), {
            abortSignal,
          }),
      );
      const health = new Map<string, BalancerHealth>();
      for (const entry of answer.InstanceStates ?? []) {
        if (entry.InstanceId !== undefined) health.set(entry.InstanceId, instanceHealth(entry));
      }
      return health;
    },
    drainTimeoutMs: async () => {
      const answer = await awsCall(
        `DescribeLoadBalancerAttributes(${loadBalancerName})`,
        clients.elb,
        (abortSignal) =>
          clients.elb.send(
            new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: loadBalancerName }),
            { abortSignal },
          ),
      );
      const draining = answer.LoadBalancerAttributes?.ConnectionDraining;
      // Without connection draining the ELB closes a deregistered instance's connections at once.
      return draining?.Enabled === true ? (draining.Timeout ?? 300) * 1000 : 0;
    },
  };
}

/**
 * InService serves; OutOfService while "registration is still in progress" is a new instance
 * whose checks have not passed yet; any other OutOfService fails its checks; Unknown is pending.
 */
function instanceHealth(entry: { State?: string; Description?: string }): BalancerHealth {
  if (entry.State === 'InService') return 'healthy';
  if (entry.State === 'Unknown') return 'pending';
  if (/registration is still in progress/i.test(entry.Description ?? '')) return 'pending';
  if (/deregistration currently in progress/i.test(entry.Description ?? '')) return 'draining';
  return 'unhealthy';
}
