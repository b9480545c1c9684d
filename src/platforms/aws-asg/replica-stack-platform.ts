import { setTimeout as sleep } from 'node:timers/promises';
import {
  AttachLoadBalancersCommand,
  AttachLoadBalancerTargetGroupsCommand,
  AutoScalingClient,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsClientConfig } from '../../aws/connection.js';
import { cutoverTags } from '../../aws/cutover-tags.js';
import { formatDuration } from '../../shared/duration.js';
import { CutoverError } from '../../shared/errors.js';
import type { PlannedStep, ProvisionPlan } from '../../shared/plan.js';
import type { Logger } from '../../shared/logger.js';
import type {
  ColdStandby,
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SLOTS, type Slot, type SlotEndpoint, type Target } from '../../shared/slot.js';
import {
  applicationInService,
  applicationReplicasOf,
  deleteApplicationPart,
  ensureApplicationReplica,
  findApplicationReplica,
} from './application-lb-replica.js';
import { awsStep } from './aws-step.js';
import type { BalancerReplica, TaggedReplica } from './balancer-replica.js';
import {
  classicInService,
  classicReplicasOf,
  deleteClassic,
  ensureClassicReplica,
  findClassicReplica,
} from './classic-elb-replica.js';
import type { AwsAsgPlatformConfig } from './config.js';
import { awsCrashPoint } from './crash-point.js';
import {
  AWS_ASG_ENDPOINT_KIND,
  AWS_LOAD_BALANCER_ENDPOINT_KIND,
  awsAsgEndpointKind,
} from './endpoint-kind.js';
import { groupName } from './group-naming.js';
import { replicaName } from './replica-naming.js';
import type { ReplicateSettings } from './replica-stack-config.js';
import { copyScalingPolicies, deleteCopiedAlarms, deleteScalingPolicies } from './scaling-policy-copy.js';
import { groupsOf } from './slot-groups.js';
import {
  createStackColdStandby,
  resumeAlarmScalingCall,
  suspendAlarmScalingCall,
} from './stack-cold-standby.js';
import {
  planReplicaStackPark,
  planReplicaStackProvision,
  planReplicaStackStop,
  type ReplicaStackPlanContext,
} from './replica-stack-plan.js';

export interface ReplicaStackDeps {
  readonly app: string;
  readonly logger: Logger;
}

/**
 * Mode `replica-stack`: each slot is a whole stack — the group mode replica-group makes (the
 * `groups` platform here), plus, when `replicate.loadBalancer` is set, the slot's own copy of
 * that load balancer with the group attached, and the scaling policies and alarms of
 * `replicate.group` copied onto the slot's group. Everything is named from (app, slot, release)
 * and tagged with them, so a rerun finds what an earlier attempt made and teardown deletes only
 * what cutover created. stop() scales the group to 0 and keeps the rest for the rollback window;
 * so does the cold standby (stack-cold-standby.ts) once the old stack has drained.
 */
export function createReplicaStackPlatform(
  config: AwsAsgPlatformConfig,
  deps: ReplicaStackDeps,
  groups: Platform,
): Platform {
  return new ReplicaStackPlatform(config, deps, groups);
}

class ReplicaStackPlatform implements Platform {
  private readonly asg: AutoScalingClient;
  private readonly elb: ElasticLoadBalancingClient;
  private readonly elbv2: ElasticLoadBalancingV2Client;
  private readonly cloudwatch: CloudWatchClient;
  private readonly ec2: EC2Client;
  private readonly replicate: ReplicateSettings;
  readonly coldStandby: ColdStandby;

  constructor(
    private readonly config: AwsAsgPlatformConfig,
    private readonly deps: ReplicaStackDeps,
    private readonly groups: Platform,
  ) {
    if (config.replicate === undefined) throw new Error('mode replica-stack without `replicate`');
    this.replicate = config.replicate;
    this.asg = new AutoScalingClient(awsClientConfig(config));
    this.elb = new ElasticLoadBalancingClient(awsClientConfig(config));
    this.elbv2 = new ElasticLoadBalancingV2Client(awsClientConfig(config));
    this.cloudwatch = new CloudWatchClient(awsClientConfig(config));
    this.ec2 = new EC2Client(awsClientConfig(config));
    const standby = createStackColdStandby({
      asg: this.asg,
      app: deps.app,
      logger: deps.logger,
      pollInterval: config.pollInterval,
      readyTimeout: config.readyTimeout,
      served: async (slot, release, ids, signal) => {
        const replica = await this.findReplica(replicaName(deps.app, slot, release));
        if (replica !== undefined) await this.waitUntilServed(replica, ids, signal);
      },
    });
    this.coldStandby = { ...standby, planPark: (slot) => planReplicaStackPark(this.planContext(), slot) };
  }

  async planProvision(
    slot: Slot,
    release: string,
    options: { deploymentId?: string } = {},
  ): Promise<ProvisionPlan> {
    const { steps, group } = await planReplicaStackProvision(this.planContext(), slot, release, options);
    const source = this.replicate.loadBalancer;
    if (source === undefined) {
      return {
        steps,
        endpoint: { kind: AWS_ASG_ENDPOINT_KIND, id: group, details: { region: this.config.region } },
      };
    }
    return { steps, endpoint: await this.plannedBalancerEndpoint(replicaName(this.deps.app, slot, release)) };
  }

  planStop(slot: Slot, options: StopOptions): Promise<PlannedStep[]> {
    return planReplicaStackStop(this.planContext(), slot, options);
  }

  private planContext(): ReplicaStackPlanContext {
    return {
      asg: this.asg,
      ec2: this.ec2,
      elb: this.elb,
      elbv2: this.elbv2,
      cloudwatch: this.cloudwatch,
      config: this.config,
      app: this.deps.app,
      replicate: this.replicate,
    };
  }

  /**
   * The endpoint provision() will give the slot: its replica as it exists now, or — made by the
   * provision — named with placeholders for what AWS gives it (a router's plan names it so).
   */
  private async plannedBalancerEndpoint(name: string): Promise<SlotEndpoint> {
    const found = await this.findReplica(name);
    if (found !== undefined) {
      return withBalancerEndpoint(
        this.config.region,
        found.id,
        found.dnsName,
        found.canonicalHostedZoneId,
        found.type,
      );
    }
    const type =
      this.replicate.loadBalancer !== undefined && 'classic' in this.replicate.loadBalancer
        ? 'classic'
        : 'application';
    const planned = withBalancerEndpoint(
      this.config.region,
      type === 'classic' ? name : `<ARN of load balancer ${name}>`,
      `<DNS name of load balancer ${name}>`,
      `<hosted zone of load balancer ${name}>`,
      type,
    );
    // What a DNS router's plan takes for the load balancer the provision makes.
    return { ...planned, details: { ...planned.details, planned: 'true' } };
  }

  describe(): PlatformDescription {
    return { ...this.groups.describe(), endpointKind: awsAsgEndpointKind(this.config) };
  }

  async checkRelease(release: string): Promise<void> {
    await this.groups.checkRelease?.(release);
  }

  async provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    const { app } = this.deps;
    // The slot is idle: what it ran for another release goes, alarms and policies first.
    await this.removeStacks(slot, new Set([release]), 'copies');
    const instances = await this.groups.provision(slot, release, options);
    await this.removeStacks(slot, new Set([release]), 'balancers');
    const group = groupName(app, slot, release);
    const tags = cutoverTags({ app, slot, release, deployment: options.deploymentId });
    const replica = await this.ensureReplica(replicaName(app, slot, release), tags);
    if (replica !== undefined) {
      options.onProgress?.(
        `load balancer ${replica.name} (${replica.type}) replicates ${this.sourceBalancer()}`,
      );
      await this.attach(group, replica);
      awsCrashPoint();
    }
    if (this.replicate.group !== undefined) {
      const copied = await copyScalingPolicies(
        this.asg,
        this.cloudwatch,
        this.replicate.group,
        group,
        replica?.renames ?? new Map(),
        tags,
      );
      options.onProgress?.(
        `${copied.policies} scaling policies and ${copied.alarms} alarms of ${this.replicate.group} copied to ${group}`,
      );
    }
    if (replica !== undefined) {
      const ids = instances.map((instance) => instance.id);
      await this.waitUntilServed(replica, ids, options.signal);
    }
    // A stack stopped earlier (and now provisioned again) scales on its alarms again.
    await awsStep(`ResumeProcesses(${group})`, this.asg, (abortSignal) =>
      this.asg.send(new ResumeProcessesCommand(resumeAlarmScalingCall(group).input), { abortSignal }),
    );
    this.deps.logger.info('aws-asg.stack-provisioned', { slot, release, group, loadBalancer: replica?.id });
    return withBalancer(instances, replica);
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return this.groups.healthTargets(instances);
  }

  endpoint(slot: Slot, instances: readonly Instance[]): SlotEndpoint | undefined {
    if (this.replicate.loadBalancer === undefined) return this.groups.endpoint?.(slot, instances);
    const meta = instances.find(
      (instance) => instance.slot === slot && typeof instance.meta.loadBalancer === 'string',
    )?.meta;
    if (meta === undefined) return undefined;
    return withBalancerEndpoint(
      this.config.region,
      String(meta.loadBalancer),
      String(meta.dnsName),
      String(meta.canonicalHostedZoneId),
      String(meta.balancerType),
    );
  }

  async running(slot: Slot): Promise<Instance[]> {
    return this.withReplicas(await this.groups.running(slot));
  }

  logs(slot: Slot, options?: { tail?: number }): Promise<LogLine[]> {
    return this.groups.logs(slot, options);
  }

  /**
   * The group goes to min 0 / desired 0; group, load balancer, policies and alarms stay for a
   * later provision. Alarm-driven scaling is suspended first, so a copied policy cannot scale
   * the stopped group back up (a provision of the slot resumes it).
   */
  async stop(slot: Slot, options: StopOptions): Promise<void> {
    for (const group of await groupsOf(this.asg, this.deps.app, slot)) {
      if (group.deleting) continue;
      await awsStep(`SuspendProcesses(${group.name})`, this.asg, (abortSignal) =>
        this.asg.send(new SuspendProcessesCommand(suspendAlarmScalingCall(group.name).input), {
          abortSignal,
        }),
      );
    }
    await this.groups.stop(slot, options);
  }

  async destroy(slot: Slot): Promise<void> {
    await this.removeStacks(slot, new Set(), 'copies');
    await this.groups.destroy(slot);
    await this.removeStacks(slot, new Set(), 'balancers');
  }

  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    const result = await this.groups.reconcile(keep);
    for (const slot of SLOTS) {
      // What a crash left of a stack whose group is gone (or never came) goes too.
      const releases = new Set((await groupsOf(this.asg, this.deps.app, slot)).map((group) => group.release));
      await this.removeStacks(slot, releases, 'copies');
      await this.removeStacks(slot, releases, 'balancers');
      result[slot] = await this.withReplicas(result[slot]);
    }
    return result;
  }

  async close(): Promise<void> {
    for (const client of [this.asg, this.elb, this.elbv2, this.cloudwatch, this.ec2]) client.destroy();
    await this.groups.close();
  }

  private sourceBalancer(): string {
    const source = this.replicate.loadBalancer;
    if (source === undefined) return '';
    return 'classic' in source ? source.classic : source.application;
  }

  private async ensureReplica(
    name: string,
    tags: { Key: string; Value: string }[],
  ): Promise<BalancerReplica | undefined> {
    const source = this.replicate.loadBalancer;
    if (source === undefined) return undefined;
    return 'classic' in source
      ? ensureClassicReplica(this.elb, source.classic, name, tags, this.deps.app)
      : ensureApplicationReplica(this.elbv2, source.application, name, tags, this.deps.app);
  }

  private async findReplica(name: string): Promise<BalancerReplica | undefined> {
    const source = this.replicate.loadBalancer;
    if (source === undefined) return undefined;
    return 'classic' in source
      ? findClassicReplica(this.elb, name, source.classic)
      : findApplicationReplica(this.elbv2, name);
  }

  /** Attaching what is attached already changes nothing, so a rerun repeats it safely. */
  private async attach(group: string, replica: BalancerReplica): Promise<void> {
    if (replica.type === 'classic') {
      await awsStep(`AttachLoadBalancers(${group})`, this.asg, (abortSignal) =>
        this.asg.send(
          new AttachLoadBalancersCommand({
            AutoScalingGroupName: group,
            LoadBalancerNames: [...replica.loadBalancerNames],
          }),
          { abortSignal },
        ),
      );
    } else {
      await awsStep(`AttachLoadBalancerTargetGroups(${group})`, this.asg, (abortSignal) =>
        this.asg.send(
          new AttachLoadBalancerTargetGroupsCommand({
            AutoScalingGroupName: group,
            TargetGroupARNs: [...replica.targetGroupArns],
          }),
          { abortSignal },
        ),
      );
    }
  }

  /** Until the slot's load balancer counts every instance of the group in service, or readyTimeout. */
  private async waitUntilServed(
    replica: BalancerReplica,
    ids: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const giveUpAt = Date.now() + this.config.readyTimeout;
    for (;;) {
      const served =
        replica.type === 'classic'
          ? await classicInService(this.elb, replica.name, ids)
          : await applicationInService(this.elbv2, replica.targetGroupArns[0]!, ids);
      if (served.length >= ids.length) return;
      if (Date.now() >= giveUpAt) {
        throw new CutoverError(
          'CUTOVER_E_PROVISION',
          `load balancer ${replica.name}: ${served.length}/${ids.length} instances in service after ${formatDuration(this.config.readyTimeout)}`,
          { details: { loadBalancer: replica.id, served: served.length, instances: ids.length } },
        );
      }
      try {
        await sleep(this.config.pollInterval, undefined, { signal });
      } catch {
        throw new CutoverError('CUTOVER_E_ABORTED', `stopped waiting for load balancer ${replica.name}`);
      }
    }
  }

  /**
   * Deletes what cutover made for the slot for releases not in `keep`: `copies` — copied alarms
   * (checked by tag) and the policies of cutover's groups; `balancers` — load balancers and
   * target groups tagged as cutover's for the app and slot.
   */
  private async removeStacks(
    slot: Slot,
    keep: ReadonlySet<string>,
    what: 'copies' | 'balancers',
  ): Promise<void> {
    const { app } = this.deps;
    if (what === 'copies') {
      await deleteCopiedAlarms(this.cloudwatch, groupName(app, slot, ''), app, slot, keep);
      for (const group of await groupsOf(this.asg, app, slot)) {
        if (!keep.has(group.release)) await deleteScalingPolicies(this.asg, group.name);
      }
      return;
    }
    if (this.replicate.loadBalancer === undefined) return;
    const replicas: TaggedReplica[] =
      'classic' in this.replicate.loadBalancer
        ? await classicReplicasOf(this.elb, app, slot)
        : await applicationReplicasOf(this.elbv2, app, slot);
    for (const replica of replicas) {
      if (keep.has(replica.release)) continue;
      for (const part of replica.resources) {
        if (part.kind === 'classic') await deleteClassic(this.elb, part.id);
        else await deleteApplicationPart(this.elbv2, part);
      }
      this.deps.logger.info('aws-asg.load-balancer-deleted', { slot, loadBalancer: replica.name });
    }
  }

  /** The instances with their slot's load balancer in `meta` (endpoint() reads it from there). */
  private async withReplicas(instances: readonly Instance[]): Promise<Instance[]> {
    if (this.replicate.loadBalancer === undefined) return [...instances];
    const replicas = new Map<string, BalancerReplica | undefined>();
    for (const instance of instances) {
      const key = `${instance.slot}\n${instance.release}`;
      if (!replicas.has(key)) {
        replicas.set(
          key,
          await this.findReplica(replicaName(this.deps.app, instance.slot, instance.release)),
        );
      }
    }
    return instances.map(
      (instance) => withBalancer([instance], replicas.get(`${instance.slot}\n${instance.release}`))[0]!,
    );
  }
}

function withBalancer(instances: readonly Instance[], replica: BalancerReplica | undefined): Instance[] {
  if (replica === undefined) return [...instances];
  return instances.map((instance) => ({
    ...instance,
    meta: {
      ...instance.meta,
      loadBalancer: replica.id,
      dnsName: replica.dnsName,
      canonicalHostedZoneId: replica.canonicalHostedZoneId,
      balancerType: replica.type,
    },
  }));
}

/** The endpoint of a slot whose stack has its own load balancer: what a DNS router names. */
function withBalancerEndpoint(
  region: string,
  id: string,
  dnsName: string,
  canonicalHostedZoneId: string,
  type: string,
): SlotEndpoint {
  return {
    kind: AWS_LOAD_BALANCER_ENDPOINT_KIND,
    id,
    details: { region, dnsName, canonicalHostedZoneId, type },
  };
}
