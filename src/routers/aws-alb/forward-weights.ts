/**
 * cutover's weights as an ALB forward action, and back. AWS weighs a forward action's target
 * groups with integers from 0 to 999, relative to their sum; cutover writes its percents as
 * they are (blue 90 / green 10 → weights 90 and 10), which keeps every split exact. A read-back
 * turns whatever weights the listener holds (a hand edit may write any 0–999) into percents of
 * their sum, rounded to whole percents that add up to 100.
 */
import type { Action, TargetGroupStickinessConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SLOTS, type Slot, type Weights } from '../../shared/slot.js';

/** The most AWS accepts for one target group's weight in a forward action. */
export const ALB_WEIGHT_MAX = 999;

export type SlotTargetGroups = Readonly<Record<Slot, string>>;

/** What a forward action does, as cutover reads it. */
export interface ForwardReading {
  /** Each slot's share in percent; undefined when the action forwards to neither slot's group. */
  readonly weights: Weights | undefined;
  /** Other target groups the action sends requests to (weight above 0). */
  readonly foreign: readonly string[];
  /** Seconds, when target group stickiness is on. */
  readonly stickySeconds: number | undefined;
  /** The action lists exactly the two slots' target groups, each with a weight (cutover's own form). */
  readonly bothListed: boolean;
}

/** AWS's weight for a cutover percent (identity: 0–100 lies inside 0–999). */
export function albWeight(percent: number): number {
  return Math.min(ALB_WEIGHT_MAX, Math.max(0, Math.round(percent)));
}

/**
 * Stickiness only while both slots take requests (a shift step): a client stays on the version
 * it first got. At 100/0 it is off, so a switch or an abort moves every client at once instead of
 * leaving sticky ones on the old group until their cookie expires.
 */
export function stickinessFor(
  weights: Weights,
  stickySeconds: number | undefined,
): TargetGroupStickinessConfig {
  const shifting = weights.blue > 0 && weights.green > 0;
  return shifting && stickySeconds !== undefined
    ? { Enabled: true, DurationSeconds: stickySeconds }
    : { Enabled: false };
}

export function forwardAction(
  groups: SlotTargetGroups,
  weights: Weights,
  stickySeconds: number | undefined,
): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: SLOTS.map((slot) => ({ TargetGroupArn: groups[slot], Weight: albWeight(weights[slot]) })),
      TargetGroupStickinessConfig: stickinessFor(weights, stickySeconds),
    },
  };
}

/** The action list with cutover's forward in place of the terminal action; authentication steps stay first. */
export function withForward(actions: readonly Action[], forward: Action): Action[] {
  const kept = actions.filter((action) => action.Type?.startsWith('authenticate-') === true);
  if (kept.length === 0) return [forward];
  const last = Math.max(0, ...kept.map((action) => action.Order ?? 0));
  return [...kept, { ...forward, Order: last + 1 }];
}

/** Reads the terminal forward action of a listener's default actions or a rule's actions. */
export function readForward(
  actions: readonly Action[],
  groups: SlotTargetGroups,
): ForwardReading | undefined {
  const forward = actions.find((action) => action.Type === 'forward');
  if (forward === undefined) return undefined;
  const entries =
    forward.ForwardConfig?.TargetGroups?.map((group) => ({
      arn: group.TargetGroupArn ?? '',
      weight: group.Weight ?? 1,
    })) ?? (forward.TargetGroupArn === undefined ? [] : [{ arn: forward.TargetGroupArn, weight: 1 }]);
  const raw: Record<Slot, number> = { blue: 0, green: 0 };
  const foreign: string[] = [];
  for (const { arn, weight } of entries) {
    const slot = SLOTS.find((candidate) => groups[candidate] === arn);
    if (slot !== undefined) raw[slot] += weight;
    else if (weight > 0) foreign.push(arn);
  }
  const sticky = forward.ForwardConfig?.TargetGroupStickinessConfig;
  const listed = entries.map((entry) => entry.arn);
  return {
    bothListed: listed.length === 2 && SLOTS.every((slot) => listed.includes(groups[slot])),
    weights: percents(raw),
    foreign,
    stickySeconds: sticky?.Enabled === true ? (sticky.DurationSeconds ?? 0) : undefined,
  };
}

/** Raw AWS weights as whole percents adding up to 100; undefined when both are 0. */
export function percents(raw: Readonly<Record<Slot, number>>): Weights | undefined {
  const sum = raw.blue + raw.green;
  if (sum <= 0) return undefined;
  const blue = Math.round((raw.blue * 100) / sum);
  return { blue, green: 100 - blue };
}

export function sameForward(
  reading: ForwardReading | undefined,
  weights: Weights,
  stickySeconds: number | undefined,
): boolean {
  if (reading?.weights === undefined || !reading.bothListed) return false;
  const wanted = stickinessFor(weights, stickySeconds);
  return (
    reading.weights.blue === weights.blue &&
    reading.weights.green === weights.green &&
    reading.stickySeconds === (wanted.Enabled === true ? wanted.DurationSeconds : undefined)
  );
}
