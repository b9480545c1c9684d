/**
 * `cutover deploy --plan` for the aws-alb router: what prepare() + setWeights() would send for
 * each move of a deploy, what drain() waits for and what cleanup() detaches, read with describe
 * calls only and built with the call specs the router sends (the attachment's attach/detach, the
 * forward site's ModifyListener / ModifyRule, forward-weights.ts's action). A plan asks its
 * moves in order; each assumes the earlier ones were made, so the planner keeps what it planned
 * (groups attached, the forward action written) in an AlbPlanState of its own.
 */
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeGroup } from '../../aws/auto-scaling-groups.js';
import { plannedCall } from '../../aws/planned-call.js';
import { formatDuration } from '../../shared/duration.js';
import { CutoverError } from '../../shared/errors.js';
import type { PlannedStep } from '../../shared/plan.js';
import type { PlannedMove } from '../../shared/router.js';
import { SLOTS, type Slot } from '../../shared/slot.js';
import type { AlbConnection } from './alb-router.js';
import { forwardAction, readForward, sameForward, withForward } from './forward-weights.js';

/** What the plan's earlier moves did, as far as the next move's plan depends on it. */
export interface AlbPlanState {
  /** Groups attached to a slot's target group by an earlier planned move. */
  readonly attached: Map<Slot, Set<string>>;
  /** Groups detached from a slot's target group by an earlier planned move. */
  readonly detached: Map<Slot, Set<string>>;
  /** The listener's (or rule's) actions once the last planned move is made. */
  actions: Action[] | undefined;
}

export function newAlbPlanState(): AlbPlanState {
  return { attached: new Map(), detached: new Map(), actions: undefined };
}

export interface AlbPlanOptions {
  readonly region: string;
  readonly settleTimeoutMs: number;
  readonly stickySeconds: number | undefined;
}

/** The steps of one move: each slot's group attached (prepare), then the forward action. */
export async function planAlbMove(
  c: AlbConnection,
  state: AlbPlanState,
  move: PlannedMove,
  options: AlbPlanOptions,
): Promise<PlannedStep[]> {
  const steps: PlannedStep[] = [];
  const actions = state.actions ?? (await c.site.actions());
  const reading = readForward(actions, c.targetGroups);
  for (const slot of SLOTS) {
    const endpoint = move.endpoints[slot];
    if (endpoint === undefined) continue;
    const region = endpoint.details?.region;
    if (region !== undefined && region !== options.region) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `${slot}'s group ${endpoint.id} is in ${region}, but the aws-alb router works in ${options.region}`,
        { details: { slot, group: endpoint.id, region } },
      );
    }
    const group = endpoint.id;
    // The new slot's group comes with the provision planned before this move.
    const facts = await describeGroup(c.autoScaling, group);
    if (facts === undefined && slot !== move.to) {
      throw new CutoverError('CUTOVER_E_ROUTER', `${slot}'s Auto Scaling group ${group} does not exist`, {
        details: { slot, group },
      });
    }
    const attached =
      facts?.targetGroupArns.includes(c.targetGroups[slot]) === true ||
      setOf(state.attached, slot).has(group);
    if (attached) continue;
    const attachment = c.attachments[slot];
    steps.push(plannedCall(attachment.attachCall(group)));
    setOf(state.attached, slot).add(group);
    if ((reading?.weights?.[slot] ?? 0) === 0) {
      // An earlier release's group on the idle slot's target group must not get the slot's weight.
      for (const other of await attachment.attachedGroups()) {
        if (other.name === group || setOf(state.detached, slot).has(other.name)) continue;
        steps.push(plannedCall(attachment.detachCall(other.name)));
        setOf(state.detached, slot).add(other.name);
      }
    }
    steps.push({
      kind: 'wait',
      until: `every instance of ${group} healthy at ${attachment.label}`,
      deadlineMs: options.settleTimeoutMs,
    });
  }
  if (!sameForward(reading, move.weights, options.stickySeconds)) {
    const next = withForward(actions, forwardAction(c.targetGroups, move.weights, options.stickySeconds));
    steps.push(plannedCall(c.site.replaceCall(next)));
    state.actions = next;
  }
  return steps;
}

/** What drain(slot) waits: the slot's target group's deregistration delay, at most the deadline. */
export async function planAlbDrain(c: AlbConnection, slot: Slot, deadlineMs: number): Promise<PlannedStep[]> {
  const attachment = c.attachments[slot];
  const delay = await attachment.drainTimeoutMs();
  return [
    {
      kind: 'wait',
      until: `the deregistration delay of ${attachment.label} (${formatDuration(delay)}) after ${slot}'s weight went to 0`,
      deadlineMs: Math.min(delay, deadlineMs),
    },
  ];
}

/**
 * What cleanup(slot) detaches: every group on the slot's target group, as the plan's earlier
 * moves leave it. (A preview rule exists only after a smoke test, which a plan does not run.)
 */
export async function planAlbCleanup(
  c: AlbConnection,
  state: AlbPlanState,
  slot: Slot,
): Promise<PlannedStep[]> {
  const attachment = c.attachments[slot];
  const detached = setOf(state.detached, slot);
  const groups = new Set(
    (await attachment.attachedGroups()).map((group) => group.name).filter((name) => !detached.has(name)),
  );
  for (const name of setOf(state.attached, slot)) groups.add(name);
  const steps = [...groups].sort().map((name) => plannedCall(attachment.detachCall(name)));
  for (const name of groups) detached.add(name);
  setOf(state.attached, slot).clear();
  return steps;
}

function setOf(map: Map<Slot, Set<string>>, slot: Slot): Set<string> {
  let set = map.get(slot);
  if (set === undefined) {
    set = new Set();
    map.set(slot, set);
  }
  return set;
}
