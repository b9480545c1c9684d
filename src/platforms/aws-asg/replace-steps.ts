/**
 * Mode replace-instances as ordered lists of AWS calls: pure functions from what AWS holds now
 * (replace-state.ts) to every call still to make, in order, each with its input. The runner
 * (replace-runner.ts) makes the first call, reads the state again and plans again, so a rerun
 * after a crash anywhere continues where the first run stopped and never makes a resource
 * twice; a plan printed before anything runs lists the same calls, with placeholders (`<…>`)
 * for the ids AWS has not handed out yet.
 */
import { createHash } from 'node:crypto';
import { cutoverTags } from '../../aws/cutover-tags.js';
import { otherSlot, type Slot } from '../../shared/slot.js';
import { isAlive, type ObservedInstance, type ReplaceState } from './replace-state.js';

export type ReplaceService = 'ec2' | 'autoscaling' | 'elb' | 'elbv2';

/** One AWS call, or a read repeated until AWS shows what the next call needs. */
export type ReplaceStep =
  | {
      readonly kind: 'call';
      readonly service: ReplaceService;
      readonly call: string;
      readonly input: Readonly<Record<string, unknown>>;
      readonly why: string;
    }
  | { readonly kind: 'wait'; readonly until: WaitCondition; readonly why: string };

export type WaitCondition = 'instances-running' | 'image-available' | 'in-service-at-balancers';

/** The release tag of the instances a group ran before cutover first deployed to it. */
export const ADOPTED_RELEASE = 'before-cutover';
/** Group tags: the MaxSize before cutover raised it; each slot's launch template version. */
export const MAX_SIZE_TAG = 'cutover:max-size';
export function versionTag(slot: Slot): string {
  return `cutover:template-version:${slot}`;
}
/** How a launch template version cutover made says whose it is (versions carry no tags). */
export function versionDescription(app: string, slot: Slot, release: string): string {
  return `cutover app=${app} slot=${slot} release=${release}`;
}
/** AWS takes at most 20 instances per AttachInstances / EnterStandby / ExitStandby call. */
const INSTANCES_PER_CALL = 20;

export interface ProvisionTarget {
  readonly app: string;
  readonly slot: Slot;
  readonly release: string;
  readonly deployment?: string | undefined;
  /** User data with ${RELEASE} and ${SLOT} replaced (plain text), if configured. */
  readonly userData?: string | undefined;
  /** The baked image's name (unique per app and release). */
  readonly imageName: string;
  readonly keepImages: number;
  /** Instances to launch when the group has none in service (its first deploy of an empty group). */
  readonly fallbackCount: number;
}

const call = (
  service: ReplaceService,
  name: string,
  input: Record<string, unknown>,
  why: string,
): ReplaceStep => ({ kind: 'call', service, call: name, input, why });

const wait = (until: WaitCondition, why: string): ReplaceStep => ({ kind: 'wait', until, why });

export function provisionSteps(state: ReplaceState, target: ProvisionTarget): ReplaceStep[] {
  const { group, template } = state;
  const { app, slot, release } = target;
  const other = otherSlot(slot);
  const steps: ReplaceStep[] = [];
  const alive = state.instances.filter(isAlive);
  const ours = alive.filter((instance) => instance.app === app);

  const untagged = alive.filter((instance) => instance.lifecycle !== undefined && instance.app === undefined);
  if (untagged.length > 0) {
    steps.push(
      call(
        'ec2',
        'CreateTags',
        {
          Resources: untagged.map((instance) => instance.id),
          Tags: cutoverTags({ app, slot: other, release: ADOPTED_RELEASE }),
        },
        `the group's instances from before cutover become slot ${other}, the live one`,
      ),
    );
  }
  const stale = ours.filter((instance) => instance.slot === slot && instance.release !== release);
  steps.push(
    ...terminateSteps(stale, `slot ${slot} is idle while it is provisioned: what it ran before goes`),
  );

  const groupTags: Record<string, string> = {};
  if (group.tags[MAX_SIZE_TAG] === undefined) groupTags[MAX_SIZE_TAG] = String(group.max);
  if (group.tags[versionTag(other)] === undefined)
    groupTags[versionTag(other)] = String(template.defaultVersion);
  if (Object.keys(groupTags).length > 0) {
    steps.push(
      call(
        'autoscaling',
        'CreateOrUpdateTags',
        { Tags: Object.entries(groupTags).map(([Key, Value]) => groupTag(group.name, Key, Value)) },
        'remember the MaxSize and the launch template version to restore when a slot retires',
      ),
    );
  }

  const fresh = ours.filter((instance) => instance.slot === slot && instance.release === release);
  const serving = alive.filter((instance) => instance.lifecycle === 'InService' && instance.slot !== slot);
  const wanted = serving.length > 0 ? serving.length : target.fallbackCount;
  const missing = Math.max(0, wanted - fresh.length);
  const newIds = fresh.map((instance) => instance.id);
  const tags = cutoverTags({ app, slot, release, deployment: target.deployment });
  if (missing > 0) {
    steps.push(
      call(
        'ec2',
        'RunInstances',
        {
          LaunchTemplate: { LaunchTemplateId: template.id, Version: String(template.defaultVersion) },
          // The same launch asked twice (a retry, a read that lags) gives the same instances.
          ClientToken: clientToken(app, slot, release, target.deployment ?? '', String(fresh.length)),
          MinCount: missing,
          MaxCount: missing,
          ...(target.userData === undefined
            ? {}
            : { UserData: Buffer.from(target.userData, 'utf8').toString('base64') }),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        },
        `launch ${missing} instance(s) of ${release} from the group's launch template (its user data installs the release)`,
      ),
    );
    for (let n = 1; n <= missing; n++) newIds.push(`<new instance ${n}>`);
  }
  if (missing > 0 || fresh.some((instance) => instance.state !== 'running')) {
    steps.push(wait('instances-running', `the new instances of ${release} are running`));
  }

  const image = state.images.find((found) => found.release === release && found.state !== 'failed');
  if (image === undefined) {
    steps.push(
      call(
        'ec2',
        'CreateImage',
        {
          InstanceId: newIds[0],
          Name: target.imageName,
          Description: `${release} of ${app}, baked by cutover`,
          NoReboot: true,
          // Its snapshots go with it (DeregisterImage DeleteAssociatedSnapshots); moto cannot tag them.
          TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
        },
        `bake an image of ${release} from one new instance, without rebooting it`,
      ),
    );
  }
  if (image === undefined || image.state !== 'available') {
    steps.push(wait('image-available', `the image of ${release} is available`));
  }

  const members = alive.filter((instance) => instance.lifecycle !== undefined);
  const outside = newIds.filter((id) => !members.some((member) => member.id === id));
  if (members.length + outside.length > group.max) {
    steps.push(
      call(
        'autoscaling',
        'UpdateAutoScalingGroup',
        { AutoScalingGroupName: group.name, MaxSize: members.length + outside.length },
        `raise the group's MaxSize so ${outside.length} instance(s) can join`,
      ),
    );
  }
  for (const chunk of chunks(outside)) {
    steps.push(
      call(
        'autoscaling',
        'AttachInstances',
        { AutoScalingGroupName: group.name, InstanceIds: chunk },
        'attach the new instances to the group; the group registers them at its load balancers',
      ),
    );
  }
  const proven = (instance: ObservedInstance): boolean =>
    instance.lifecycle === 'Standby' ||
    (instance.lifecycle === 'InService' &&
      state.balancers.every((b) => b.health.get(instance.id) === 'healthy'));
  if (outside.length > 0 || !fresh.every(proven)) {
    steps.push(
      wait('in-service-at-balancers', `every new instance is InService at the group's load balancers`),
    );
  }

  const description = versionDescription(app, slot, release);
  const version = template.versions.find((found) => found.description === description);
  if (version === undefined) {
    steps.push(
      call(
        'ec2',
        'CreateLaunchTemplateVersion',
        {
          LaunchTemplateId: template.id,
          VersionDescription: description,
          ClientToken: clientToken(description),
          // The full data of the current default (moto ignores SourceVersion), with the new image.
          LaunchTemplateData: {
            ...template.defaultData,
            ImageId: image?.id ?? `<image of ${release}>`,
            ...(target.userData === undefined
              ? {}
              : { UserData: Buffer.from(target.userData, 'utf8').toString('base64') }),
            TagSpecifications: [{ ResourceType: 'instance', Tags: cutoverTags({ app, slot, release }) }],
          },
        },
        `a launch template version with the image of ${release}, so scale-outs run it`,
      ),
    );
  }
  const versionNumber = version === undefined ? `<version of ${release}>` : String(version.number);
  if (version === undefined || template.defaultVersion !== version.number) {
    steps.push(
      call(
        'ec2',
        'ModifyLaunchTemplate',
        { LaunchTemplateId: template.id, DefaultVersion: versionNumber },
        `make the version of ${release} the template's default`,
      ),
    );
  }
  if (group.tags[versionTag(slot)] !== versionNumber) {
    steps.push(
      call(
        'autoscaling',
        'CreateOrUpdateTags',
        { Tags: [groupTag(group.name, versionTag(slot), versionNumber)] },
        `remember slot ${slot}'s launch template version`,
      ),
    );
  }

  // Until the router switches, the live slot alone takes requests: the new ones wait in Standby.
  const toStandby =
    serving.length === 0
      ? []
      : [
          ...fresh.filter((instance) => instance.lifecycle === 'InService').map((instance) => instance.id),
          ...outside,
        ];
  steps.push(...standbySteps(group.name, toStandby, slot));
  steps.push(...unregisterIdleSteps(state, app));
  steps.push(...pruneImageSteps(state, target));
  return steps;
}

export interface RetireOptions {
  /** reconcile: leave instances that are InService in the group (they may be taking requests). */
  readonly idleOnly?: boolean;
}

/**
 * What retiring `slot` takes: its instances terminated (Standby ones already left the desired
 * capacity when they entered it, so only InService ones decrement it), the launch template's
 * default back to the other slot's version, the MaxSize back to what it was before cutover.
 */
export function retireSteps(
  state: ReplaceState,
  app: string,
  slot: Slot,
  options: RetireOptions = {},
): ReplaceStep[] {
  const { group, template } = state;
  const steps: ReplaceStep[] = [];
  const alive = state.instances.filter(isAlive);
  const mine = alive.filter(
    (instance) =>
      instance.app === app &&
      instance.slot === slot &&
      !(options.idleOnly === true && instance.lifecycle === 'InService'),
  );
  steps.push(...terminateSteps(mine, `retire slot ${slot}`));

  const otherVersion = group.tags[versionTag(otherSlot(slot))];
  if (
    otherVersion !== undefined &&
    /^\d+$/.test(otherVersion) &&
    Number(otherVersion) !== template.defaultVersion
  ) {
    steps.push(
      call(
        'ec2',
        'ModifyLaunchTemplate',
        { LaunchTemplateId: template.id, DefaultVersion: otherVersion },
        `the launch template's default is ${otherSlot(slot)}'s version again`,
      ),
    );
  }
  const leftAfter = alive.filter(
    (instance) => instance.lifecycle !== undefined && !mine.some((gone) => gone.id === instance.id),
  );
  const deleteTags: string[] = [];
  if (group.tags[versionTag(slot)] !== undefined && mine.length > 0) deleteTags.push(versionTag(slot));
  const maxBefore = Number(group.tags[MAX_SIZE_TAG]);
  if (
    group.tags[MAX_SIZE_TAG] !== undefined &&
    Number.isInteger(maxBefore) &&
    leftAfter.length <= maxBefore
  ) {
    if (group.max !== maxBefore) {
      steps.push(
        call(
          'autoscaling',
          'UpdateAutoScalingGroup',
          { AutoScalingGroupName: group.name, MaxSize: maxBefore },
          "the group's MaxSize is what it was before the deploy",
        ),
      );
    }
    deleteTags.push(MAX_SIZE_TAG);
  }
  if (deleteTags.length > 0) {
    steps.push(
      call(
        'autoscaling',
        'DeleteTags',
        {
          Tags: deleteTags.map((key) => ({
            ResourceId: group.name,
            ResourceType: 'auto-scaling-group',
            Key: key,
          })),
        },
        'forget what the retired slot needed remembered',
      ),
    );
  }
  steps.push(...unregisterIdleSteps(state, app));
  return steps;
}

/** Standby with capacity decrement: the group neither counts nor replaces them; the balancers drop them. */
export function standbySteps(groupName: string, ids: readonly string[], slot: Slot): ReplaceStep[] {
  return chunks(ids).map((chunk) =>
    call(
      'autoscaling',
      'EnterStandby',
      { AutoScalingGroupName: groupName, InstanceIds: chunk, ShouldDecrementDesiredCapacity: true },
      `slot ${slot}'s instances leave the load balancers but stay warm in the group`,
    ),
  );
}

/**
 * An instance of the app that is not in service in the group (Standby, terminated, never
 * attached) and that a balancer still sends requests to is deregistered there. Real AWS
 * deregisters at EnterStandby and at termination itself (the instance shows as draining); moto's
 * target groups keep such instances registered, and register Standby ones again whenever the
 * group's capacity changes.
 */
export function unregisterIdleSteps(state: ReplaceState, app: string): ReplaceStep[] {
  const idle = state.instances.filter(
    (instance) => instance.app === app && instance.lifecycle !== 'InService',
  );
  const steps: ReplaceStep[] = [];
  for (const balancer of state.balancers) {
    const ids = idle
      .map((instance) => instance.id)
      .filter((id) => ['healthy', 'pending', 'unhealthy'].includes(balancer.health.get(id) ?? ''));
    if (ids.length === 0) continue;
    steps.push(deregisterIdleCall(balancer, ids));
  }
  return steps;
}

/** The call that takes `ids` off `balancer` (a plan also names it, for ids not known yet). */
export function deregisterIdleCall(
  balancer: Pick<ReplaceState['balancers'][number], 'kind' | 'id'>,
  ids: readonly string[],
): Extract<ReplaceStep, { kind: 'call' }> {
  const why = 'instances out of service take no requests';
  return balancer.kind === 'elb'
    ? {
        kind: 'call',
        service: 'elb',
        call: 'DeregisterInstancesFromLoadBalancer',
        input: { LoadBalancerName: balancer.id, Instances: ids.map((InstanceId) => ({ InstanceId })) },
        why,
      }
    : {
        kind: 'call',
        service: 'elbv2',
        call: 'DeregisterTargets',
        input: { TargetGroupArn: balancer.id, Targets: ids.map((Id) => ({ Id })) },
        why,
      };
}

function terminateSteps(instances: readonly ObservedInstance[], why: string): ReplaceStep[] {
  const steps: ReplaceStep[] = [];
  for (const instance of instances.filter((found) => found.lifecycle !== undefined)) {
    steps.push(
      call(
        'autoscaling',
        'TerminateInstanceInAutoScalingGroup',
        {
          InstanceId: instance.id,
          // A Standby instance left the desired capacity when it entered Standby.
          ShouldDecrementDesiredCapacity: instance.lifecycle !== 'Standby',
        },
        why,
      ),
    );
  }
  const outside = instances.filter((found) => found.lifecycle === undefined).map((found) => found.id);
  if (outside.length > 0) steps.push(call('ec2', 'TerminateInstances', { InstanceIds: outside }, why));
  return steps;
}

/** Images of releases beyond the newest `keepImages` go, unless an instance or the template still uses them. */
function pruneImageSteps(state: ReplaceState, target: ProvisionTarget): ReplaceStep[] {
  const newestFirst = [...state.images].sort(
    (a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id),
  );
  const kept = new Set<string>([target.release]);
  for (const image of newestFirst) {
    if (kept.size >= target.keepImages) break;
    kept.add(image.release);
  }
  const inUse = new Set(state.instances.filter(isAlive).map((instance) => instance.imageId));
  const steps: ReplaceStep[] = [];
  for (const image of newestFirst) {
    if (kept.has(image.release) || inUse.has(image.id) || image.id === state.template.defaultData.ImageId)
      continue;
    // One call, so no crash can leave a snapshot whose image is gone behind.
    steps.push(
      call(
        'ec2',
        'DeregisterImage',
        { ImageId: image.id, DeleteAssociatedSnapshots: true },
        `keep the images of the last ${target.keepImages} releases`,
      ),
    );
  }
  return steps;
}

/** At most 64 characters, the same for the same inputs. */
function clientToken(...parts: string[]): string {
  return `cutover-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 48)}`;
}

function groupTag(group: string, Key: string, Value: string) {
  return { ResourceId: group, ResourceType: 'auto-scaling-group', Key, Value, PropagateAtLaunch: false };
}

function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += INSTANCES_PER_CALL) out.push(ids.slice(i, i + INSTANCES_PER_CALL));
  return out;
}
