import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { otherSlot, type Slot } from '../../shared/slot.js';
import type { GroupCapacity } from './replica-group-calls.js';
import { groupsOf } from './slot-groups.js';

/**
 * The capacity a new group of `slot` gets: the live (other) slot's, so it can take all of that
 * slot's traffic; `instances` of the config for a first group.
 */
export async function newGroupCapacity(
  asg: AutoScalingClient,
  app: string,
  slot: Slot,
  instances: number,
): Promise<GroupCapacity> {
  const other = (await groupsOf(asg, app, otherSlot(slot))).find(
    (group) => !group.deleting && group.desired > 0,
  );
  if (other !== undefined) return { min: other.min, max: other.max, desired: other.desired };
  return { min: instances, max: instances, desired: instances };
}
