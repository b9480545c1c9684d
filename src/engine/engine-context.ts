import type { CutoverConfig } from '../config/schema.js';
import type { Platform } from '../shared/platform.js';
import type { Router } from '../shared/router.js';
import type { Store } from '../shared/store.js';
import type { DeploymentEvents } from '../shared/events.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { Logger } from '../shared/logger.js';
import type { SlotTrafficSource } from '../shared/slot-traffic.js';
import type { ShadowReadings } from '../proxy/shadow/shadow-sample.js';
import type { TrafficController } from './traffic.js';

/** Everything a deployment run needs, built once by the engine. */
export interface EngineContext {
  readonly config: CutoverConfig;
  readonly store: Store;
  readonly router: Router;
  readonly platform: Platform;
  readonly traffic: TrafficController;
  readonly events: DeploymentEvents;
  readonly logger: Logger;
  /** The app's lease, held per deployment while its run works (invariant 3). */
  readonly lease: LeaseKeeper;
  /** Identifies this cutover process in lease owners: `cutover@host:pid`. */
  readonly processId: string;
  readonly now: () => Date;
  /** The builtin proxy's per-slot counters, summed over its workers (builtin router only). */
  readonly slotTraffic?: SlotTrafficSource;
  /** The builtin proxy's shadow comparisons, summed over its workers (builtin router only). */
  readonly shadow?: ShadowReadings;
}

export function leaseOwner(processId: string, deploymentId: string): string {
  return `${processId} ${deploymentId}`;
}

/** Parses `cutover@host:pid d-…` back into its parts (for taking over a dead holder's lease). */
export function parseLeaseOwner(owner: string): { host: string; pid: number } | undefined {
  const match = /^cutover@([^:\s]+):(\d+)\b/.exec(owner);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}
