/**
 * What the Auto Scaling API says about groups: their instances and what each is attached to.
 * AWS has no "which groups are attached to this load balancer" call, so the attachments of a
 * load balancer or target group are read by listing every group of the region, page by page.
 */
import {
  DescribeAutoScalingGroupsCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { awsCall } from './aws-call.js';

export interface GroupFacts {
  readonly name: string;
  readonly desiredCapacity: number;
  /**
   * Instances the group counts as running: lifecycle InService and not marked Unhealthy (an
   * instance the group marked Unhealthy is about to be replaced; it never counts as serving).
   */
  readonly inServiceInstanceIds: readonly string[];
  /** Every instance of the group, whatever its lifecycle state. */
  readonly instanceIds: readonly string[];
  readonly targetGroupArns: readonly string[];
  readonly loadBalancerNames: readonly string[];
}

/** Pages a scan of a large account; AWS answers at most 100 groups a page. */
const PAGE_SIZE = 100;
/** A bound on pages so a misbehaving endpoint that always returns a NextToken cannot loop forever. */
const MAX_PAGES = 1000;

export async function describeGroup(
  client: AutoScalingClient,
  name: string,
): Promise<GroupFacts | undefined> {
  const answer = await awsCall(`DescribeAutoScalingGroups(${name})`, client, (abortSignal) =>
    client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }), { abortSignal }),
  );
  const found = answer.AutoScalingGroups?.find((group) => group.AutoScalingGroupName === name);
  return found === undefined ? undefined : groupFacts(found);
}

/** Every group of the region. */
export async function listGroups(client: AutoScalingClient): Promise<GroupFacts[]> {
  const groups: GroupFacts[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await awsCall('DescribeAutoScalingGroups', client, (abortSignal) =>
      client.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: PAGE_SIZE, NextToken: token }), {
        abortSignal,
      }),
    );
    for (const group of answer.AutoScalingGroups ?? []) groups.push(groupFacts(group));
    token = answer.NextToken;
    if (token === undefined || token === '') return groups;
  }
  return groups;
}

function groupFacts(group: AutoScalingGroup): GroupFacts {
  const instances = group.Instances ?? [];
  return {
    name: group.AutoScalingGroupName ?? '',
    desiredCapacity: group.DesiredCapacity ?? 0,
    inServiceInstanceIds: instances
      .filter((instance) => instance.LifecycleState === 'InService' && instance.HealthStatus !== 'Unhealthy')
      .map((instance) => instance.InstanceId ?? '')
      .filter((id) => id !== ''),
    instanceIds: instances.map((instance) => instance.InstanceId ?? '').filter((id) => id !== ''),
    targetGroupArns: group.TargetGroupARNs ?? [],
    loadBalancerNames: group.LoadBalancerNames ?? [],
  };
}
