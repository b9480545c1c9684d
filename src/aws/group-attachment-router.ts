/**
 * A Router whose slots are Auto Scaling groups behind one long-lived balancer (a Classic ELB or
 * a target group): a move attaches the new live group, waits until it serves, detaches the
 * others (group-switch.ts); verify() reads back which groups are attached and how healthy their
 * instances are. The aws-elb and aws-target-group router folders give it their balancer.
 *
 * Not atomic (an attachment is not one instant: for a moment both groups serve) and not
 * weighted (a balancer spreads requests per instance, not per group). No preview (a
 * balancer has no idle-only route) and no in-flight count (AWS does not report one per
 * instance); drain() waits for the balancer's own drain (deregistration delay, connection
 * draining) instead.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { formatDuration } from '../shared/duration.js';
import { CutoverError } from '../shared/errors.js';
import type { PlannedStep } from '../shared/plan.js';
import type { Logger } from '../shared/logger.js';
import type {
  DrainOptions,
  PlannedMove,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterCapabilities,
  RouterDescription,
  RouterObservation,
} from '../shared/router.js';
import {
  SLOTS,
  otherSlot,
  weightsAllOn,
  type Slot,
  type SlotEndpoint,
  type SlotEndpoints,
  type SlotTargets,
  type Weights,
} from '../shared/slot.js';
import { describeGroup, type GroupFacts } from './auto-scaling-groups.js';
import type { BalancerAttachment } from './balancer-attachment.js';
import { TAGGED_INSTANCES } from './group-endpoint.js';
import { groupServing } from './group-serving.js';
import { planSwitchToGroup, switchToGroup, type SwitchStep } from './group-switch.js';
import {
  deregisterStandby,
  planSwitchToInstanceSet,
  slotMembers,
  slotServing,
  switchToInstanceSet,
  type InstanceSet,
} from './instance-set-switch.js';

/** What open() connects: the balancer and the Auto Scaling client; close() lets both go. */
export interface BalancerConnection {
  readonly balancer: BalancerAttachment;
  readonly autoScaling: AutoScalingClient;
  /** Reads instance tags when both slots share one group (aws-asg mode replace-instances). */
  readonly ec2: EC2Client;
  /**
   * Whether the balancer itself reports deregistered instances as draining until their drain
   * ends (a target group does); if not (a Classic ELB), drain() waits the drain timeout.
   */
  readonly reportsDraining: boolean;
  close(): void;
}

export interface GroupAttachmentRouterOptions {
  readonly kind: string;
  readonly capabilities: RouterCapabilities;
  readonly region: string;
  /** How long a move may wait for the new group to serve (the router's settleTimeout). */
  readonly settleTimeoutMs: number;
  readonly logger: Logger;
  connect(): Promise<BalancerConnection>;
  /** Poll interval while waiting for health and drains (tests shorten it). */
  readonly firstPollMs?: number;
}

const DRAIN_POLL_MS = 1_000;

export class GroupAttachmentRouter implements Router {
  private connection: BalancerConnection | undefined;
  private groups: Partial<Record<Slot, string>> = {};
  /** Set when the slots are sets of instances of one group (endpoint detail `members`). */
  private instanceSet: InstanceSet | undefined;
  /** When this process detached each slot's group, for balancers that do not report draining. */
  private readonly detachedAt = new Map<string, number>();

  constructor(private readonly options: GroupAttachmentRouterOptions) {}

  describe(): RouterDescription {
    return { kind: this.options.kind, capabilities: this.options.capabilities };
  }

  async open(): Promise<void> {
    if (this.connection !== undefined) return;
    this.connection = await this.options.connect();
  }

  close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    return Promise.resolve();
  }

  async prepare(targets: SlotTargets, endpoints: SlotEndpoints = {}): Promise<void> {
    this.connected();
    const groups: Partial<Record<Slot, string>> = {};
    for (const slot of SLOTS) {
      const endpoint = endpoints[slot];
      if (endpoint === undefined) {
        if (targets[slot].length > 0) {
          throw new CutoverError(
            'CUTOVER_E_ROUTER',
            `the ${this.options.kind} router routes to Auto Scaling groups (platform aws-asg), not to host:port instances; ${slot} has ${targets[slot].length} instance(s) and no group`,
            { details: { slot } },
          );
        }
        continue;
      }
      await this.requireGroup(slot, endpoint);
      groups[slot] = endpoint.id;
      if (endpoint.details?.members === TAGGED_INSTANCES) {
        this.instanceSet = { group: endpoint.id, app: endpoint.details.app ?? '' };
      }
    }
    this.groups = groups;
  }

  /**
   * What setWeights(move.weights) would do once the slots stand behind move.endpoints: the
   * group switch's attach, wait and detaches (group-switch.ts). Every slot's group but the new
   * one must exist now, as prepare() requires; the new one is created by the provision planned
   * before this move.
   */
  async planMove(move: PlannedMove): Promise<PlannedStep[]> {
    const { balancer } = this.connected();
    const live = this.wholeSlot(move.weights);
    for (const slot of SLOTS) {
      const endpoint = move.endpoints[slot];
      if (endpoint !== undefined && slot !== move.to) await this.requireGroup(slot, endpoint);
    }
    const endpoint = move.endpoints[live];
    if (endpoint === undefined) return [{ kind: 'note', text: `${live} has no group: nothing to attach` }];
    if (endpoint.details?.members === TAGGED_INSTANCES) {
      const { autoScaling, ec2 } = this.connected();
      const set = { group: endpoint.id, app: endpoint.details.app ?? '' };
      return planSwitchToInstanceSet(balancer, { autoScaling, ec2 }, set, live, this.options.settleTimeoutMs);
    }
    return planSwitchToGroup(balancer, endpoint.id, this.options.settleTimeoutMs);
  }

  /** What drain(slot) waits for: the balancer's own drain of the slot's group, at most the deadline. */
  async planDrain(
    slot: Slot,
    options: { deadlineMs: number; endpoints: SlotEndpoints },
  ): Promise<PlannedStep[]> {
    const { balancer, reportsDraining } = this.connected();
    const endpoint = options.endpoints[slot];
    if (endpoint === undefined) return [];
    // Slots sharing one group (mode replace-instances): the slot's instances drain, not the group.
    const group = endpoint.details?.members === TAGGED_INSTANCES ? `${slot} in ${endpoint.id}` : endpoint.id;
    const timeoutMs = await balancer.drainTimeoutMs();
    const until = reportsDraining
      ? `no instance of ${group} registered at ${balancer.label} (its deregistration delay: ${formatDuration(timeoutMs)})`
      : `the connection-draining timeout of ${balancer.label} (${formatDuration(timeoutMs)}) has passed since ${group} was detached`;
    return [{ kind: 'wait', until, deadlineMs: Math.min(timeoutMs, options.deadlineMs) }];
  }

  preview(slot: Slot): Promise<PreviewRoute> {
    return Promise.reject(
      new CutoverError(
        'CUTOVER_E_ROUTER',
        `the ${this.options.kind} router has no preview route to ${slot}: a balancer sends every request to every attached group; smoke-test the group's instances directly`,
        { details: { slot } },
      ),
    );
  }

  async setWeights(weights: Weights): Promise<void> {
    const { balancer, autoScaling } = this.connected();
    const live = this.wholeSlot(weights);
    const group = this.groups[live];
    if (group === undefined) {
      // Only reachable where the guard allows it: the live slot keeps its share with nothing
      // running (the engine's baseline before the first deploy). There is no group to attach.
      this.options.logger.info('router.aws.nothing-to-attach', { slot: live });
      return;
    }
    if (this.instanceSet !== undefined) {
      const { ec2 } = this.connected();
      await switchToInstanceSet(
        balancer,
        { autoScaling, ec2 },
        this.instanceSet,
        live,
        {
          deadline: Date.now() + this.options.settleTimeoutMs,
          pollMs: this.options.firstPollMs ?? DRAIN_POLL_MS,
        },
        (step) => this.options.logger.info(`router.aws.${step.step}`, { ...step }),
      );
      return;
    }
    const logStep = (step: SwitchStep): void =>
      this.options.logger.info(`router.aws.${step.step}`, { ...step });
    const outcome = await switchToGroup(
      balancer,
      autoScaling,
      group,
      {
        deadline: Date.now() + this.options.settleTimeoutMs,
        ...(this.options.firstPollMs === undefined ? {} : { firstPollMs: this.options.firstPollMs }),
      },
      logStep,
    );
    for (const detached of outcome.detached) this.detachedAt.set(detached, Date.now());
  }

  async verify(): Promise<RouterObservation> {
    if (this.instanceSet !== undefined) return this.verifyInstanceSet(this.instanceSet);
    const { balancer, autoScaling } = this.connected();
    const attached = await balancer.attachedGroups();
    const known = SLOTS.filter((slot) => this.groups[slot] !== undefined);
    if (known.length === 0) {
      if (attached.length === 0) return { kind: 'observed', weights: weightsAllOn('blue') };
      return {
        kind: 'unverifiable',
        reason: `${balancer.label} has ${names(attached)} attached, and the router was not prepared with the slots' groups, so it cannot tell which slot they are`,
      };
    }
    const slotOf = (group: GroupFacts): Slot | undefined =>
      SLOTS.find((slot) => this.groups[slot] === group.name);
    const onSlots = attached.filter((group) => slotOf(group) !== undefined);
    const foreign = attached.filter((group) => slotOf(group) === undefined);
    const [liveGroup, secondGroup] = onSlots;
    if (liveGroup === undefined) {
      return {
        kind: 'converging',
        seen: `no slot's group is attached to ${balancer.label}${foreign.length > 0 ? ` (attached: ${names(foreign)})` : ''}`,
      };
    }
    if (secondGroup !== undefined) {
      return {
        kind: 'converging',
        seen: `both slots' groups are attached to ${balancer.label}: ${names(onSlots)}`,
      };
    }
    const live = slotOf(liveGroup) as Slot;
    const weights = weightsAllOn(live);
    const health = await balancer.instanceHealth();
    const serving = groupServing(liveGroup, health, balancer.label);
    if (!serving.serving) return { kind: 'converging', seen: serving.seen, weights };
    if (foreign.length > 0) {
      return { kind: 'converging', seen: `also attached to ${balancer.label}: ${names(foreign)}`, weights };
    }
    const stale = await this.stillTakingRequests(otherSlot(live), health, autoScaling);
    if (stale.length > 0) {
      return {
        kind: 'converging',
        seen: `${stale.length} instance(s) of ${this.groups[otherSlot(live)] ?? ''} still registered at ${balancer.label}: ${stale.slice(0, 5).join(', ')}`,
        weights,
      };
    }
    return { kind: 'observed', weights };
  }

  async drain(slot: Slot, options: DrainOptions): Promise<void> {
    const { balancer, autoScaling, reportsDraining } = this.connected();
    const group = this.groups[slot];
    if (group === undefined) return;
    if (this.instanceSet !== undefined) return this.drainInstanceSet(this.instanceSet, slot, options);
    if ((await balancer.attachedGroups()).some((attached) => attached.name === group)) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot drain ${slot}: its group ${group} is still attached to ${balancer.label}`,
        { details: { slot, group } },
      );
    }
    const facts = await describeGroup(autoScaling, group);
    if (facts === undefined) return;
    const deadline = options.deadline.getTime();
    // A balancer that reports draining: wait until none of the group's instances is registered.
    if (reportsDraining) {
      for (;;) {
        const health = await balancer.instanceHealth();
        const left = facts.instanceIds.filter((id) => health.has(id));
        if (left.length === 0 || Date.now() >= deadline) return;
        this.options.logger.info('router.aws.draining', { slot, group, registered: left.length });
        await pause(Math.min(DRAIN_POLL_MS, deadline - Date.now()));
      }
    }
    // One that does not: wait out its drain timeout from when the group was detached (from now
    // when this process did not detach it), and never past the deadline.
    const timeout = await balancer.drainTimeoutMs();
    const drainedAt = (this.detachedAt.get(group) ?? Date.now()) + timeout;
    const wait = Math.min(drainedAt, deadline) - Date.now();
    if (wait > 0) await pause(wait);
  }

  async drainStatus(_slot: Slot): Promise<DrainStatus> {
    await Promise.resolve();
    return {
      kind: 'unknown',
      reason:
        'AWS load balancers do not report in-flight requests per instance; drain() waits for the balancer’s own drain (deregistration delay or connection draining)',
    };
  }

  async cleanup(slot: Slot): Promise<void> {
    const { balancer } = this.connected();
    const group = this.groups[slot];
    if (group === undefined) return;
    if (this.instanceSet !== undefined) {
      // The slots share the group: it stays attached; the slot's Standby instances stay deregistered.
      const { ec2, autoScaling } = this.connected();
      await deregisterStandby(balancer, { autoScaling, ec2 }, this.instanceSet);
      const { [slot]: _gone, ...others } = this.groups;
      this.groups = others;
      return;
    }
    const attached = await balancer.attachedGroups();
    // The guard refuses a cleanup of a live slot; a leftover attachment of the idle one goes.
    if (attached.some((found) => found.name === group) && attached.length > 1) await balancer.detach(group);
    const { [slot]: _forgotten, ...rest } = this.groups;
    this.groups = rest;
  }

  /** Which slot's instances serve: one slot InService and healthy, the other's off the balancer. */
  private async verifyInstanceSet(set: InstanceSet): Promise<RouterObservation> {
    const { balancer, autoScaling, ec2 } = this.connected();
    const members = await slotMembers({ autoScaling, ec2 }, set);
    const inService = SLOTS.filter((slot) =>
      members.some((member) => member.slot === slot && member.lifecycle === 'InService'),
    );
    const [live, second] = inService;
    if (live === undefined) {
      return { kind: 'converging', seen: `no slot's instances are in service in ${set.group}` };
    }
    if (second !== undefined) {
      return { kind: 'converging', seen: `both slots' instances are in service in ${set.group}` };
    }
    const weights = weightsAllOn(live);
    const health = await balancer.instanceHealth();
    const serving = slotServing(members, health, live, balancer.label);
    if (!serving.serving) return { kind: 'converging', seen: serving.seen, weights };
    const stale = members
      .filter((member) => member.slot === otherSlot(live))
      .map((member) => member.id)
      .filter((id) => ['healthy', 'pending'].includes(health.get(id) ?? ''));
    if (stale.length > 0) {
      return {
        kind: 'converging',
        seen: `${stale.length} instance(s) of ${otherSlot(live)} still registered at ${balancer.label}: ${stale.slice(0, 5).join(', ')}`,
        weights,
      };
    }
    return { kind: 'observed', weights };
  }

  /** Until none of the slot's instances is registered (or its drain timeout), never past the deadline. */
  private async drainInstanceSet(set: InstanceSet, slot: Slot, options: DrainOptions): Promise<void> {
    const { balancer, autoScaling, ec2, reportsDraining } = this.connected();
    const ids = (await slotMembers({ autoScaling, ec2 }, set))
      .filter((member) => member.slot === slot)
      .map((member) => member.id);
    const deadline = options.deadline.getTime();
    if (!reportsDraining) {
      const wait = Math.min(Date.now() + (await balancer.drainTimeoutMs()), deadline) - Date.now();
      if (wait > 0) await pause(wait);
      return;
    }
    for (;;) {
      const health = await balancer.instanceHealth();
      const left = ids.filter((id) => health.has(id));
      if (left.length === 0 || Date.now() >= deadline) return;
      await pause(Math.min(DRAIN_POLL_MS, deadline - Date.now()));
    }
  }

  /** Instances of `slot`'s group that the balancer still sends new requests to (not draining). */
  private async stillTakingRequests(
    slot: Slot,
    health: ReadonlyMap<string, string>,
    autoScaling: AutoScalingClient,
  ): Promise<string[]> {
    const group = this.groups[slot];
    if (group === undefined) return [];
    const facts = await describeGroup(autoScaling, group);
    return (facts?.instanceIds ?? []).filter((id) => {
      const state = health.get(id);
      return state === 'healthy' || state === 'pending';
    });
  }

  /** The slot `weights` put all traffic on; this router moves whole groups only. */
  private wholeSlot(weights: Weights): Slot {
    const live = allOnSlot(weights);
    if (live === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `the ${this.options.kind} router moves whole groups only (blue 100 / green 0 or the reverse), not blue ${weights.blue} / green ${weights.green}`,
        { details: { asked: weights } },
      );
    }
    return live;
  }

  /** CUTOVER_E_ROUTER unless `slot`'s group is in the router's region and exists. */
  private async requireGroup(slot: Slot, endpoint: SlotEndpoint): Promise<void> {
    const { autoScaling } = this.connected();
    const region = endpoint.details?.region;
    if (region !== undefined && region !== this.options.region) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `${slot}'s group ${endpoint.id} is in ${region}, but the ${this.options.kind} router works in ${this.options.region}`,
        { details: { slot, group: endpoint.id, region } },
      );
    }
    if ((await describeGroup(autoScaling, endpoint.id)) === undefined) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `${slot}'s Auto Scaling group ${endpoint.id} does not exist`,
        {
          details: { slot, group: endpoint.id },
        },
      );
    }
  }

  private connected(): BalancerConnection {
    if (this.connection === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', `the ${this.options.kind} router is not open`);
    }
    return this.connection;
  }
}

function allOnSlot(weights: Weights): Slot | undefined {
  return SLOTS.find((slot) => weights[slot] === 100);
}

function names(groups: readonly GroupFacts[]): string {
  return groups.map((group) => group.name).join(', ');
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
