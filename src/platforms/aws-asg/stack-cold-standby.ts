/**
 * Mode replica-stack's cold standby: once the old stack has drained (for Route 53, the record's
 * TTL + dnsMargin after the move), its group goes to min 0 / desired 0, its alarm-driven scaling
 * suspended; group, load balancer, policies and alarms stay for the rollback window. A rollback
 * puts min/max/desired back as the engine journaled them and waits until every instance is
 * InService and Healthy in the group and counted in service by the stack's load balancer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import type { AwsCallSpec } from '../../aws/planned-call.js';
import { formatDuration } from '../../shared/duration.js';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { ColdStandby, ParkedCapacity } from '../../shared/platform.js';
import type { Slot } from '../../shared/slot.js';
import { awsStep } from './aws-step.js';
import { scaleToZeroCall, type GroupCapacity } from './replica-group-calls.js';
import { groupNamed, groupsOf, type SlotGroup } from './slot-groups.js';

/** The Auto Scaling process that runs scaling policies when their alarms fire. */
export const ALARM_SCALING = 'AlarmNotification';

/** Alarm-driven scaling off for the group: a copied policy cannot scale a stopped group up. */
export function suspendAlarmScalingCall(group: string) {
  return {
    service: 'autoscaling',
    operation: 'SuspendProcesses',
    input: { AutoScalingGroupName: group, ScalingProcesses: [ALARM_SCALING] },
  } satisfies AwsCallSpec<object>;
}

/** Alarm-driven scaling back on for the group (a provision, a rollback's restore). */
export function resumeAlarmScalingCall(group: string) {
  return {
    service: 'autoscaling',
    operation: 'ResumeProcesses',
    input: { AutoScalingGroupName: group, ScalingProcesses: [ALARM_SCALING] },
  } satisfies AwsCallSpec<object>;
}

/** One group's capacity before the park, as journaled. */
export interface ParkedGroup extends GroupCapacity {
  readonly name: string;
  readonly release: string;
}

export interface StackColdStandbyDeps {
  readonly asg: AutoScalingClient;
  readonly app: string;
  readonly logger: Logger;
  readonly pollInterval: number;
  readonly readyTimeout: number;
  /** Resolves once the stack's load balancer counts these instances in service (none: at once). */
  served(slot: Slot, release: string, instanceIds: readonly string[], signal?: AbortSignal): Promise<void>;
}

export function createStackColdStandby(deps: StackColdStandbyDeps): ColdStandby {
  const { asg, app } = deps;
  const slotGroups = async (slot: Slot) => (await groupsOf(asg, app, slot)).filter((g) => !g.deleting);
  return {
    async capacity(slot) {
      const groups: ParkedGroup[] = (await slotGroups(slot)).map((group) => ({
        name: group.name,
        release: group.release,
        min: group.min,
        max: group.max,
        desired: group.desired,
      }));
      return { groups };
    },

    async park(slot) {
      for (const group of await slotGroups(slot)) {
        // Suspended first: a copied policy's alarm must not scale the parked group back up.
        await awsStep(`SuspendProcesses(${group.name})`, asg, (abortSignal) =>
          asg.send(new SuspendProcessesCommand(suspendAlarmScalingCall(group.name).input), { abortSignal }),
        );
        if (group.min === 0 && group.desired === 0) continue;
        await awsStep(`UpdateAutoScalingGroup(${group.name})`, asg, (abortSignal) =>
          asg.send(new UpdateAutoScalingGroupCommand(scaleToZeroCall(group.name).input), { abortSignal }),
        );
        deps.logger.info('aws-asg.stack-parked', { slot, group: group.name });
      }
    },

    async unpark(slot, capacity, { signal }) {
      for (const group of parkedGroups(capacity)) {
        await awsStep(`UpdateAutoScalingGroup(${group.name})`, asg, (abortSignal) =>
          asg.send(
            new UpdateAutoScalingGroupCommand({
              AutoScalingGroupName: group.name,
              MinSize: group.min,
              MaxSize: group.max,
              DesiredCapacity: group.desired,
            }),
            { abortSignal },
          ),
        );
        await awsStep(`ResumeProcesses(${group.name})`, asg, (abortSignal) =>
          asg.send(new ResumeProcessesCommand(resumeAlarmScalingCall(group.name).input), { abortSignal }),
        );
        const ready = await waitInService(deps, group, signal);
        await deps.served(slot, group.release, ready, signal);
        deps.logger.info('aws-asg.stack-unparked', { slot, group: group.name, instances: ready.length });
      }
    },
  };
}

/** The journaled capacity, read as untrusted input: the journal is a file an operator can edit. */
export function parkedGroups(capacity: ParkedCapacity): ParkedGroup[] {
  const groups = capacity.groups;
  if (!Array.isArray(groups)) throw badCapacity('no `groups` list');
  return groups.map((group: unknown, index) => {
    if (typeof group !== 'object' || group === null) throw badCapacity(`groups[${index}] is not an object`);
    const { name, release, min, max, desired } = group as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw badCapacity(`groups[${index}].name is not a name`);
    if (typeof release !== 'string') throw badCapacity(`groups[${index}].release is not a string`);
    for (const [key, value] of Object.entries({ min, max, desired })) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw badCapacity(`groups[${index}].${key} is not a whole number from 0`);
      }
    }
    const parked = { name, release, min: min as number, max: max as number, desired: desired as number };
    if (parked.min > parked.desired || parked.desired > parked.max) {
      throw badCapacity(`groups[${index}]: min ≤ desired ≤ max does not hold`);
    }
    return parked;
  });
}

function badCapacity(why: string): CutoverError {
  return new CutoverError('CUTOVER_E_INVALID_STATE', `the journaled capacity of the parked stack: ${why}`);
}

/** Until the group has `desired` instances InService and Healthy; their ids. */
async function waitInService(
  deps: StackColdStandbyDeps,
  parked: ParkedGroup,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const giveUpAt = Date.now() + deps.readyTimeout;
  for (;;) {
    const group: SlotGroup | undefined = await groupNamed(deps.asg, deps.app, parked.name);
    if (group === undefined || group.deleting) {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `cannot restore ${parked.name}: the parked group is gone`,
        { details: { group: parked.name } },
      );
    }
    const ready = group.instances
      .filter((instance) => instance.lifecycle === 'InService' && instance.health === 'Healthy')
      .map((instance) => instance.id);
    if (ready.length >= parked.desired) return ready;
    if (Date.now() >= giveUpAt) {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `restoring ${parked.name}: ${ready.length}/${parked.desired} instances InService and Healthy after ${formatDuration(deps.readyTimeout)}`,
        { details: { group: parked.name, ready: ready.length, desired: parked.desired } },
      );
    }
    try {
      await sleep(deps.pollInterval, undefined, { signal });
    } catch {
      throw new CutoverError('CUTOVER_E_ABORTED', `stopped waiting for group ${parked.name}`);
    }
  }
}
