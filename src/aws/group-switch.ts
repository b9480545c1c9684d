/**
 * The switch of one long-lived balancer from whatever groups stand behind it to one group:
 * attach the group, wait until its instances are healthy at the balancer, then detach every
 * other group. Never the other way round, so there is no instant with no healthy group behind
 * the balancer. Idempotent: run again after a crash at any point, it finishes the same switch
 * (an attached group is not attached twice, a detached one is not detached again).
 * The aws-elb and aws-target-group routers and the CloudFormation switch all run this.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CutoverError } from '../shared/errors.js';
import { describeGroup, type GroupFacts } from './auto-scaling-groups.js';
import type { BalancerAttachment } from './balancer-attachment.js';
import { groupServing } from './group-serving.js';
import { plannedCall } from './planned-call.js';
import type { PlannedStep } from '../shared/plan.js';

export interface SwitchTiming {
  /** Epoch ms after which the switch stops waiting for health and fails. */
  readonly deadline: number;
  /** First poll interval; doubles up to `maxPollMs`. */
  readonly firstPollMs?: number;
  readonly maxPollMs?: number;
  readonly now?: () => number;
}

export interface SwitchOutcome {
  /** Whether this run attached the group (false: it was attached already). */
  readonly attached: boolean;
  /** The groups this run detached, in order. */
  readonly detached: readonly string[];
  /** The balancer's view of the group when it was found healthy. */
  readonly seen: string;
}

/** Progress for logs: one line per step. */
export type SwitchStep =
  | { readonly step: 'attach'; readonly group: string }
  | { readonly step: 'waiting'; readonly group: string; readonly seen: string }
  | { readonly step: 'healthy'; readonly group: string; readonly seen: string }
  | { readonly step: 'detach'; readonly group: string }
  | { readonly step: 'withdrawn'; readonly group: string; readonly reason: string };

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5_000;

export async function switchToGroup(
  balancer: BalancerAttachment,
  autoScaling: AutoScalingClient,
  group: string,
  timing: SwitchTiming,
  onStep: (step: SwitchStep) => void = () => {},
): Promise<SwitchOutcome> {
  if ((await describeGroup(autoScaling, group)) === undefined) {
    throw new CutoverError('CUTOVER_E_ROUTER', `Auto Scaling group ${group} does not exist`, {
      details: { group },
    });
  }
  const before = await balancer.attachedGroups();
  const found = before.find((attached) => attached.name === group);
  const wasAttached = found !== undefined;
  if (await needsAttach(balancer, found)) {
    onStep({ step: 'attach', group });
    await balancer.attach(group);
  }
  let seen: string;
  try {
    seen = await waitUntilServing(balancer, autoScaling, group, timing, onStep);
  } catch (error) {
    // Never leave a group that cannot serve attached beside the groups that do.
    if (!wasAttached && before.length > 0) {
      const reason = error instanceof Error ? error.message : String(error);
      onStep({ step: 'withdrawn', group, reason });
      await balancer.detach(group);
    }
    throw error;
  }
  onStep({ step: 'healthy', group, seen });
  const detached: string[] = [];
  // Read again: a group attached while we waited is detached too.
  for (const other of await balancer.attachedGroups()) {
    if (other.name === group) continue;
    onStep({ step: 'detach', group: other.name });
    await balancer.detach(other.name);
    detached.push(other.name);
  }
  return { attached: !wasAttached, detached, seen };
}

/**
 * The calls switchToGroup(group) would make now, in order, read from the balancer with describe
 * calls only: the attach (unless the group is attached with every instance registered), the
 * wait, and a detach of each other group attached now. The group need not exist yet (a plan
 * made before provision creates it). Each call's input comes from the balancer's attachCall /
 * detachCall, which attach() and detach() send.
 */
export async function planSwitchToGroup(
  balancer: BalancerAttachment,
  group: string,
  settleTimeoutMs: number,
): Promise<PlannedStep[]> {
  const before = await balancer.attachedGroups();
  const found = before.find((attached) => attached.name === group);
  const steps: PlannedStep[] = [];
  if (await needsAttach(balancer, found)) steps.push(plannedCall(balancer.attachCall(group)));
  steps.push({
    kind: 'wait',
    until: `every instance of ${group} InService in the group and healthy at ${balancer.label}`,
    deadlineMs: settleTimeoutMs,
  });
  if (found === undefined && before.length > 0) {
    steps.push({
      kind: 'note',
      text: `if ${group} is not healthy by then, it is detached again and the deploy fails with ${names(before)} still attached`,
    });
  }
  for (const other of before) {
    if (other.name !== group) steps.push(plannedCall(balancer.detachCall(other.name)));
  }
  return steps;
}

/** Attach unless the group is attached already with every running instance registered. */
async function needsAttach(balancer: BalancerAttachment, found: GroupFacts | undefined): Promise<boolean> {
  return found === undefined || (await registrationLost(balancer, found));
}

function names(groups: readonly GroupFacts[]): string {
  return groups.map((group) => group.name).join(', ');
}

/**
 * The group is attached but the balancer does not list some of its running instances: attach
 * again, which registers them (a no-op for AWS when nothing is missing). Real AWS registers an
 * attached group's instances itself; moto's Classic ELB drops them when another group attaches.
 */
async function registrationLost(balancer: BalancerAttachment, group: GroupFacts): Promise<boolean> {
  const health = await balancer.instanceHealth();
  return group.inServiceInstanceIds.some((id) => !health.has(id));
}

async function waitUntilServing(
  balancer: BalancerAttachment,
  autoScaling: AutoScalingClient,
  group: string,
  timing: SwitchTiming,
  onStep: (step: SwitchStep) => void,
): Promise<string> {
  const now = timing.now ?? Date.now;
  let delay = timing.firstPollMs ?? FIRST_POLL_MS;
  let lastSeen = '';
  for (;;) {
    const facts = await describeGroup(autoScaling, group);
    if (facts === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', `Auto Scaling group ${group} vanished during the switch`, {
        details: { group },
      });
    }
    const verdict = groupServing(facts, await balancer.instanceHealth(), balancer.label);
    if (verdict.serving) return verdict.seen;
    if (verdict.seen !== lastSeen) {
      lastSeen = verdict.seen;
      onStep({ step: 'waiting', group, seen: verdict.seen });
    }
    const left = timing.deadline - now();
    if (left <= 0) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `the instances of ${group} did not become healthy at ${balancer.label} before the deadline: ${verdict.seen}`,
        { details: { group, seen: verdict.seen } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    delay = Math.min(delay * 2, timing.maxPollMs ?? MAX_POLL_MS);
  }
}
