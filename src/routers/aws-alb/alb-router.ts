/**
 * The aws-alb Router: an ALB listener's default action (or one rule) forwards to two target
 * groups by weight, one target group per slot, and each slot's Auto Scaling group is attached
 * to its own target group. A move is one ModifyListener / ModifyRule (atomic, weighted); the
 * groups stay attached across moves, so the old slot stays warm behind a weight of 0.
 *
 * - prepare() attaches each slot's group to its target group and waits until its instances
 *   are healthy there; a group left over from an earlier release on a slot with no weight is
 *   detached. A group attached already is not waited for (an abort must not wait on the slot
 *   it moves away from).
 * - setWeights() first waits until every slot that gets weight serves (invariant 1), then
 *   writes the forward action, with target group stickiness during a shift.
 * - verify() reads the action back, its stickiness, and the health of each weighted slot.
 * - drain() waits the old target group's deregistration delay after its weight went to 0.
 * - cleanup() detaches the retired slot's group from its target group.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeGroup } from '../../aws/auto-scaling-groups.js';
import type { BalancerAttachment } from '../../aws/balancer-attachment.js';
import { groupServing } from '../../aws/group-serving.js';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { PlannedStep } from '../../shared/plan.js';
import type {
  DrainOptions,
  PlannedMove,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../shared/router.js';
import {
  SLOTS,
  weightsAllOn,
  type Slot,
  type SlotEndpoints,
  type SlotTargets,
  type Weights,
} from '../../shared/slot.js';
import { newAlbPlanState, planAlbCleanup, planAlbDrain, planAlbMove } from './alb-plan.js';
import { AWS_ALB_CAPABILITIES } from './capabilities.js';
import {
  forwardAction,
  readForward,
  sameForward,
  stickinessFor,
  withForward,
  type ForwardReading,
} from './forward-weights.js';
import { describeListener, type ForwardSite } from './forward-site.js';
import { deletePreviewRuleOf, PREVIEW_TOKEN_MAX, upsertPreviewRule } from './preview-rule.js';
import { describeLoadBalancerDns } from './load-balancer-dns.js';

/** What open() connects. */
export interface AlbConnection {
  readonly autoScaling: AutoScalingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly site: ForwardSite;
  readonly targetGroups: Readonly<Record<Slot, string>>;
  /** Each slot's target group as a balancer its group attaches to. */
  readonly attachments: Readonly<Record<Slot, BalancerAttachment>>;
  close(): void;
}

export interface AlbRouterOptions {
  readonly region: string;
  readonly settleTimeoutMs: number;
  readonly stickySeconds: number | undefined;
  readonly preview: { readonly header: string; readonly token: string; readonly priority: number };
  readonly logger: Logger;
  connect(): Promise<AlbConnection>;
  /** First poll interval while waiting for health (tests shorten it). */
  readonly firstPollMs?: number;
}

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5_000;

export class AlbRouter implements Router {
  private connection: AlbConnection | undefined;
  private groups: Partial<Record<Slot, string>> = {};
  /** When this process set each slot's weight to 0, for drain(). */
  private readonly zeroedAt = new Map<Slot, number>();
  /** What the moves planned so far did (a plan's moves are asked in order). */
  private planned = newAlbPlanState();

  constructor(private readonly options: AlbRouterOptions) {}

  describe(): RouterDescription {
    return { kind: 'aws-alb', capabilities: AWS_ALB_CAPABILITIES };
  }

  async open(): Promise<void> {
    if (this.connection !== undefined) return;
    this.connection = await this.options.connect();
    this.planned = newAlbPlanState();
  }

  /** What prepare() and setWeights() would send for this move (alb-plan.ts). */
  planMove(move: PlannedMove): Promise<PlannedStep[]> {
    return planAlbMove(this.connected(), this.planned, move, this.options);
  }

  planDrain(slot: Slot, options: { deadlineMs: number }): Promise<PlannedStep[]> {
    return planAlbDrain(this.connected(), slot, options.deadlineMs);
  }

  planCleanup(slot: Slot): Promise<PlannedStep[]> {
    return planAlbCleanup(this.connected(), this.planned, slot);
  }

  close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    return Promise.resolve();
  }

  async prepare(targets: SlotTargets, endpoints: SlotEndpoints = {}): Promise<void> {
    const c = this.connected();
    const groups: Partial<Record<Slot, string>> = {};
    for (const slot of SLOTS) {
      const endpoint = endpoints[slot];
      if (endpoint === undefined) {
        if (targets[slot].length > 0) {
          throw new CutoverError(
            'CUTOVER_E_ROUTER',
            `the aws-alb router routes to Auto Scaling groups (platform aws-asg), not to host:port instances; ${slot} has ${targets[slot].length} instance(s) and no group`,
            { details: { slot } },
          );
        }
        continue;
      }
      const region = endpoint.details?.region;
      if (region !== undefined && region !== this.options.region) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `${slot}'s group ${endpoint.id} is in ${region}, but the aws-alb router works in ${this.options.region}`,
          { details: { slot, group: endpoint.id, region } },
        );
      }
      if ((await describeGroup(c.autoScaling, endpoint.id)) === undefined) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `${slot}'s Auto Scaling group ${endpoint.id} does not exist`,
          {
            details: { slot, group: endpoint.id },
          },
        );
      }
      groups[slot] = endpoint.id;
    }
    const reading = await this.readForward();
    for (const slot of SLOTS) {
      const group = groups[slot];
      if (group === undefined) continue;
      await this.attachGroup(slot, group, (reading?.weights?.[slot] ?? 0) === 0);
    }
    this.groups = groups;
  }

  async preview(slot: Slot): Promise<PreviewRoute> {
    const c = this.connected();
    const { header, token, priority } = this.options.preview;
    if (token.length > PREVIEW_TOKEN_MAX) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `an ALB header condition holds at most ${PREVIEW_TOKEN_MAX} characters and the preview token is longer; set a shorter CUTOVER_PREVIEW_TOKEN`,
      );
    }
    const ahead = await c.site.priority();
    if (ahead !== undefined && ahead <= priority) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `the preview rule (previewPriority ${priority}) must come before ${c.site.label} (priority ${ahead}); set previewPriority below ${ahead}`,
        { details: { previewPriority: priority, rulePriority: ahead } },
      );
    }
    await upsertPreviewRule(
      c.elbv2,
      { listenerArn: c.site.listenerArn, header, token, priority },
      c.targetGroups[slot],
    );
    this.options.logger.info('router.aws-alb.preview', { slot, targetGroup: c.targetGroups[slot] });
    const listener = await describeListener(c.elbv2, c.site.listenerArn);
    const dns = await describeLoadBalancerDns(c.elbv2, listener.LoadBalancerArn ?? '');
    const scheme = listener.Protocol === 'HTTPS' ? 'https' : 'http';
    return { slot, url: `${scheme}://${dns}:${listener.Port ?? 80}/`, headers: { [header]: token } };
  }

  async setWeights(weights: Weights): Promise<void> {
    const c = this.connected();
    const weighted = SLOTS.filter((slot) => weights[slot] > 0);
    if (weighted.every((slot) => this.groups[slot] === undefined)) {
      // Only reachable where the guard allows it: the baseline before the first deploy, with
      // nothing running. The listener keeps whatever it does until there is a group to route to.
      this.options.logger.info('router.aws-alb.nothing-to-route', { weights });
      return;
    }
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (const slot of weighted) await this.waitUntilServing(slot, deadline);
    const before = await this.readForward();
    if (!sameForward(before, weights, this.options.stickySeconds)) {
      const actions = withForward(
        await c.site.actions(),
        forwardAction(c.targetGroups, weights, this.options.stickySeconds),
      );
      this.options.logger.info('router.aws-alb.forward', {
        at: c.site.label,
        weights,
        stickiness: stickinessFor(weights, this.options.stickySeconds).Enabled === true,
      });
      await c.site.replaceActions(actions);
    }
    for (const slot of SLOTS) {
      if (weights[slot] > 0) this.zeroedAt.delete(slot);
      else if (!this.zeroedAt.has(slot)) this.zeroedAt.set(slot, Date.now());
    }
  }

  async verify(): Promise<RouterObservation> {
    const c = this.connected();
    const reading = await this.readForward();
    const known = SLOTS.filter((slot) => this.groups[slot] !== undefined);
    if (reading?.weights === undefined) {
      // Before the first deploy the listener is not cutover's yet: nothing runs, blue is the baseline.
      if (known.length === 0) return { kind: 'observed', weights: weightsAllOn('blue') };
      return { kind: 'converging', seen: `${c.site.label} does not forward to either slot's target group` };
    }
    const weights = reading.weights;
    if (reading.foreign.length > 0) {
      return {
        kind: 'converging',
        seen: `${c.site.label} also forwards to ${reading.foreign.join(', ')}`,
        weights,
      };
    }
    const wanted = stickinessFor(weights, this.options.stickySeconds);
    const wantedSeconds = wanted.Enabled === true ? wanted.DurationSeconds : undefined;
    if (reading.stickySeconds !== wantedSeconds) {
      return {
        kind: 'converging',
        seen: `${c.site.label} has stickiness ${describeStickiness(reading.stickySeconds)}, not ${describeStickiness(wantedSeconds)}`,
        weights,
      };
    }
    for (const slot of SLOTS) {
      const group = this.groups[slot];
      if (weights[slot] === 0 || group === undefined) continue;
      const seen = await this.serving(slot, group);
      if (seen !== undefined) return { kind: 'converging', seen, weights };
    }
    return { kind: 'observed', weights };
  }

  async drain(slot: Slot, options: DrainOptions): Promise<void> {
    const c = this.connected();
    const reading = await this.readForward();
    const share = reading?.weights?.[slot] ?? 0;
    if (share > 0) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot drain ${slot}: ${c.site.label} still sends it ${share}% of new requests`,
        { details: { slot, weight: share } },
      );
    }
    // In-flight requests of a target group with no weight finish within its deregistration
    // delay; wait it out from when this process took the weight away (from now if another did).
    const delay = await c.attachments[slot].drainTimeoutMs();
    const drainedAt = (this.zeroedAt.get(slot) ?? Date.now()) + delay;
    const wait = Math.min(drainedAt, options.deadline.getTime()) - Date.now();
    this.options.logger.info('router.aws-alb.draining', { slot, waitMs: Math.max(0, wait) });
    if (wait > 0) await pause(wait);
  }

  async drainStatus(_slot: Slot): Promise<DrainStatus> {
    await Promise.resolve();
    return {
      kind: 'unknown',
      reason:
        'an ALB does not report in-flight requests per target group; drain() waits the target group’s deregistration delay',
    };
  }

  async cleanup(slot: Slot): Promise<void> {
    const c = this.connected();
    const reading = await this.readForward();
    const share = reading?.weights?.[slot] ?? 0;
    if (share > 0) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot clean up ${slot}: ${c.site.label} still sends it ${share}% of new requests`,
        { details: { slot, weight: share } },
      );
    }
    const attachment = c.attachments[slot];
    for (const group of await attachment.attachedGroups()) {
      this.options.logger.info('router.aws-alb.detach', { slot, group: group.name });
      await attachment.detach(group.name);
    }
    const { header } = this.options.preview;
    if (await deletePreviewRuleOf(c.elbv2, c.site.listenerArn, header, c.targetGroups[slot])) {
      this.options.logger.info('router.aws-alb.preview-removed', { slot });
    }
    const { [slot]: _forgotten, ...rest } = this.groups;
    this.groups = rest;
  }

  private async readForward(): Promise<ForwardReading | undefined> {
    const c = this.connected();
    return readForward(await c.site.actions(), c.targetGroups);
  }

  /**
   * Attaches `group` to its slot's target group and waits until it serves there. Another group
   * on that target group (an earlier release's) is detached when the slot has no weight.
   */
  private async attachGroup(slot: Slot, group: string, idle: boolean): Promise<void> {
    const c = this.connected();
    const attachment = c.attachments[slot];
    const facts = await describeGroup(c.autoScaling, group);
    if (facts === undefined) return;
    if (!facts.targetGroupArns.includes(c.targetGroups[slot])) {
      this.options.logger.info('router.aws-alb.attach', { slot, group });
      await attachment.attach(group);
      // A new group on an idle slot: an earlier release's group there must not get its weight.
      if (idle) {
        for (const other of await attachment.attachedGroups()) {
          if (other.name === group) continue;
          this.options.logger.info('router.aws-alb.detach', { slot, group: other.name });
          await attachment.detach(other.name);
        }
      }
      // A group that joins waits until it serves there. Only then: a group already attached is
      // not waited for, so a move away from a slot that went unhealthy (an abort) is never held
      // up by it. A stopped group (no capacity) has nothing to wait for; setWeights refuses
      // weight on it.
      if (facts.desiredCapacity > 0) {
        await this.waitUntilServing(slot, Date.now() + this.options.settleTimeoutMs, group);
      }
    }
  }

  private async waitUntilServing(slot: Slot, deadline: number, group = this.groups[slot]): Promise<void> {
    if (group === undefined) return;
    let delay = this.options.firstPollMs ?? FIRST_POLL_MS;
    for (;;) {
      const seen = await this.serving(slot, group);
      if (seen === undefined) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `the instances of ${group} did not become healthy at ${this.connected().attachments[slot].label} before the deadline: ${seen}`,
          { details: { slot, group, seen } },
        );
      }
      this.options.logger.info('router.aws-alb.waiting', { slot, group, seen });
      await pause(Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }

  /** undefined when `group` serves at its slot's target group; otherwise what AWS shows. */
  private async serving(slot: Slot, group: string): Promise<string | undefined> {
    const c = this.connected();
    const attachment = c.attachments[slot];
    const facts = await describeGroup(c.autoScaling, group);
    if (facts === undefined) return `Auto Scaling group ${group} does not exist`;
    if (!facts.targetGroupArns.includes(c.targetGroups[slot])) {
      return `group ${group} is not attached to ${attachment.label}`;
    }
    const verdict = groupServing(facts, await attachment.instanceHealth(), attachment.label);
    return verdict.serving ? undefined : verdict.seen;
  }

  private connected(): AlbConnection {
    if (this.connection === undefined)
      throw new CutoverError('CUTOVER_E_ROUTER', 'the aws-alb router is not open');
    return this.connection;
  }
}

function describeStickiness(seconds: number | undefined): string {
  return seconds === undefined ? 'off' : `${seconds}s`;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
