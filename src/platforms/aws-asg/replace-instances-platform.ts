/**
 * Mode `replace-instances`: one long-lived production group behind its load balancer. A slot
 * is the set of the group's instances tagged with it. provision() launches the release's
 * instances from the group's launch template, bakes an image from one (NoReboot), attaches them
 * to the group, proves them InService at its balancers, makes a launch template version with the
 * image the default, and parks them in Standby; the router's switch brings them out of Standby
 * and puts the other slot's into it. stop() — the engine's retirement after the rollback
 * window, or of the failed slot after a rollback — terminates the slot's instances and puts the
 * default version and MaxSize back. Every call comes from replace-steps.ts.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsClientConfig } from '../../aws/connection.js';
// The endpoint detail that tells the aws-elb / aws-target-group routers a slot is a set of instances.
import { TAGGED_INSTANCES } from '../../aws/group-endpoint.js';
import { CutoverError } from '../../shared/errors.js';
import type { PlannedStep, ProvisionPlan } from '../../shared/plan.js';
import type { Logger } from '../../shared/logger.js';
import type {
  Instance,
  LogLine,
  Platform,
  PlatformDescription,
  ProvisionOptions,
  StopOptions,
} from '../../shared/platform.js';
import { SLOTS, otherSlot, type Slot, type SlotEndpoint, type Target } from '../../shared/slot.js';
import type { AwsAsgPlatformConfig } from './config.js';
import { consoleLines } from './console-output.js';
import { groupName } from './group-naming.js';
import { isAlive, observeReplaceState, type ReplaceClients, type ReplaceState } from './replace-state.js';
import { provisionSteps, retireSteps, type ProvisionTarget, type ReplaceStep } from './replace-steps.js';
import { plannedLeftoverDeregisters, plannedReplaceSteps, simulateRun } from './replace-plan.js';
import { runSteps } from './replace-runner.js';

const LOG_TAIL_DEFAULT = 100;
/** The condition of the recovery's calls in a plan: a running server made them at its start. */
const RECOVERY_RETIRES =
  "made by a one-shot deploy's recovery, which retires the idle slot's leftovers (a running server did at its start)";

export interface ReplaceInstancesDeps {
  readonly app: string;
  readonly logger: Logger;
  readonly endpointKind: string;
}

export class ReplaceInstancesPlatform implements Platform {
  private readonly clients: ReplaceClients;
  private readonly group: string;

  constructor(
    private readonly config: AwsAsgPlatformConfig,
    private readonly deps: ReplaceInstancesDeps,
  ) {
    const client = awsClientConfig(config);
    this.clients = {
      asg: new AutoScalingClient(client),
      ec2: new EC2Client(client),
      elb: new ElasticLoadBalancingClient(client),
      elbv2: new ElasticLoadBalancingV2Client(client),
    };
    if (config.group === undefined) {
      throw new CutoverError('CUTOVER_E_CONFIG', 'platform.group is required in mode replace-instances');
    }
    this.group = config.group;
  }

  describe(): PlatformDescription {
    return { kind: 'aws-asg', endpointKind: this.deps.endpointKind, stopGraceMs: this.config.stopGrace };
  }

  /** The group exists and launches from its template's default version (what a new default changes). */
  async checkRelease(): Promise<void> {
    const state = await this.observe();
    if (state.group.templateVersion !== '$Default') {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `Auto Scaling group ${this.group} launches from version ${state.group.templateVersion} of its launch template; mode replace-instances needs "$Default" (it makes each release's version the default)`,
        { details: { group: this.group, version: state.group.templateVersion } },
      );
    }
  }

  /** The calls provision() would make next, from what AWS holds now (for a plan). */
  async provisionPlan(slot: Slot, release: string, deploymentId?: string): Promise<ReplaceStep[]> {
    return provisionSteps(await this.observe(), this.target(slot, release, deploymentId));
  }

  /** `cutover deploy --plan`: provisionPlan's steps, with placeholders for what AWS hands out later. */
  async planProvision(
    slot: Slot,
    release: string,
    options: { deploymentId?: string } = {},
  ): Promise<ProvisionPlan> {
    await this.checkRelease();
    const state = await this.observe();
    const deployment = options.deploymentId ?? '<id of this deployment>';
    // A one-shot deploy's recovery first retires what is idle in the slot it will provision
    // (the engine does not keep it): reconcile()'s calls, then provision's from the state after.
    const { calls: reconcile, after } = simulateRun(state, (now) =>
      retireSteps(now, this.deps.app, slot, { idleOnly: true }),
    );
    const steps = provisionSteps(after, this.target(slot, release, deployment));
    const planned = (list: ReplaceStep[], from: ReplaceState) =>
      plannedReplaceSteps(list, from, {
        deadlineMs: this.config.readyTimeout,
        deploymentKnown: options.deploymentId !== undefined,
      });
    return {
      steps: [
        ...planned(reconcile, state).map((step) =>
          step.kind === 'call' ? { ...step, condition: step.condition ?? RECOVERY_RETIRES } : step,
        ),
        ...(reconcile.length > 0 ? plannedLeftoverDeregisters(state, slot) : []),
        ...planned(steps, after),
      ],
      endpoint: this.slotEndpoint(slot),
    };
  }

  /** What stop(slot) would send now: the retirement's step list. */
  async planStop(slot: Slot, _options: StopOptions): Promise<PlannedStep[]> {
    const state = await this.observe();
    const { calls: steps } = simulateRun(state, (now) => retireSteps(now, this.deps.app, slot));
    return [
      ...plannedReplaceSteps(steps, state, { deadlineMs: this.config.readyTimeout, deploymentKnown: true }),
      ...(steps.length > 0 ? plannedLeftoverDeregisters(state, slot) : []),
    ];
  }

  async provision(slot: Slot, release: string, options: ProvisionOptions = {}): Promise<Instance[]> {
    await this.checkRelease();
    const target = this.target(slot, release, options.deploymentId);
    const state = await runSteps(
      this.clients,
      () => this.observe(),
      (now) => provisionSteps(now, target),
      {
        deadlineMs: this.config.readyTimeout,
        pollIntervalMs: this.config.pollInterval,
        signal: options.signal,
        onCall: (step) => {
          this.deps.logger.info('aws-asg.call', { call: step.call, why: step.why });
          options.onProgress?.(`${step.call}: ${step.why}`);
        },
      },
    );
    const instances = this.instancesOf(state, slot);
    this.deps.logger.info('aws-asg.provisioned', {
      slot,
      release,
      group: this.group,
      instances: instances.length,
    });
    return instances;
  }

  healthTargets(instances: readonly Instance[]): Target[] {
    return instances.map(({ id, host, port }) => ({ id, host, port }));
  }

  endpoint(slot: Slot, instances: readonly Instance[]): SlotEndpoint | undefined {
    if (!instances.some((instance) => instance.slot === slot)) return undefined;
    return this.slotEndpoint(slot);
  }

  private slotEndpoint(slot: Slot): SlotEndpoint {
    return {
      kind: this.deps.endpointKind,
      id: this.group,
      details: { region: this.config.region, members: TAGGED_INSTANCES, app: this.deps.app, slot },
    };
  }

  async running(slot: Slot): Promise<Instance[]> {
    return this.instancesOf(await this.observe(), slot);
  }

  async logs(slot: Slot, options: { tail?: number } = {}): Promise<LogLine[]> {
    const tail = options.tail ?? LOG_TAIL_DEFAULT;
    const lines: LogLine[] = [];
    for (const instance of await this.running(slot)) {
      lines.push(...(await consoleLines(this.clients.ec2, instance.id, tail)));
    }
    return lines;
  }

  /**
   * Terminates the slot's instances (EC2 shuts each down politely) and restores the default
   * version and MaxSize. Refused while the slot's instances are the only ones in service: the
   * engine retires a slot only after traffic left it, and this keeps it that way.
   */
  async stop(slot: Slot, _options: StopOptions): Promise<void> {
    const state = await this.observe();
    const inService = state.instances.filter(
      (instance) => isAlive(instance) && instance.lifecycle === 'InService',
    );
    const mine = inService.filter((instance) => instance.app === this.deps.app && instance.slot === slot);
    if (mine.length > 0 && mine.length === inService.length) {
      throw new CutoverError(
        'CUTOVER_E_SLOT_LIVE',
        `${slot}'s instances are the only ones in service in ${this.group}; they are not terminated`,
        { details: { slot, group: this.group, instances: mine.map((instance) => instance.id) } },
      );
    }
    await this.retire(slot, false);
  }

  async destroy(slot: Slot): Promise<void> {
    await this.stop(slot, { graceMs: this.config.stopGrace });
  }

  /**
   * After a restart: a slot the engine does not keep loses its idle instances (Standby, or never
   * attached: a provision cut short). Instances in service stay: they may be taking requests,
   * and a resumed deployment, a rollback or the next retirement decides about them.
   */
  async reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>> {
    for (const slot of SLOTS) if (!keep.has(slot)) await this.retire(slot, true);
    const state = await this.observe();
    return { blue: this.instancesOf(state, 'blue'), green: this.instancesOf(state, 'green') };
  }

  close(): Promise<void> {
    for (const client of Object.values(this.clients)) (client as { destroy(): void }).destroy();
    return Promise.resolve();
  }

  private async retire(slot: Slot, idleOnly: boolean): Promise<void> {
    await runSteps(
      this.clients,
      () => this.observe(),
      (now) => retireSteps(now, this.deps.app, slot, { idleOnly }),
      {
        deadlineMs: this.config.readyTimeout,
        pollIntervalMs: this.config.pollInterval,
        onCall: (step) => this.deps.logger.info('aws-asg.call', { call: step.call, why: step.why }),
      },
    );
    this.deps.logger.info('aws-asg.retired', { slot, group: this.group, other: otherSlot(slot) });
  }

  private observe(): Promise<ReplaceState> {
    return observeReplaceState(this.clients, this.deps.app, this.group);
  }

  private target(slot: Slot, release: string, deploymentId: string | undefined): ProvisionTarget {
    const userData = this.config.userData?.replace(/\$\{RELEASE\}/g, release).replace(/\$\{SLOT\}/g, slot);
    return {
      app: this.deps.app,
      slot,
      release,
      deployment: deploymentId,
      userData,
      // Image names are unique per account and region: the app and the release make it so.
      imageName: groupName(this.deps.app, slot, release).replace(`-${slot}-`, '-'),
      keepImages: this.config.keepImages,
      fallbackCount: this.config.instances,
    };
  }

  /** The slot's instances that are members of the group (InService or warm in Standby). */
  private instancesOf(state: ReplaceState, slot: Slot): Instance[] {
    return state.instances
      .filter(
        (instance) =>
          isAlive(instance) &&
          instance.app === this.deps.app &&
          instance.slot === slot &&
          (instance.lifecycle === 'InService' || instance.lifecycle === 'Standby'),
      )
      .map((instance, index) => ({
        id: instance.id,
        slot,
        release: instance.release ?? '',
        index,
        host: instance.privateIp,
        port: this.config.port,
        meta: {
          group: this.group,
          instanceId: instance.id,
          image: instance.imageId,
          lifecycle: instance.lifecycle ?? '',
        },
      }));
  }
}
