/**
 * A Router that moves users between two complete stacks at the front, in DNS: one Route 53
 * record names the live slot's load balancer (`mode: alias`), or one weighted record per slot
 * splits the answers (`mode: weighted`). A move is one change batch (all or nothing), waited for
 * until Route 53 reports it INSYNC under `settleTimeout`; verify() reads the record sets back.
 *
 * DNS is cached: resolvers and clients keep the old answer for its TTL, and some far longer.
 * So drain() holds the old slot serving for TTL + dnsMargin after the move before it returns,
 * and the old stack is scaled in only after that.
 */
import type { Change, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { plannedCall } from '../../aws/planned-call.js';
import { engineCrashPoint } from '../../shared/crash-point.js';
import { formatDuration } from '../../shared/duration.js';
import { asCutoverError, CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isPlaceholder, placeholder, type PlannedStep, type PlannedValue } from '../../shared/plan.js';
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
import { route53Capabilities } from './capabilities.js';
import type { Route53RouterConfig } from './config.js';
import { HostedZoneRecords, type ChangeInfo } from './hosted-zone-records.js';
import { afterChanges, aliasChanges, assertMovable, weightedChanges } from './record-changes.js';
import {
  describeRecord,
  namesTarget,
  setIdentifier,
  slotNamedBy,
  sortRecords,
  type NameRecords,
} from './record-sets.js';
import { isRecordWeight, percentsOf } from './record-weights.js';
import {
  describeTarget,
  normalDnsName,
  recordType,
  slotRecordTarget,
  type RecordTarget,
} from './slot-record-target.js';

export interface Route53RouterOptions {
  readonly config: Route53RouterConfig;
  /** The app's name: weighted records are identified `<app>-<slot>`. */
  readonly app: string;
  readonly logger: Logger;
  connect(): { client: Route53Client; close: () => void };
  /** First poll interval while a change is PENDING (doubles up to POLL_MAX_MS); tests shorten it. */
  readonly firstPollMs?: number;
}

const FIRST_POLL_MS = 250;
const POLL_MAX_MS = 10_000;

interface Connection {
  readonly records: HostedZoneRecords;
  readonly close: () => void;
}

export class Route53Router implements Router {
  private connection: Connection | undefined;
  private targets: Partial<Record<Slot, RecordTarget>> = {};
  /** The last change this process submitted, until it was seen INSYNC. */
  private pendingChange: string | undefined;
  /** When each slot stopped being in the answers (its move was INSYNC), by this process. */
  private readonly leftAnswersAt = new Map<Slot, number>();
  private readonly recordName: string;
  /** The name's record sets as the moves planned so far leave them (a plan asks its moves in order). */
  private plannedSets: ResourceRecordSet[] | undefined;

  constructor(private readonly options: Route53RouterOptions) {
    this.recordName = normalDnsName(options.config.recordName);
  }

  describe(): RouterDescription {
    const { mode } = this.options.config;
    return { kind: 'route53', mode, capabilities: route53Capabilities(mode) };
  }

  async open(): Promise<void> {
    if (this.connection !== undefined) return;
    const { client, close } = this.options.connect();
    const records = new HostedZoneRecords(client, this.options.config.hostedZoneId);
    try {
      const zone = await records.zoneName();
      if (this.recordName !== zone && !this.recordName.endsWith(`.${zone}`)) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `router.recordName ${this.recordName} is not in hosted zone ${records.zoneId} (${zone})`,
          { details: { recordName: this.recordName, zone } },
        );
      }
    } catch (error) {
      close();
      throw error;
    }
    this.connection = { records, close };
    this.plannedSets = undefined;
  }

  /**
   * What setWeights(move.weights) would submit once the slots stand behind move.endpoints: one
   * change batch (the same function computes it), then the wait for INSYNC.
   */
  async planMove(move: PlannedMove): Promise<PlannedStep[]> {
    const { records } = this.connected();
    assertMovable(this.options.config.mode, move.weights);
    const targets = this.recordTargets({ blue: [], green: [] }, move.endpoints, { plan: true });
    const sets = this.plannedSets ?? (await records.recordsNamed(this.recordName));
    const changes = this.changesFor(move.weights, targets, sets);
    this.plannedSets = afterChanges(sets, changes);
    if (changes.length === 0) return [];
    return this.plannedBatch(changes, `blue ${move.weights.blue} / green ${move.weights.green}`);
  }

  /** drain() holds the old slot for the record's TTL + dnsMargin after the move. */
  planDrain(slot: Slot): Promise<PlannedStep[]> {
    const holdMs = this.options.config.ttl + this.options.config.dnsMargin;
    return Promise.resolve([
      {
        kind: 'wait',
        until: `clients' cached answers for ${this.recordName} expire: the TTL + dnsMargin after ${slot} left the record`,
        deadlineMs: holdMs,
      },
    ]);
  }

  /** Mode weighted: the retired slot's record (weight 0) is deleted; mode alias sends nothing. */
  async planCleanup(slot: Slot): Promise<PlannedStep[]> {
    if (this.options.config.mode !== 'weighted') return [];
    const sets = this.plannedSets ?? (await this.connected().records.recordsNamed(this.recordName));
    const existing = sortRecords(sets).weighted.get(setIdentifier(this.options.app, slot));
    if (existing === undefined) return [];
    const changes: Change[] = [{ Action: 'DELETE', ResourceRecordSet: existing }];
    this.plannedSets = afterChanges(sets, changes);
    return this.plannedBatch(changes, `${slot} retired`);
  }

  private plannedBatch(changes: readonly Change[], what: string): PlannedStep[] {
    return [
      withStandIns(
        plannedCall({
          service: 'route53',
          operation: 'ChangeResourceRecordSets',
          input: {
            HostedZoneId: this.connected().records.zoneId,
            ChangeBatch: { Comment: `cutover ${this.options.app}: ${what}`, Changes: changes },
          },
        }),
      ),
      {
        kind: 'wait',
        until: 'Route 53 reports the change INSYNC',
        deadlineMs: this.options.config.settleTimeout,
      },
    ];
  }

  close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    connection?.close();
    return Promise.resolve();
  }

  prepare(targets: SlotTargets, endpoints: SlotEndpoints = {}): Promise<void> {
    try {
      this.connected();
      this.targets = this.recordTargets(targets, endpoints);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(asCutoverError(error, 'CUTOVER_E_ROUTER'));
    }
  }

  /** What each slot's record would name; refuses instances without an endpoint and mixed types. */
  private recordTargets(
    targets: SlotTargets,
    endpoints: SlotEndpoints,
    options: { plan?: boolean } = {},
  ): Partial<Record<Slot, RecordTarget>> {
    const prepared: Partial<Record<Slot, RecordTarget>> = {};
    for (const slot of SLOTS) {
      const endpoint = endpoints[slot];
      if (endpoint !== undefined) {
        prepared[slot] = slotRecordTarget(slot, endpoint, options);
      } else if (targets[slot].length > 0) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `the route53 router names load balancers or DNS names (a platform endpoint), not host:port instances; ${slot} has ${targets[slot].length} instance(s) and no endpoint`,
          { details: { slot } },
        );
      }
    }
    const { blue, green } = prepared;
    if (this.options.config.mode === 'weighted' && blue && green && recordType(blue) !== recordType(green)) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `weighted records of one name share one type: blue would be ${describeTarget(blue)} (${recordType(blue)}), green ${describeTarget(green)} (${recordType(green)})`,
      );
    }
    return prepared;
  }

  preview(slot: Slot): Promise<PreviewRoute> {
    return Promise.reject(
      new CutoverError(
        'CUTOVER_E_ROUTER',
        `the route53 router has no preview route to ${slot}: every resolver gets the same answers; smoke-test ${slot}'s load balancer by its own DNS name`,
        { details: { slot } },
      ),
    );
  }

  async setWeights(weights: Weights): Promise<void> {
    const { records } = this.connected();
    assertMovable(this.options.config.mode, weights);
    const changes = this.changesFor(weights, this.targets, await records.recordsNamed(this.recordName));
    if (changes.length === 0 && this.options.config.mode === 'alias') {
      const live = SLOTS.find((slot) => weights[slot] === 100);
      if (live !== undefined && this.targets[live] === undefined) {
        // The engine's baseline before the first deploy: the live slot has nothing to name.
        this.options.logger.info('router.route53.nothing-to-name', { slot: live });
      }
    }
    if (changes.length > 0) {
      const submitted = await records.change(
        changes,
        `cutover ${this.options.app}: blue ${weights.blue} / green ${weights.green}`,
      );
      this.pendingChange = submitted.id;
      this.options.logger.info('router.route53.submitted', { change: submitted.id, weights: { ...weights } });
      engineCrashPoint('route53.after-submit');
      await this.waitInSync(submitted);
    } else if (this.pendingChange !== undefined) {
      // The same move again (a retry): it is done once the earlier change is.
      await this.waitInSync(await records.changeStatus(this.pendingChange));
    }
    for (const slot of SLOTS) {
      if (weights[slot] === 0) {
        if (!this.leftAnswersAt.has(slot)) this.leftAnswersAt.set(slot, Date.now());
      } else {
        this.leftAnswersAt.delete(slot);
      }
    }
  }

  async verify(): Promise<RouterObservation> {
    const { records } = this.connected();
    const found = sortRecords(await records.recordsNamed(this.recordName));
    const seen = this.options.config.mode === 'alias' ? this.readAlias(found) : this.readWeighted(found);
    if (seen.kind !== 'observed' || this.pendingChange === undefined) return seen;
    const change = await records.changeStatus(this.pendingChange);
    if (change.status === 'PENDING') {
      return {
        kind: 'converging',
        seen: `change ${change.id} is still PENDING: not every Route 53 name server answers with it yet`,
        weights: seen.weights,
      };
    }
    this.pendingChange = undefined;
    return seen;
  }

  async drain(slot: Slot, _options: DrainOptions): Promise<void> {
    const seen = await this.verify();
    const share = seen.kind === 'observed' ? seen.weights[slot] : undefined;
    if (share === undefined || share > 0) {
      throw new CutoverError(
        'CUTOVER_E_ROUTER',
        `cannot drain ${slot}: ${share === undefined ? `the record is not settled (${seen.kind === 'converging' ? seen.seen : seen.kind})` : `${this.recordName} still sends it ${share}%`}`,
        { details: { slot } },
      );
    }
    // Clients keep the last answer for its TTL (an ELB alias: 60 s) and some overstay: the old
    // slot keeps serving that long after the move, measured from the move when this process
    // made it, from now when it did not. The engine's drain deadline does not shorten this hold:
    // scaling the old stack in earlier would fail the clients that still resolve to it.
    const holdMs = this.options.config.ttl + this.options.config.dnsMargin;
    const until = (this.leftAnswersAt.get(slot) ?? Date.now()) + holdMs;
    this.options.logger.info('router.route53.dns-hold', {
      slot,
      until: new Date(until).toISOString(),
      holdMs,
    });
    await pause(until - Date.now());
  }

  async drainStatus(_slot: Slot): Promise<DrainStatus> {
    await Promise.resolve();
    const seconds = (this.options.config.ttl + this.options.config.dnsMargin) / 1000;
    return {
      kind: 'unknown',
      reason: `DNS cannot count the clients that still hold a cached answer; drain() holds the old slot for the record's TTL plus dnsMargin (${seconds} s) after the move`,
    };
  }

  async cleanup(slot: Slot): Promise<void> {
    const { records } = this.connected();
    if (this.options.config.mode === 'weighted') {
      const identifier = setIdentifier(this.options.app, slot);
      const existing = sortRecords(await records.recordsNamed(this.recordName)).weighted.get(identifier);
      if (existing !== undefined) {
        if ((existing.Weight ?? 0) > 0) {
          throw new CutoverError(
            'CUTOVER_E_SLOT_LIVE',
            `cannot clean up ${slot}: its weighted record ${identifier} still has weight ${String(existing.Weight)}`,
            { details: { slot } },
          );
        }
        const submitted = await records.change(
          [{ Action: 'DELETE', ResourceRecordSet: existing }],
          `cutover ${this.options.app}: ${slot} retired`,
        );
        this.pendingChange = submitted.id;
        await this.waitInSync(submitted);
      }
    }
    const { [slot]: _forgotten, ...rest } = this.targets;
    this.targets = rest;
  }

  /** The change batch that moves the record(s) to `weights`, from the sets the name has. */
  private changesFor(
    weights: Weights,
    targets: Partial<Record<Slot, RecordTarget>>,
    sets: readonly ResourceRecordSet[],
  ): Change[] {
    const layout = {
      recordName: this.recordName,
      ttlSeconds: this.options.config.ttl / 1000,
      app: this.options.app,
    };
    return this.options.config.mode === 'alias'
      ? aliasChanges(layout, weights, targets, sets)
      : weightedChanges(layout, weights, targets, sets);
  }

  private readAlias(found: NameRecords): RouterObservation {
    const prepared = SLOTS.some((slot) => this.targets[slot] !== undefined);
    const routed = [...found.simple, ...found.weighted.values(), ...found.other];
    const [only, second] = routed;
    if (only === undefined) {
      if (!prepared) return { kind: 'observed', weights: weightsAllOn('blue') };
      return { kind: 'converging', seen: `${this.recordName} has no record` };
    }
    if (second !== undefined || only.SetIdentifier !== undefined) {
      return {
        kind: 'converging',
        seen: `${this.recordName} has ${routed.length} record(s) where mode alias expects one simple record: ${routed.map(describeRecord).join('; ')}`,
      };
    }
    const slot = slotNamedBy(only, this.targets);
    if (slot !== undefined) return { kind: 'observed', weights: weightsAllOn(slot) };
    if (!prepared) {
      return {
        kind: 'unverifiable',
        reason: `${this.recordName} is ${describeRecord(only)}, and the router was not prepared with the slots' endpoints, so it cannot tell which slot that is`,
      };
    }
    return {
      kind: 'converging',
      seen: `${this.recordName} is ${describeRecord(only)}, which is neither slot's endpoint`,
    };
  }

  private readWeighted(found: NameRecords): RouterObservation {
    const prepared = SLOTS.some((slot) => this.targets[slot] !== undefined);
    const ours = new Map<Slot, ResourceRecordSet>();
    for (const slot of SLOTS) {
      const set = found.weighted.get(setIdentifier(this.options.app, slot));
      if (set !== undefined) ours.set(slot, set);
    }
    const foreign = [
      ...found.simple,
      ...found.other,
      ...[...found.weighted.values()].filter((set) => ![...ours.values()].includes(set)),
    ];
    const problems: string[] = [];
    if (foreign.length > 0)
      problems.push(`other records answer for ${this.recordName}: ${foreign.map(describeRecord).join('; ')}`);
    for (const [slot, set] of ours) {
      if (!isRecordWeight(set.Weight ?? -1)) {
        problems.push(`${slot}'s record has weight ${String(set.Weight)}, outside Route 53's 0–255`);
      }
      const target = this.targets[slot];
      if (target !== undefined && !namesTarget(set, target)) {
        problems.push(`${slot}'s record is ${describeRecord(set)}, not ${describeTarget(target)}`);
      }
    }
    if (ours.size === 0) {
      if (!prepared && problems.length === 0) return { kind: 'observed', weights: weightsAllOn('blue') };
      problems.unshift(`${this.recordName} has no weighted record of ${this.options.app}`);
    }
    if (problems.length > 0) return { kind: 'converging', seen: problems.join('; ') };
    const [onlySlot] = ours.keys();
    if (ours.size === 1 && onlySlot !== undefined)
      return { kind: 'observed', weights: weightsAllOn(onlySlot) };
    const weights = percentsOf({
      blue: ours.get('blue')?.Weight ?? 0,
      green: ours.get('green')?.Weight ?? 0,
    });
    return { kind: 'observed', weights };
  }

  /** Polls the change until INSYNC; past settleTimeout the move fails (Route 53 still applies it). */
  private async waitInSync(first: ChangeInfo): Promise<void> {
    const { records } = this.connected();
    const deadline = Date.now() + this.options.config.settleTimeout;
    let change = first;
    let wait = this.options.firstPollMs ?? FIRST_POLL_MS;
    while (change.status !== 'INSYNC') {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `Route 53 change ${change.id} for ${this.recordName} was still PENDING after settleTimeout (${formatDuration(this.options.config.settleTimeout)}); Route 53 will still apply it, and the next move replaces it`,
          {
            details: {
              change: change.id,
              recordName: this.recordName,
              settleTimeoutMs: this.options.config.settleTimeout,
            },
          },
        );
      }
      await pause(Math.min(wait, left));
      wait = Math.min(wait * 2, POLL_MAX_MS);
      change = await records.changeStatus(change.id);
    }
    this.pendingChange = undefined;
    this.options.logger.info('router.route53.insync', { change: change.id });
  }

  private connected(): Connection {
    if (this.connection === undefined) {
      throw new CutoverError('CUTOVER_E_ROUTER', 'the route53 router is not open');
    }
    return this.connection;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** A planned load balancer's `<DNS name of …>` (see PLANNED_ENDPOINT) as the plan's placeholder. */
function withStandIns(step: PlannedStep): PlannedStep {
  const swap = (value: PlannedValue): PlannedValue => {
    if (typeof value === 'string') {
      const standIn = /^<(.+)>$/.exec(value);
      return standIn === null ? value : placeholder(standIn[1]!);
    }
    if (Array.isArray(value)) return value.map((inner: PlannedValue) => swap(inner));
    if (typeof value === 'object' && !isPlaceholder(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, swap(inner)]));
    }
    return value;
  };
  return step.kind === 'call' ? { ...step, input: swap(step.input) as typeof step.input } : step;
}
