import { setTimeout as sleep } from 'node:timers/promises';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { awsErrorName, isAwsError } from '../../aws/aws-error-name.js';
import { awsClientConfig } from '../../aws/connection.js';
import { cutoverTags } from '../../aws/cutover-tags.js';
import { formatDuration } from '../../shared/duration.js';
import type { PlannedStep, ProvisionPlan } from '../../shared/plan.js';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type {
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SLOTS, type Slot, type SlotEndpoint, type Target } from '../../shared/slot.js';
import type { AwsAsgPlatformConfig } from './config.js';
import { consoleLines } from './console-output.js';
import { AWS_ASG_ENDPOINT_KIND } from './endpoint-kind.js';
import { awsCrashPoint } from './crash-point.js';
import { groupName } from './group-naming.js';
import { deleteLaunchTemplate, ensureLaunchTemplate, templatesOf } from './launch-template.js';
import { newGroupCapacity } from './group-capacity.js';
import { releaseImage } from './release-image.js';
import { requiredImage } from './required-image.js';
import { ReplaceInstancesPlatform } from './replace-instances-platform.js';
import {
  planReplicaGroupProvision,
  planReplicaGroupStop,
  type ReplicaGroupPlanContext,
} from './replica-group-plan.js';
import {
  createGroupCall,
  deleteGroupCall,
  launchTemplateData,
  scaleToZeroCall,
  setCapacityCall,
  terminateInstancesCall,
  type GroupCapacity,
} from './replica-group-calls.js';
import { createReplicaStackPlatform } from './replica-stack-platform.js';
import { groupNamed, groupsOf, type SlotGroup } from './slot-groups.js';

const LOG_TAIL_DEFAULT = 100;

export interface AwsAsgPlatformDeps {
  readonly app: string;
  readonly logger: Logger;
}

type Capacity = GroupCapacity;

/**
 * Mode `replica-group`: a slot is one Auto Scaling group cutover created from a launch template
 * of its own, named after the app, the slot and the release, and tagged with all three (and the
 * deployment), so every read goes to AWS and a restarted cutover sees what an earlier one made.
 */
export function createAwsAsgPlatform(config: AwsAsgPlatformConfig, deps: AwsAsgPlatformDeps): Platform {
  if (config.mode === 'replace-instances') {
    return new ReplaceInstancesPlatform(config, { ...deps, endpointKind: AWS_ASG_ENDPOINT_KIND });
  }
  if (config.mode === 'replica-stack')
    return createReplicaStackPlatform(config, deps, new AwsAsgPlatform(config, deps));
  return new AwsAsgPlatform(config, deps);
}

class AwsAsgPlatform implements Platform {
  private readonly asg: AutoScalingClient;
  private readonly ec2: EC2Client;

  constructor(
    private readonly config: AwsAsgPlatformConfig,
    private readonly deps: AwsAsgPlatformDeps,
  ) {
    this.asg = new AutoScalingClient(awsClientConfig(config));
    this.ec2 = new EC2Client(awsClientConfig(config));
  }

  describe(): PlatformDescription {
    return { kind: 'aws-asg', endpointKind: AWS_ASG_ENDPOINT_KIND, stopGraceMs: this.config.stopGrace };
  }

  async checkRelease(release: string): Promise<void> {
    await releaseImage(this.ec2, requiredImage(this.config), release);
  }

  async provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    const imageId = await releaseImage(this.ec2, requiredImage(this.config), release);
    const name = groupName(this.deps.app, slot, release);
    const groups = await groupsOf(this.asg, this.deps.app, slot);
    // The slot is idle while it is provisioned: what it ran before goes before the new group comes.
    for (const old of groups.filter((group) => group.name !== name)) await this.deleteGroup(old.name);
    await this.deleteTemplatesExcept(slot, new Set([name]));
    const capacity = await this.capacityFor(slot);
    const tags = cutoverTags({ app: this.deps.app, slot, release, deployment: options.deploymentId });
    const existing = groups.find((group) => group.name === name && !group.deleting);
    awsCrashPoint();
    if (existing === undefined) {
      const template = await ensureLaunchTemplate(
        this.ec2,
        name,
        launchTemplateData(this.config, imageId, slot, release),
        tags,
      );
      options.onProgress?.(`launch template ${template.name} version ${template.version} (image ${imageId})`);
      awsCrashPoint();
      await this.createGroup(name, template, capacity, tags);
      options.onProgress?.(`Auto Scaling group ${name}: ${capacity.desired} instances launching`);
      awsCrashPoint();
    } else if (existing.desired < capacity.desired) {
      await this.setCapacity(name, capacity);
    }
    const ready = await this.waitUntilInService(name, options.signal);
    this.deps.logger.info('aws-asg.provisioned', { slot, release, group: name, instances: ready.desired });
    return this.instancesOf([ready]);
  }

  async planProvision(
    slot: Slot,
    release: string,
    options: { deploymentId?: string } = {},
  ): Promise<ProvisionPlan> {
    const { steps, group } = await planReplicaGroupProvision(this.planContext(), slot, release, options);
    return {
      steps,
      endpoint: { kind: AWS_ASG_ENDPOINT_KIND, id: group, details: { region: this.config.region } },
    };
  }

  planStop(slot: Slot, options: StopOptions): Promise<PlannedStep[]> {
    return planReplicaGroupStop(this.planContext(), slot, options);
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return instances.map(({ id, host, port }) => ({ id, host, port }));
  }

  endpoint(slot: Slot, instances: readonly Instance[]): SlotEndpoint | undefined {
    const group = instances.find((instance) => instance.slot === slot)?.meta.group;
    if (typeof group !== 'string') return undefined;
    return { kind: AWS_ASG_ENDPOINT_KIND, id: group, details: { region: this.config.region } };
  }

  async running(slot: Slot): Promise<Instance[]> {
    const groups = await groupsOf(this.asg, this.deps.app, slot);
    return this.instancesOf(groups.filter((group) => !group.deleting));
  }

  async logs(slot: Slot, options: { tail?: number } = {}): Promise<LogLine[]> {
    const tail = options.tail ?? LOG_TAIL_DEFAULT;
    const lines: LogLine[] = [];
    for (const instance of await this.running(slot)) {
      lines.push(...(await consoleLines(this.ec2, instance.id, tail)));
    }
    return lines;
  }

  /**
   * Scales the slot's groups to zero (EC2 then shuts each instance down: the OS gets its
   * polite stop), waits up to the grace for the group to let them go, then terminates the
   * ones still there itself. The groups and their templates stay, for a later provision.
   */
  async stop(slot: Slot, options: StopOptions): Promise<void> {
    const groups = (await groupsOf(this.asg, this.deps.app, slot)).filter((group) => !group.deleting);
    for (const group of groups) {
      if (group.desired === 0 && group.min === 0 && group.instances.length === 0) continue;
      await this.asg.send(new UpdateAutoScalingGroupCommand(scaleToZeroCall(group.name).input));
    }
    const giveUpAt = Date.now() + options.graceMs;
    for (;;) {
      const left = (await groupsOf(this.asg, this.deps.app, slot)).flatMap((group) =>
        group.instances.filter((instance) => !instance.lifecycle.startsWith('Terminat')),
      );
      if (left.length === 0) return;
      const remaining = giveUpAt - Date.now();
      if (remaining <= 0) {
        this.deps.logger.warn('aws-asg.stop-forced', {
          slot,
          instances: left.map((instance) => instance.id),
        });
        await this.ec2.send(
          new TerminateInstancesCommand(terminateInstancesCall(left.map((instance) => instance.id)).input),
        );
        return;
      }
      await sleep(Math.min(this.config.pollInterval, remaining));
    }
  }

  async destroy(slot: Slot): Promise<void> {
    for (const group of await groupsOf(this.asg, this.deps.app, slot)) await this.deleteGroup(group.name);
    await this.deleteTemplatesExcept(slot, new Set());
  }

  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    const result: Record<Slot, Instance[]> = { blue: [], green: [] };
    for (const slot of SLOTS) {
      if (!keep.has(slot)) {
        await this.destroy(slot);
        continue;
      }
      // A template whose group was never created (a crash between the two calls) goes.
      const groups = await groupsOf(this.asg, this.deps.app, slot);
      await this.deleteTemplatesExcept(slot, new Set(groups.map((group) => group.name)));
      result[slot] = await this.instancesOf(groups.filter((group) => !group.deleting));
    }
    return result;
  }

  close(): Promise<void> {
    this.asg.destroy();
    this.ec2.destroy();
    return Promise.resolve();
  }

  private planContext(): ReplicaGroupPlanContext {
    return { asg: this.asg, ec2: this.ec2, config: this.config, app: this.deps.app };
  }

  private capacityFor(slot: Slot): Promise<Capacity> {
    return newGroupCapacity(this.asg, this.deps.app, slot, this.config.instances);
  }

  private async createGroup(
    name: string,
    template: { id: string; version: string },
    capacity: Capacity,
    tags: { Key: string; Value: string }[],
  ): Promise<void> {
    try {
      await this.asg.send(
        new CreateAutoScalingGroupCommand(createGroupCall(this.config, name, template, capacity, tags).input),
      );
    } catch (error) {
      // A resumed provision whose first attempt got this far: the group is ours (by its name).
      if (isAwsError(error, 'AlreadyExists')) return;
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `creating Auto Scaling group ${name} failed: ${message(error)}`,
        {
          cause: error,
          details: { group: name, awsError: awsErrorName(error) },
        },
      );
    }
  }

  private async setCapacity(name: string, capacity: Capacity): Promise<void> {
    await this.asg.send(new UpdateAutoScalingGroupCommand(setCapacityCall(name, capacity).input));
  }

  /** Until every instance the group wants is InService and Healthy in it, or readyTimeout. */
  private async waitUntilInService(name: string, signal: AbortSignal | undefined): Promise<SlotGroup> {
    const giveUpAt = Date.now() + this.config.readyTimeout;
    for (;;) {
      if (signal?.aborted) throw new CutoverError('CUTOVER_E_ABORTED', `stopped waiting for group ${name}`);
      const group = await groupNamed(this.asg, this.deps.app, name);
      if (group?.deleting === true) {
        throw new CutoverError('CUTOVER_E_PROVISION', `Auto Scaling group ${name} is being deleted`, {
          details: { group: name },
        });
      }
      // AWS reads are eventually consistent: a group just created may not be listed yet.
      const ready = (group?.instances ?? []).filter(
        (instance) => instance.lifecycle === 'InService' && instance.health === 'Healthy',
      );
      if (group !== undefined && group.desired > 0 && ready.length >= group.desired) return group;
      if (Date.now() >= giveUpAt) throw notReady(name, group, ready.length, this.config.readyTimeout);
      try {
        await sleep(this.config.pollInterval, undefined, { signal });
      } catch {
        throw new CutoverError('CUTOVER_E_ABORTED', `stopped waiting for group ${name}`);
      }
    }
  }

  /** The InService instances of `groups`, with their private addresses, in a stable order. */
  private async instancesOf(groups: readonly SlotGroup[]): Promise<Instance[]> {
    const members = groups.flatMap((group) =>
      group.instances
        .filter((instance) => instance.lifecycle === 'InService')
        .map((instance) => ({ group, id: instance.id })),
    );
    if (members.length === 0) return [];
    const answer = await this.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: members.map((m) => m.id) }),
    );
    const details = new Map(
      (answer.Reservations ?? []).flatMap((reservation) =>
        (reservation.Instances ?? []).map((instance) => [instance.InstanceId!, instance] as const),
      ),
    );
    return members
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(({ group, id }, index) => {
        const ec2 = details.get(id);
        return {
          id,
          slot: group.slot,
          release: group.release,
          index,
          host: ec2?.PrivateIpAddress ?? '',
          port: this.config.port,
          meta: { group: group.name, instanceId: id, image: ec2?.ImageId ?? '' },
        };
      });
  }

  private async deleteGroup(name: string): Promise<void> {
    try {
      await this.asg.send(new DeleteAutoScalingGroupCommand(deleteGroupCall(name).input));
      this.deps.logger.info('aws-asg.group-deleted', { group: name });
    } catch (error) {
      if (isAwsError(error, 'ValidationError') && /not found/i.test(message(error))) return;
      throw error;
    }
  }

  private async deleteTemplatesExcept(slot: Slot, keep: ReadonlySet<string>): Promise<void> {
    for (const template of await templatesOf(this.ec2, this.deps.app, slot)) {
      if (keep.has(template.LaunchTemplateName ?? '')) continue;
      await deleteLaunchTemplate(this.ec2, template.LaunchTemplateId!);
    }
  }
}

/** Why a group was not ready at the deadline, naming each instance's state. */
function notReady(
  name: string,
  group: SlotGroup | undefined,
  ready: number,
  timeoutMs: number,
): CutoverError {
  if (group === undefined) {
    return new CutoverError(
      'CUTOVER_E_PROVISION',
      `Auto Scaling group ${name} was not listed within ${formatDuration(timeoutMs)} of its creation`,
      { details: { group: name } },
    );
  }
  const states = group.instances.map((instance) => `${instance.id} ${instance.lifecycle}/${instance.health}`);
  return new CutoverError(
    'CUTOVER_E_PROVISION',
    `Auto Scaling group ${name}: ${ready}/${group.desired} instances InService and Healthy after ${formatDuration(timeoutMs)}${states.length > 0 ? ` (${states.join(', ')})` : ''}`,
    { details: { group: name, ready, desired: group.desired } },
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
