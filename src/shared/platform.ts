import type { PlannedStep, ProvisionPlan } from './plan.js';
import type { Slot, SlotEndpoint, Target } from './slot.js';

/** One running copy of a release in a slot. */
export interface Instance {
  /** Stable and unique within the app, e.g. `green-0-v2`. */
  readonly id: string;
  readonly slot: Slot;
  readonly release: string;
  readonly index: number;
  readonly host: string;
  readonly port: number;
  /** Where the platform keeps this instance's output, if it has a file for it. */
  readonly logFile?: string;
  /** Platform-specific facts needed to find the instance again (pid, container id …). */
  readonly meta: Readonly<Record<string, string | number>>;
}

export interface ProvisionOptions {
  readonly signal?: AbortSignal;
  /** Extra environment for the instances (already resolved; never logged). */
  readonly env?: Readonly<Record<string, string>>;
  /** Lines worth showing the person deploying while provision runs (image build output …). */
  readonly onProgress?: (line: string) => void;
  /** The deployment this provision belongs to (cloud platforms tag what they create with it). */
  readonly deploymentId?: string;
}

export interface StopOptions {
  /** Time between SIGTERM (or the platform's polite stop) and a forced kill. */
  readonly graceMs: number;
}

export interface LogLine {
  readonly instanceId: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface PlatformDescription {
  readonly kind: string;
  /** The kind of `SlotEndpoint` this platform's slots have (`aws-asg` …); absent: instances only. */
  readonly endpointKind?: string;
  /**
   * The platform's configured stop grace (every platform has `stopGrace`): what the engine
   * passes to stop() when it retires a slot.
   */
  readonly stopGraceMs: number;
}

/**
 * A Platform runs a slot's instances. provision() of a slot that is already running the
 * same release returns the running instances (idempotent); of another release it replaces them.
 */
export interface Platform {
  describe(): PlatformDescription;
  /** Throws CUTOVER_E_NOT_FOUND when the release cannot be run (before anything is started). */
  checkRelease?(release: string): Promise<void>;
  provision(slot: Slot, release: string, options?: ProvisionOptions): Promise<Instance[]>;
  /** Addresses the router and the health checks use. */
  healthTargets(instances: readonly Instance[]): Target[];
  /**
   * For a platform whose slot is a group (an Auto Scaling group …): the endpoint standing for
   * the slot's instances, which routers that understand its kind route to.
   */
  endpoint?(slot: Slot, instances: readonly Instance[]): SlotEndpoint | undefined;
  /**
   * Instances of the slot that are running now (after a restart, too). Answers at once: never
   * waits for a provision or stop of the slot in progress (`status` and `/metrics` call it).
   */
  running(slot: Slot): Promise<Instance[]>;
  logs(slot: Slot, options?: { tail?: number }): Promise<LogLine[]>;
  /**
   * Optional (`cutover logs -f`): the last `tail` lines (default 0) of each instance of the slot
   * running now, then every line as it is written, until `signal` aborts or every instance's
   * log ends. Resolves then; never rejects because of the abort.
   */
  followLogs?(
    slot: Slot,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
    options?: { tail?: number },
  ): Promise<void>;
  stop(slot: Slot, options: StopOptions): Promise<void>;
  /** Stop and remove everything the slot left behind (working dirs excepted: they are the release). */
  destroy(slot: Slot): Promise<void>;
  /**
   * After a restart of cutover: find what is really running, adopt what `keep` names and
   * stop anything this platform started that is not in it (orphans), or that a provision cut
   * short by the crash had started (the resumed deployment provisions again). Whatever instant
   * the crash hit, no process this platform started may be left unknown. Returns what is running.
   */
  reconcile(keep: ReadonlySet<Slot>): Promise<Record<Slot, Instance[]>>;
  /** Release what the platform holds in this process (timers); instances keep running. */
  close(): Promise<void>;
  /**
   * Optional (`cutover deploy --plan`): the calls provision(slot, release) would make now, in
   * order, with the waits between them, read from the provider with describe calls only (never
   * a call that changes something). Throws what provision() would throw when it cannot be made
   * (CUTOVER_E_NOT_FOUND for a release with no image). Without it `--plan` refuses the platform.
   */
  planProvision?(slot: Slot, release: string, options?: { deploymentId?: string }): Promise<ProvisionPlan>;
  /** Optional, with planProvision: what stop(slot) would do now (retire runs it later). */
  planStop?(slot: Slot, options: StopOptions): Promise<PlannedStep[]>;
  /**
   * Optional: the old slot waits out the rollback window cold (capacity 0, everything else
   * kept) instead of warm. Without it the old slot stays warm until retire.
   */
  readonly coldStandby?: ColdStandby;
}

/**
 * What a slot had before it was parked, as the platform reads it: plain JSON, journaled by the
 * engine before park() so a rollback restores exactly that, whatever crashed in between.
 */
export type ParkedCapacity = Readonly<Record<string, unknown>>;

/**
 * A cold standby. After the old slot has drained (for DNS: the record's TTL and margin), the
 * engine journals capacity(slot) and calls park(slot); a rollback calls unpark(slot, journaled)
 * before any traffic moves back. Each call is idempotent: a crash between them reruns it.
 */
export interface ColdStandby {
  /** The slot's capacity now, to journal before park(). */
  capacity(slot: Slot): Promise<ParkedCapacity>;
  /** Capacity to zero; what the slot is made of stays, for unpark(). */
  park(slot: Slot): Promise<void>;
  /** Capacity back to `capacity`, resolved once every instance serves again (or it throws). */
  unpark(slot: Slot, capacity: ParkedCapacity, options: { signal?: AbortSignal }): Promise<void>;
  /** Optional (`cutover deploy --plan`): the calls park(slot) would make now. */
  planPark?(slot: Slot): Promise<PlannedStep[]>;
}
