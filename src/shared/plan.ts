/**
 * What `cutover deploy --plan` prints: the calls a deploy would make, in order, and the waits
 * between them, without making any of them. Platforms and routers that can plan implement the
 * optional plan methods of their interfaces (Platform.planProvision / planStop, Router.planMove /
 * planDrain); each answers a list of PlannedStep, built from what it reads now (describe calls
 * only) and from the same functions its executor uses to compute each call's input.
 */
import type { Slot, SlotEndpoint } from './slot.js';

/**
 * A value that only exists after an earlier call (a new launch template's id, the instances a
 * new group launches): named, never guessed. Kept as an object so no real value can pass for one.
 */
export interface Placeholder {
  readonly placeholder: string;
}

export type PlannedValue =
  | string
  | number
  | boolean
  | Placeholder
  | readonly PlannedValue[]
  | { readonly [key: string]: PlannedValue };

/** One step of a plan: a call that changes something, a wait with its deadline, or a remark. */
export type PlannedStep =
  | {
      readonly kind: 'call';
      /** The API's service name as its endpoint says it: `autoscaling`, `ec2`, `elasticloadbalancing` … */
      readonly service: string;
      /** The API operation, as the provider spells it: `CreateAutoScalingGroup`. */
      readonly operation: string;
      readonly input: { readonly [key: string]: PlannedValue };
      /** When the call is made only under a condition known later (`if any instance is left`). */
      readonly condition?: string;
    }
  | {
      readonly kind: 'wait';
      /** What is waited for: `2 instances InService and Healthy in group X`. */
      readonly until: string;
      readonly deadlineMs: number;
    }
  | { readonly kind: 'note'; readonly text: string };

/** What a platform plans for provision(): its steps, and the endpoint the slot will have after. */
export interface ProvisionPlan {
  readonly steps: readonly PlannedStep[];
  /** The endpoint provision() will give the slot (a group's name): what the move plan routes to. */
  readonly endpoint?: SlotEndpoint;
}

/** The phases of a deployment a plan walks, in the order a deploy runs them. */
export type PlanPhaseName =
  'retire-standby' | 'provision' | 'verify' | 'switch' | 'shift' | 'drain' | 'retire';

export interface PlanPhase {
  readonly phase: PlanPhaseName;
  /** One line saying what the phase does: `provision green with v2`. */
  readonly title: string;
  /** True for what `cutover retire` (or the end of the rollback window) does later, not the deploy. */
  readonly later: boolean;
  readonly steps: readonly PlannedStep[];
}

export interface DeployPlan {
  readonly app: string;
  readonly release: string;
  readonly platform: string;
  readonly router: string;
  /** The live slot now (null: nothing deployed yet). */
  readonly fromSlot: Slot | null;
  readonly toSlot: Slot;
  readonly phases: readonly PlanPhase[];
}

export function placeholder(name: string): Placeholder {
  return { placeholder: name };
}

export function isPlaceholder(value: unknown): value is Placeholder {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { placeholder?: unknown }).placeholder === 'string'
  );
}

/** Every call of the plan that the deploy itself makes (not the later retire), in order. */
export function deployCalls(plan: DeployPlan): Extract<PlannedStep, { kind: 'call' }>[] {
  return plan.phases
    .filter((phase) => !phase.later)
    .flatMap((phase) => phase.steps)
    .filter((step): step is Extract<PlannedStep, { kind: 'call' }> => step.kind === 'call');
}
