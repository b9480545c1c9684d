/**
 * The switch between two slots that share ONE Auto Scaling group (aws-asg mode
 * replace-instances): a slot is the set of the group's instances tagged `cutover:slot`. Traffic
 * moves with Standby, the state AWS made for taking an instance out of service without losing
 * it: EnterStandby deregisters it from the group's load balancers, the group stops health-
 * checking and replacing it, and (with the decrement) stops counting it; ExitStandby registers
 * it again. Bare register/deregister calls would not do: the group, checking health at the
 * balancer, would replace instances it sees deregistered. Where a balancer still lists an
 * instance after its Standby (moto's target groups do), the instance is deregistered too.
 *
 * Order, as in the group switch: the new slot's instances come out of Standby and are healthy
 * at the balancer before the old slot's go into it, so there is no instant with none.
 */
import {
  DescribeAutoScalingGroupsCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  type AutoScalingClient,
  type EnterStandbyCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CutoverError } from '../shared/errors.js';
import type { Slot } from '../shared/slot.js';
import { awsCall } from './aws-call.js';
import type { BalancerAttachment, BalancerHealth } from './balancer-attachment.js';
import { CUTOVER_TAG, tagValue } from './cutover-tags.js';
import { plannedCall, type AwsCallSpec } from './planned-call.js';
import { placeholder, type PlannedStep, type Placeholder } from '../shared/plan.js';

export interface InstanceSet {
  readonly group: string;
  readonly app: string;
}

export interface SlotMember {
  readonly id: string;
  /** InService, Standby, Pending … */
  readonly lifecycle: string;
  /** The `cutover:slot` tag (undefined: not an instance of this app's slots). */
  readonly slot: string | undefined;
}

export interface InstanceSwitchTiming {
  readonly deadline: number;
  readonly pollMs: number;
}

export type InstanceSwitchStep =
  | {
      readonly step: 'exit-standby' | 'enter-standby' | 'register' | 'deregister';
      readonly instances: readonly string[];
    }
  | { readonly step: 'waiting'; readonly seen: string };

/** AWS takes at most 20 instances per EnterStandby / ExitStandby. */
const PER_CALL = 20;

/** The group's members with their slot tags. */
export async function slotMembers(
  clients: { autoScaling: AutoScalingClient; ec2: EC2Client },
  set: InstanceSet,
): Promise<SlotMember[]> {
  const answer = await awsCall(
    `DescribeAutoScalingGroups(${set.group})`,
    clients.autoScaling,
    (abortSignal) =>
      clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [set.group] }), {
        abortSignal,
      }),
  );
  const group = answer.AutoScalingGroups?.find((found) => found.AutoScalingGroupName === set.group);
  if (group === undefined) {
    throw new CutoverError('CUTOVER_E_ROUTER', `Auto Scaling group ${set.group} does not exist`, {
      details: { group: set.group },
    });
  }
  const instances = (group.Instances ?? []).filter((instance) => instance.InstanceId !== undefined);
  if (instances.length === 0) return [];
  const described = await awsCall(`DescribeInstances(${set.group})`, clients.ec2, (abortSignal) =>
    clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: instances.map((i) => i.InstanceId!) }), {
      abortSignal,
    }),
  );
  const slotOf = new Map<string, string | undefined>();
  for (const reservation of described.Reservations ?? [])
    for (const instance of reservation.Instances ?? []) {
      const mine = tagValue(instance.Tags, CUTOVER_TAG.app) === set.app;
      slotOf.set(instance.InstanceId ?? '', mine ? tagValue(instance.Tags, CUTOVER_TAG.slot) : undefined);
    }
  return instances.map((instance) => ({
    id: instance.InstanceId!,
    lifecycle: String(instance.LifecycleState ?? 'unknown'),
    slot: slotOf.get(instance.InstanceId!),
  }));
}

/** Whether `live`'s instances serve: all InService in the group and healthy at the balancer. */
export function slotServing(
  members: readonly SlotMember[],
  health: ReadonlyMap<string, BalancerHealth>,
  live: Slot,
  label: string,
): { serving: boolean; seen: string } {
  const mine = members.filter((member) => member.slot === live);
  const ready = mine.filter(
    (member) => member.lifecycle === 'InService' && health.get(member.id) === 'healthy',
  );
  const states = mine
    .filter((member) => !ready.includes(member))
    .slice(0, 5)
    .map((member) => `${member.id} ${member.lifecycle}/${health.get(member.id) ?? 'not registered'}`);
  return {
    serving: mine.length > 0 && ready.length === mine.length,
    seen: `${live}: ${ready.length}/${mine.length} instances InService and healthy at ${label}${states.length > 0 ? ` (${states.join(', ')})` : ''}`,
  };
}

export async function switchToInstanceSet(
  balancer: BalancerAttachment,
  clients: { autoScaling: AutoScalingClient; ec2: EC2Client },
  set: InstanceSet,
  live: Slot,
  timing: InstanceSwitchTiming,
  onStep: (step: InstanceSwitchStep) => void = () => {},
): Promise<void> {
  const members = await slotMembers(clients, set);
  const mine = members.filter((member) => member.slot === live);
  if (mine.length === 0) {
    throw new CutoverError('CUTOVER_E_ROUTER', `no instance of ${set.group} is tagged for slot ${live}`, {
      details: { group: set.group, slot: live },
    });
  }
  const waking = mine.filter((member) => member.lifecycle === 'Standby').map((member) => member.id);
  for (const chunk of chunks(waking)) {
    onStep({ step: 'exit-standby', instances: chunk });
    const { input } = exitStandbyCall(set.group, chunk);
    await awsCall(`ExitStandby(${set.group})`, clients.autoScaling, (abortSignal) =>
      clients.autoScaling.send(new ExitStandbyCommand(input), { abortSignal }),
    );
  }
  try {
    await waitUntilSlotServes(balancer, clients, set, live, timing, onStep);
  } catch (error) {
    // Never leave instances that cannot serve beside the ones that do: back into Standby.
    if (waking.length > 0) await enterStandby(clients.autoScaling, set.group, waking, onStep);
    throw error;
  }
  const leaving = (await slotMembers(clients, set))
    .filter((member) => member.slot !== undefined && member.slot !== live && member.lifecycle === 'InService')
    .map((member) => member.id);
  await enterStandby(clients.autoScaling, set.group, leaving, onStep);
  await deregisterStandby(balancer, clients, set, onStep);
}

/** Standby instances the balancer still sends requests to (moto's target groups) are deregistered. */
export async function deregisterStandby(
  balancer: BalancerAttachment,
  clients: { autoScaling: AutoScalingClient; ec2: EC2Client },
  set: InstanceSet,
  onStep: (step: InstanceSwitchStep) => void = () => {},
): Promise<void> {
  const health = await balancer.instanceHealth();
  const stale = (await slotMembers(clients, set))
    .filter((member) => member.slot !== undefined && member.lifecycle === 'Standby')
    .map((member) => member.id)
    .filter((id) => ['healthy', 'pending', 'unhealthy'].includes(health.get(id) ?? ''));
  if (stale.length === 0) return;
  onStep({ step: 'deregister', instances: stale });
  await balancer.deregister(stale);
}

/**
 * The calls switchToInstanceSet(live) would make once provision has run, read with describe
 * calls only: `live`'s instances out of Standby (provision makes them: a placeholder), the wait,
 * the other slots' instances in service now into Standby, and their deregistration where the
 * balancer still lists them (moto's target groups; AWS does it at EnterStandby).
 */
export async function planSwitchToInstanceSet(
  balancer: BalancerAttachment,
  clients: { autoScaling: AutoScalingClient; ec2: EC2Client },
  set: InstanceSet,
  live: Slot,
  settleTimeoutMs: number,
): Promise<PlannedStep[]> {
  const members = await slotMembers(clients, set);
  const leaving = members
    .filter((member) => member.slot !== undefined && member.slot !== live && member.lifecycle === 'InService')
    .map((member) => member.id);
  const steps: PlannedStep[] = [
    plannedCall(
      exitStandbyCall(set.group, placeholder(`the instances of ${live} in Standby after provision`)),
      leaving.length > 0 ? undefined : `only if provision left ${live}'s instances in Standby`,
    ),
    {
      kind: 'wait',
      until: `every instance of ${live} InService in ${set.group} and healthy at ${balancer.label}`,
      deadlineMs: settleTimeoutMs,
    },
  ];
  if (leaving.length > 0) {
    steps.push(
      {
        kind: 'note',
        text: `if ${live} is not healthy by then, its instances go back into Standby and the deploy fails`,
      },
      ...chunks(leaving).map((chunk) => plannedCall(enterStandbyCall(set.group, chunk))),
      plannedCall(
        balancer.deregisterCall(leaving),
        `only for instances ${balancer.label} still lists after EnterStandby (AWS deregisters them itself)`,
      ),
    );
  }
  return steps;
}

async function waitUntilSlotServes(
  balancer: BalancerAttachment,
  clients: { autoScaling: AutoScalingClient; ec2: EC2Client },
  set: InstanceSet,
  live: Slot,
  timing: InstanceSwitchTiming,
  onStep: (step: InstanceSwitchStep) => void,
): Promise<void> {
  let lastSeen = '';
  let registered = false;
  for (;;) {
    const members = await slotMembers(clients, set);
    const health = await balancer.instanceHealth();
    const verdict = slotServing(members, health, live, balancer.label);
    if (verdict.serving) return;
    // In service in the group but unknown to the balancer: register once (a no-op on real AWS).
    const missing = members
      .filter((member) => member.slot === live && member.lifecycle === 'InService' && !health.has(member.id))
      .map((member) => member.id);
    if (missing.length > 0 && !registered) {
      registered = true;
      onStep({ step: 'register', instances: missing });
      await balancer.register(missing);
      continue;
    }
    if (verdict.seen !== lastSeen) {
      lastSeen = verdict.seen;
      onStep({ step: 'waiting', seen: verdict.seen });
    }
    const left = timing.deadline - Date.now();
    if (left <= 0) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `slot ${live}'s instances did not become healthy at ${balancer.label} before the deadline: ${verdict.seen}`,
        { details: { group: set.group, slot: live, seen: verdict.seen } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(timing.pollMs, left)));
  }
}

async function enterStandby(
  autoScaling: AutoScalingClient,
  group: string,
  ids: readonly string[],
  onStep: (step: InstanceSwitchStep) => void,
): Promise<void> {
  for (const chunk of chunks(ids)) {
    onStep({ step: 'enter-standby', instances: chunk });
    const { input } = enterStandbyCall(group, chunk);
    await awsCall(`EnterStandby(${group})`, autoScaling, (abortSignal) =>
      autoScaling.send(new EnterStandbyCommand(input), { abortSignal }),
    );
  }
}

/** The ids are a placeholder only in a plan (the instances provision will make). */
function exitStandbyCall<I extends string[] | Placeholder>(
  group: string,
  ids: I,
): AwsCallSpec<{ AutoScalingGroupName: string; InstanceIds: I }> {
  return {
    service: 'autoscaling',
    operation: 'ExitStandby',
    input: { AutoScalingGroupName: group, InstanceIds: ids },
  };
}

function enterStandbyCall(group: string, ids: readonly string[]): AwsCallSpec<EnterStandbyCommandInput> {
  return {
    service: 'autoscaling',
    operation: 'EnterStandby',
    // The group neither counts nor replaces them; ExitStandby counts them again.
    input: { AutoScalingGroupName: group, InstanceIds: [...ids], ShouldDecrementDesiredCapacity: true },
  };
}

function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += PER_CALL) out.push(ids.slice(i, i + PER_CALL));
  return out;
}
