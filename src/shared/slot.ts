/** The two identical environments. One is live, the other idle. */
export const SLOTS = ['blue', 'green'] as const;
export type Slot = (typeof SLOTS)[number];

export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

export function isSlot(value: unknown): value is Slot {
  return value === 'blue' || value === 'green';
}

/** One network endpoint of one instance of a slot. */
export interface Target {
  /** Stable id of the instance behind this address (unique within the app). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export type SlotTargets = Record<Slot, readonly Target[]>;

/** Share of new requests each slot receives, in percent; the two always add up to 100. */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

export function weightsAllOn(slot: Slot): Weights {
  return slot === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
}

export function weightsWith(slot: Slot, percent: number): Weights {
  const other = 100 - percent;
  return slot === 'blue' ? { blue: percent, green: other } : { blue: other, green: percent };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

/**
 * A platform-defined endpoint that stands for a whole slot — an Auto Scaling group, a target
 * group, a DNS name — for routers that send a slot's share to a group rather than to
 * host:port instances. `kind` names what it is (`aws-asg`, `aws-target-group`, `dns-name` …);
 * a router lists the kinds it understands in its capabilities (`endpointKinds`).
 */
export interface SlotEndpoint {
  readonly kind: string;
  /** What the router acts on: a group name, a target group ARN, a DNS name. */
  readonly id: string;
  /** Facts the router may need besides the id (region, hosted zone …). */
  readonly details?: Readonly<Record<string, string>>;
}

/** The endpoint of each slot that has one (slots of an instance platform have none). */
export type SlotEndpoints = Partial<Record<Slot, SlotEndpoint>>;
