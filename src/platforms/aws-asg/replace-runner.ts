/**
 * Runs a replace-instances step list: read the state, plan, make the first call, read again …
 * until the plan is empty. A call is made once: when the next plan asks for the very same call
 * (AWS has not shown its effect yet: reads are eventually consistent), the runner waits and
 * reads again instead of sending it twice, and gives up at the deadline with what it saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AttachInstancesCommand,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  EnterStandbyCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeregisterInstancesFromLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '../../aws/aws-call.js';
import { formatDuration } from '../../shared/duration.js';
import { CutoverError } from '../../shared/errors.js';
import { awsCrashPoint } from './crash-point.js';
import type { ReplaceClients, ReplaceState } from './replace-state.js';
import { isAlive } from './replace-state.js';
import type { ReplaceStep, WaitCondition } from './replace-steps.js';

type AnyCommand = new (input: never) => object;

/** Every call a step list may name, by `service:Call`. */
const COMMANDS: Record<string, { service: keyof ReplaceClients; command: AnyCommand }> = {
  'ec2:CreateTags': { service: 'ec2', command: CreateTagsCommand },
  'ec2:RunInstances': { service: 'ec2', command: RunInstancesCommand },
  'ec2:TerminateInstances': { service: 'ec2', command: TerminateInstancesCommand },
  'ec2:CreateImage': { service: 'ec2', command: CreateImageCommand },
  'ec2:DeregisterImage': { service: 'ec2', command: DeregisterImageCommand },
  'ec2:CreateLaunchTemplateVersion': { service: 'ec2', command: CreateLaunchTemplateVersionCommand },
  'ec2:ModifyLaunchTemplate': { service: 'ec2', command: ModifyLaunchTemplateCommand },
  'autoscaling:CreateOrUpdateTags': { service: 'asg', command: CreateOrUpdateTagsCommand },
  'autoscaling:DeleteTags': { service: 'asg', command: DeleteTagsCommand },
  'autoscaling:UpdateAutoScalingGroup': { service: 'asg', command: UpdateAutoScalingGroupCommand },
  'autoscaling:AttachInstances': { service: 'asg', command: AttachInstancesCommand },
  'autoscaling:EnterStandby': { service: 'asg', command: EnterStandbyCommand },
  'autoscaling:TerminateInstanceInAutoScalingGroup': {
    service: 'asg',
    command: TerminateInstanceInAutoScalingGroupCommand,
  },
  'elb:DeregisterInstancesFromLoadBalancer': {
    service: 'elb',
    command: DeregisterInstancesFromLoadBalancerCommand,
  },
  'elbv2:DeregisterTargets': { service: 'elbv2', command: DeregisterTargetsCommand },
};

export interface RunOptions {
  /** How long a wait (and an effect AWS has not shown yet) may take. */
  readonly deadlineMs: number;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Each call, before it is made. */
  readonly onCall?: (step: Extract<ReplaceStep, { kind: 'call' }>) => void;
}

/** A bound on calls per run, so a plan that never empties cannot loop forever. */
const MAX_CALLS = 500;

export async function runSteps(
  clients: ReplaceClients,
  observe: () => Promise<ReplaceState>,
  plan: (state: ReplaceState) => ReplaceStep[],
  options: RunOptions,
): Promise<ReplaceState> {
  const waitingSince = new Map<string, number>();
  let lastCall = '';
  let calls = 0;
  for (;;) {
    if (options.signal?.aborted) throw new CutoverError('CUTOVER_E_ABORTED', 'stopped by request');
    const state = await observe();
    const step = plan(state)[0];
    if (step === undefined) return state;
    const key =
      step.kind === 'call'
        ? `${step.service}:${step.call} ${JSON.stringify(step.input)}`
        : `wait:${step.until}`;
    if (step.kind === 'call' && key !== lastCall) {
      if (++calls > MAX_CALLS) {
        throw new CutoverError(
          'CUTOVER_E_PROVISION',
          `replace-instances made ${MAX_CALLS} calls without finishing`,
        );
      }
      options.onCall?.(step);
      await makeCall(clients, step);
      awsCrashPoint();
      lastCall = key;
      waitingSince.clear();
      continue;
    }
    const since = waitingSince.get(key) ?? Date.now();
    waitingSince.set(key, since);
    if (Date.now() - since >= options.deadlineMs) {
      const what = step.kind === 'wait' ? step.why : `${step.call} to take effect`;
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `waited ${formatDuration(options.deadlineMs)} for ${what}: ${seen(state, step.kind === 'wait' ? step.until : undefined)}`,
        { details: { waitingFor: step.kind === 'wait' ? step.until : step.call } },
      );
    }
    try {
      await sleep(options.pollIntervalMs, undefined, { signal: options.signal });
    } catch {
      throw new CutoverError('CUTOVER_E_ABORTED', 'stopped by request');
    }
  }
}

async function makeCall(
  clients: ReplaceClients,
  step: Extract<ReplaceStep, { kind: 'call' }>,
): Promise<void> {
  const entry = COMMANDS[`${step.service}:${step.call}`];
  if (entry === undefined)
    throw new CutoverError('CUTOVER_E_INTERNAL', `no command for ${step.service}:${step.call}`);
  const client = clients[entry.service] as unknown as {
    send(command: object, options: { abortSignal: AbortSignal }): Promise<unknown>;
  };
  const command = new entry.command(step.input as never);
  await awsCall(
    step.call,
    client,
    (abortSignal) => client.send(command, { abortSignal }),
    'CUTOVER_E_PROVISION',
  );
}

/** What AWS showed when a wait gave up, for the error message. */
function seen(state: ReplaceState, until: WaitCondition | undefined): string {
  const mine = state.instances.filter((instance) => isAlive(instance) && instance.app !== undefined);
  if (until === 'image-available') {
    return (
      state.images.map((image) => `${image.id} (${image.release}) ${image.state}`).join(', ') || 'no image'
    );
  }
  return (
    mine
      .map((instance) => {
        const at = state.balancers.map((b) => b.health.get(instance.id) ?? 'not registered').join('/');
        return `${instance.id} (${instance.slot ?? '?'} ${instance.release ?? '?'}) ${instance.state}, ${instance.lifecycle ?? 'not in the group'}${at === '' ? '' : `, ${at} at the balancer`}`;
      })
      .join('; ') || 'no instance'
  );
}
