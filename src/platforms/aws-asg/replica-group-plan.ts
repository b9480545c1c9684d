/**
 * `cutover deploy --plan` for mode replica-group: what provision() and stop() would send now,
 * read with describe calls only and built with the input functions they send
 * (replica-group-calls.ts). The decisions follow provision() and stop() step by step: the slot's
 * older groups and templates go first, then the template and the group (unless a resumed
 * provision made them already), then the wait for the group's instances.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { CUTOVER_TAG, cutoverTags } from '../../aws/cutover-tags.js';
import { plannedCall } from '../../aws/planned-call.js';
import { placeholder, type PlannedStep, type Placeholder } from '../../shared/plan.js';
import type { StopOptions } from '../../shared/platform.js';
import type { Slot } from '../../shared/slot.js';
import type { AwsAsgPlatformConfig } from './config.js';
import { newGroupCapacity } from './group-capacity.js';
import { groupName } from './group-naming.js';
import { templatesOf } from './launch-template.js';
import { requiredImage } from './required-image.js';
import { releaseImage } from './release-image.js';
import {
  createGroupCall,
  createLaunchTemplateCall,
  deleteGroupCall,
  deleteLaunchTemplateCall,
  launchTemplateData,
  scaleToZeroCall,
  setCapacityCall,
  terminateInstancesCall,
  type Tag,
} from './replica-group-calls.js';
import { groupsOf } from './slot-groups.js';

export interface ReplicaGroupPlanContext {
  readonly asg: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly config: AwsAsgPlatformConfig;
  readonly app: string;
}

/** The steps of provision(slot, release), and the group it leaves the slot with. */
export async function planReplicaGroupProvision(
  ctx: ReplicaGroupPlanContext,
  slot: Slot,
  release: string,
  options: { deploymentId?: string } = {},
): Promise<{ steps: PlannedStep[]; group: string }> {
  const { asg, ec2, config, app } = ctx;
  // Fails as provision() does (CUTOVER_E_NOT_FOUND) for a release with no image.
  const imageId = await releaseImage(ec2, requiredImage(config), release);
  const name = groupName(app, slot, release);
  const groups = await groupsOf(asg, app, slot);
  const steps: PlannedStep[] = [];
  for (const old of groups.filter((group) => group.name !== name)) {
    steps.push(plannedCall(deleteGroupCall(old.name)));
  }
  const templates = await templatesOf(ec2, app, slot);
  for (const template of templates) {
    if (template.LaunchTemplateName !== name) {
      steps.push(plannedCall(deleteLaunchTemplateCall(template.LaunchTemplateId!)));
    }
  }
  const capacity = await newGroupCapacity(asg, app, slot, config.instances);
  const existing = groups.find((group) => group.name === name && !group.deleting);
  if (existing === undefined) {
    const tags: Tag<string | Placeholder>[] = [
      ...cutoverTags({ app, slot, release }),
      { Key: CUTOVER_TAG.deployment, Value: options.deploymentId ?? placeholder('id of this deployment') },
    ];
    const template = templates.find((found) => found.LaunchTemplateName === name);
    let version: { id: string | Placeholder; version: string | Placeholder };
    if (template === undefined) {
      steps.push(
        plannedCall(createLaunchTemplateCall(name, launchTemplateData(config, imageId, slot, release), tags)),
      );
      version = {
        id: placeholder(`id of launch template ${name}`),
        version: placeholder(`version of launch template ${name}`),
      };
    } else {
      version = { id: template.LaunchTemplateId!, version: String(template.LatestVersionNumber ?? 1) };
    }
    steps.push(plannedCall(createGroupCall(config, name, version, capacity, tags)));
  } else if (existing.desired < capacity.desired) {
    steps.push(plannedCall(setCapacityCall(name, capacity)));
  }
  const desired = Math.max(existing?.desired ?? 0, capacity.desired);
  steps.push({
    kind: 'wait',
    until: `${desired} instances InService and Healthy in Auto Scaling group ${name} (image ${imageId})`,
    deadlineMs: config.readyTimeout,
  });
  return { steps, group: name };
}

/** The steps of stop(slot): each group to zero, the wait for its instances, then what is left. */
export async function planReplicaGroupStop(
  ctx: ReplicaGroupPlanContext,
  slot: Slot,
  options: StopOptions,
): Promise<PlannedStep[]> {
  const groups = (await groupsOf(ctx.asg, ctx.app, slot)).filter((group) => !group.deleting);
  const steps: PlannedStep[] = [];
  for (const group of groups) {
    if (group.desired === 0 && group.min === 0 && group.instances.length === 0) continue;
    steps.push(plannedCall(scaleToZeroCall(group.name)));
  }
  const names = groups.map((group) => group.name).join(', ');
  if (groups.some((group) => group.instances.length > 0)) {
    steps.push({ kind: 'wait', until: `the instances of ${names} terminated`, deadlineMs: options.graceMs });
    steps.push(
      plannedCall(
        terminateInstancesCall(placeholder(`instances of ${names} still there after the stop grace`)),
        'only if an instance is left after the stop grace',
      ),
    );
  }
  return steps;
}
