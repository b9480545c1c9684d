import {
  DescribeAutoScalingGroupsCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { CUTOVER_TAG, tagValue } from '../../aws/cutover-tags.js';
import { isSlot, type Slot } from '../../shared/slot.js';

/** One Auto Scaling group cutover created, as read from AWS. */
export interface SlotGroup {
  readonly name: string;
  readonly slot: Slot;
  readonly release: string;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** AWS is deleting it (real AWS deletes groups asynchronously): no longer part of the slot. */
  readonly deleting: boolean;
  readonly instances: readonly GroupInstance[];
}

export interface GroupInstance {
  readonly id: string;
  /** `Pending`, `InService`, `Terminating` … */
  readonly lifecycle: string;
  /** The group's own view: `Healthy` or `Unhealthy`. */
  readonly health: string;
}

/**
 * The groups cutover created for the app (one slot's when `slot` is given), found by their tags,
 * so a fresh cutover process sees exactly what an earlier one created.
 */
export async function groupsOf(asg: AutoScalingClient, app: string, slot?: Slot): Promise<SlotGroup[]> {
  const filters = [{ Name: `tag:${CUTOVER_TAG.app}`, Values: [app] }];
  if (slot !== undefined) filters.push({ Name: `tag:${CUTOVER_TAG.slot}`, Values: [slot] });
  const found: SlotGroup[] = [];
  let token: string | undefined;
  do {
    const page = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: filters, NextToken: token }));
    for (const group of page.AutoScalingGroups ?? []) {
      const parsed = slotGroupOf(group, app);
      if (parsed !== undefined && (slot === undefined || parsed.slot === slot)) found.push(parsed);
    }
    token = page.NextToken;
  } while (token);
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The group named `name`, if it exists and is cutover's for this app. */
export async function groupNamed(
  asg: AutoScalingClient,
  app: string,
  name: string,
): Promise<SlotGroup | undefined> {
  const answer = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  const group = answer.AutoScalingGroups?.[0];
  return group === undefined ? undefined : slotGroupOf(group, app);
}

function slotGroupOf(group: AutoScalingGroup, app: string): SlotGroup | undefined {
  const slot = tagValue(group.Tags, CUTOVER_TAG.slot);
  const release = tagValue(group.Tags, CUTOVER_TAG.release);
  if (tagValue(group.Tags, CUTOVER_TAG.app) !== app || !isSlot(slot) || release === undefined)
    return undefined;
  return {
    name: group.AutoScalingGroupName!,
    slot,
    release,
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    deleting: group.Status !== undefined && group.Status !== '',
    instances: (group.Instances ?? []).map((instance) => ({
      id: instance.InstanceId!,
      lifecycle: String(instance.LifecycleState ?? 'unknown'),
      health: instance.HealthStatus ?? 'unknown',
    })),
  };
}
