/**
 * A router standing in for a cloud load balancer, over a real router (the builtin proxy): no
 * real component here settles slowly, so this wrapper (test only) adds the two behaviours a
 * cloud router has and the daemons do not.
 *
 * - Endpoints: with `routesBy: 'endpoint'` it routes each slot to its `test-group` endpoint
 *   only — the group's members (`details.members`, "host:port,host:port") become the real
 *   router's targets — and ignores the slot's host:port instances, as a load balancer routing
 *   to a target group would. A slot whose endpoint was not passed gets no traffic.
 * - Eventual consistency: after each move its read-back answers `converging` as many times as
 *   `settleAfter(weights)` says (Infinity: never settles), then what the real router shows.
 */
import type {
  Slot,
  SlotEndpoint,
  SlotEndpoints,
  SlotTargets,
  Target,
  Weights,
} from '../../src/shared/slot.js';
import type {
  DrainOptions,
  DrainStatus,
  PreviewRoute,
  Router,
  RouterDescription,
  RouterObservation,
} from '../../src/shared/router.js';

export const TEST_GROUP = 'test-group';

export interface SettlingRouterOptions {
  readonly routesBy: 'endpoint' | 'instances';
  /** How many read-backs after a move to these weights answer `converging` (default: none). */
  readonly settleAfter?: (weights: Weights) => number;
}

export class SettlingRouter implements Router {
  /** Read-backs answered `converging` so far. */
  convergingReads = 0;
  settleAfter: (weights: Weights) => number;
  private pending = 0;
  private asked: Weights | undefined;

  constructor(
    readonly inner: Router,
    private readonly options: SettlingRouterOptions,
  ) {
    this.settleAfter = options.settleAfter ?? (() => 0);
  }

  describe(): RouterDescription {
    const inner = this.inner.describe();
    return {
      ...inner,
      kind: `settling-${inner.kind}`,
      capabilities: { ...inner.capabilities, endpointKinds: [TEST_GROUP] },
    };
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  prepare(targets: SlotTargets, endpoints: SlotEndpoints = {}): Promise<void> {
    if (this.options.routesBy === 'instances') return this.inner.prepare(targets);
    return this.inner.prepare({ blue: membersOf(endpoints.blue), green: membersOf(endpoints.green) });
  }
  preview(slot: Slot): Promise<PreviewRoute> {
    return this.inner.preview(slot);
  }
  async setWeights(weights: Weights): Promise<void> {
    await this.inner.setWeights(weights);
    this.asked = weights;
    this.pending = this.settleAfter(weights);
  }
  async verify(): Promise<RouterObservation> {
    if (this.pending > 0 && this.asked) {
      this.pending -= 1;
      this.convergingReads += 1;
      return {
        kind: 'converging',
        seen: `2 of 4 load balancer nodes send blue ${this.asked.blue}% / green ${this.asked.green}%`,
      };
    }
    return this.inner.verify();
  }
  drain(slot: Slot, options: DrainOptions): Promise<void> {
    return this.inner.drain(slot, options);
  }
  drainStatus(slot: Slot): Promise<DrainStatus> {
    return this.inner.drainStatus(slot);
  }
  cleanup(slot: Slot): Promise<void> {
    return this.inner.cleanup(slot);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A `test-group` endpoint standing for these instances. */
export function testGroup(id: string, members: readonly Target[]): SlotEndpoint {
  return {
    kind: TEST_GROUP,
    id,
    details: { members: members.map((member) => `${member.id}@${member.host}:${member.port}`).join(',') },
  };
}

function membersOf(endpoint: SlotEndpoint | undefined): Target[] {
  const members = endpoint?.details?.members;
  if (!members) return [];
  return members.split(',').map((member) => {
    const match = /^(.+)@(.+):(\d+)$/.exec(member);
    if (!match) throw new Error(`not a test-group member: ${member}`);
    return { id: match[1]!, host: match[2]!, port: Number(match[3]) };
  });
}
