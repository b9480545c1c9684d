/**
 * `cutover deploy --plan` for mode replace-instances: the step lists provision() and stop() run
 * (replace-steps.ts), computed from what AWS holds now, as PlannedSteps. The step lists name the
 * ids AWS has not handed out yet `<like this>`; here they become placeholders. Two calls the
 * runner only makes because moto's target groups keep Standby instances registered (real AWS
 * deregisters them at EnterStandby) are planned with their condition.
 */
import { CutoverError } from '../../shared/errors.js';
import { placeholder, type PlannedStep, type PlannedValue } from '../../shared/plan.js';
import type { ReplaceState } from './replace-state.js';
import {
  deregisterIdleCall,
  type ReplaceService,
  type ReplaceStep,
  type WaitCondition,
} from './replace-steps.js';

/** A step list's value that stands for an id only an earlier call gives: `<new instance 1>`. */
const STAND_IN = /^<(.+)>$/;

const SERVICE: Record<ReplaceService, string> = {
  ec2: 'ec2',
  autoscaling: 'autoscaling',
  elb: 'elasticloadbalancing',
  elbv2: 'elasticloadbalancing',
};

const WAITS: Record<WaitCondition, string> = {
  'instances-running': 'the new instances are running',
  'image-available': 'the baked image is available',
  'in-service-at-balancers':
    "every new instance is InService in the group and healthy at the group's load balancers",
};

/** The conditional deregistration after an EnterStandby, where a balancer still lists the instances. */
export const STILL_LISTED =
  'only for instances a load balancer still lists after EnterStandby (AWS deregisters them itself)';

export function plannedReplaceSteps(
  steps: readonly ReplaceStep[],
  state: ReplaceState,
  options: { deadlineMs: number; deploymentKnown: boolean },
): PlannedStep[] {
  const planned: PlannedStep[] = [];
  for (const step of steps) {
    if (step.kind === 'wait') {
      planned.push({
        kind: 'wait',
        until: `${WAITS[step.until]} (${step.why})`,
        deadlineMs: options.deadlineMs,
      });
      continue;
    }
    const input = Object.fromEntries(
      Object.entries(step.input)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [
          key,
          // The launch's idempotency token hashes the deployment id, not known before the deploy.
          key === 'ClientToken' && step.call === 'RunInstances' && !options.deploymentKnown
            ? placeholder('idempotency token of this launch')
            : plannedValue(value),
        ]),
    );
    planned.push({ kind: 'call', service: SERVICE[step.service], operation: step.call, input });
    if (step.call === 'EnterStandby') {
      const ids = step.input.InstanceIds as readonly string[];
      for (const balancer of state.balancers) {
        const after = deregisterIdleCall(balancer, ids);
        planned.push({
          kind: 'call',
          service: SERVICE[after.service],
          operation: after.call,
          input: plannedValue(after.input) as Record<string, PlannedValue>,
          condition: STILL_LISTED,
        });
      }
    }
  }
  return planned;
}

/**
 * After a retirement's terminations: the deregistration of those a balancer still lists, which
 * the runner makes when it reads them there (moto keeps some; AWS deregisters at termination).
 * Which ones is known only then: a placeholder for the list.
 */
export function plannedLeftoverDeregisters(state: ReplaceState, slot: string): PlannedStep[] {
  return state.balancers.map((balancer) => {
    const call = deregisterIdleCall(balancer, []);
    const listKey = balancer.kind === 'elb' ? 'Instances' : 'Targets';
    return {
      kind: 'call',
      service: SERVICE[call.service],
      operation: call.call,
      input: {
        ...(plannedValue(call.input) as Record<string, PlannedValue>),
        [listKey]: placeholder(`the instances of ${slot} retired that the load balancer still lists`),
      },
      condition: 'only if the load balancer still lists a retired instance (AWS deregisters them itself)',
    };
  });
}

function plannedValue(value: unknown): PlannedValue {
  if (Array.isArray(value)) return value.map(plannedValue);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, inner]) => inner !== undefined);
    return Object.fromEntries(entries.map(([key, inner]) => [key, plannedValue(inner)]));
  }
  if (typeof value === 'string') {
    const standIn = STAND_IN.exec(value);
    return standIn === null ? value : placeholder(standIn[1]!);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/** The inputs of the calls a retirement makes (retireSteps), as stateAfter reads them. */
interface RetireCallInput {
  readonly InstanceId: string;
  readonly InstanceIds: readonly string[];
  readonly DefaultVersion: string;
  readonly MaxSize: number;
  readonly Tags: readonly { readonly Key: string; readonly Value: string }[];
  readonly TargetGroupArn: string;
  readonly Targets: readonly { readonly Id: string }[];
  readonly LoadBalancerName: string;
  readonly Instances: readonly { readonly InstanceId: string }[];
}

/** The most calls a simulated run makes, as the runner bounds a real one. */
const MAX_SIMULATED_CALLS = 200;

/**
 * The calls the runner (replace-runner.ts) makes for a step list with no waits (a retirement):
 * it makes the first call, reads the state again and computes the list again, so later calls
 * depend on what the earlier ones did. Returns them in order, and the state they leave.
 */
export function simulateRun(
  state: ReplaceState,
  stepsOf: (now: ReplaceState) => ReplaceStep[],
): { calls: ReplaceStep[]; after: ReplaceState } {
  const calls: ReplaceStep[] = [];
  let now = state;
  for (;;) {
    const next = stepsOf(now).find((step) => step.kind === 'call');
    if (next === undefined) return { calls, after: now };
    if (calls.length >= MAX_SIMULATED_CALLS) {
      throw new CutoverError(
        'CUTOVER_E_INTERNAL',
        `a planned run made ${MAX_SIMULATED_CALLS} calls without finishing`,
      );
    }
    calls.push(next);
    now = stateAfter(now, [next]);
  }
}

/**
 * The state `steps` leave behind, as far as the later step lists read it: what a plan computes
 * the next list from before any call is made. The launch data of a new default version is not
 * read back (the plan keeps the current default's): the retirement only restores a version
 * that was the default before.
 */
export function stateAfter(state: ReplaceState, steps: readonly ReplaceStep[]): ReplaceState {
  let { group, template, instances, balancers } = state;
  const gone = (ids: readonly string[]): void => {
    instances = instances.map((instance) =>
      ids.includes(instance.id) ? { ...instance, state: 'terminated', lifecycle: undefined } : instance,
    );
  };
  const offBalancer = (id: string, ids: readonly string[]): void => {
    balancers = balancers.map((balancer) =>
      balancer.id === id
        ? {
            ...balancer,
            health: new Map([...balancer.health].filter(([instance]) => !ids.includes(instance))),
          }
        : balancer,
    );
  };
  for (const step of steps) {
    if (step.kind !== 'call') continue;
    const input = step.input as unknown as RetireCallInput;
    switch (step.call) {
      case 'TerminateInstanceInAutoScalingGroup':
        gone([input.InstanceId]);
        break;
      case 'TerminateInstances':
        gone(input.InstanceIds);
        break;
      case 'ModifyLaunchTemplate':
        template = { ...template, defaultVersion: Number(input.DefaultVersion) };
        break;
      case 'UpdateAutoScalingGroup':
        group = { ...group, max: input.MaxSize };
        break;
      case 'DeleteTags': {
        const keys = input.Tags.map((tag) => tag.Key);
        group = {
          ...group,
          tags: Object.fromEntries(Object.entries(group.tags).filter(([key]) => !keys.includes(key))),
        };
        break;
      }
      case 'CreateOrUpdateTags': {
        const set = input.Tags.map((tag): [string, string] => [tag.Key, tag.Value]);
        group = { ...group, tags: { ...group.tags, ...Object.fromEntries(set) } };
        break;
      }
      case 'DeregisterTargets':
        offBalancer(
          input.TargetGroupArn,
          input.Targets.map((target) => target.Id),
        );
        break;
      case 'DeregisterInstancesFromLoadBalancer':
        offBalancer(
          input.LoadBalancerName,
          input.Instances.map((instance) => instance.InstanceId),
        );
        break;
      default:
        throw new CutoverError('CUTOVER_E_INTERNAL', `a plan cannot tell what ${step.call} leaves behind`);
    }
  }
  return { ...state, group, template, instances, balancers };
}
