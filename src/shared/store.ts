import type { AnalysisFinding } from './analysis.js';
import type { Phase } from './phase.js';
import type { Slot, SlotEndpoints, SlotTargets, Weights } from './slot.js';

export interface FailureReason {
  readonly code: string;
  readonly message: string;
  /** An analysis verdict that caused it (CUTOVER_E_ANALYSIS): provider, measure, observed, threshold. */
  readonly analysis?: AnalysisFinding;
}

export interface DeploymentRecord {
  readonly id: string;
  readonly app: string;
  readonly release: string;
  /** The slot that was live when the deployment started (null on the very first deploy). */
  readonly fromSlot: Slot | null;
  /** The slot the new release goes into (the idle one). */
  readonly toSlot: Slot;
  readonly fromRelease: string | null;
  readonly phase: Phase;
  /** Index of the shift step reached (0-based), -1 before shifting. */
  readonly step: number;
  readonly requestedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** Why it ended in aborted or rolled-back. */
  readonly reason: FailureReason | null;
  /** When the rollback window ends (set on entering standby). */
  readonly standbyUntil: string | null;
  /** When draining may force-close what is left (set on entering draining). */
  readonly drainDeadline: string | null;
  /**
   * When the bake period after promotion ends (set as it starts, so a restart resumes it);
   * null when the deployment had no bake.
   */
  readonly bakeUntil: string | null;
}

export interface NewDeployment {
  readonly id: string;
  readonly app: string;
  readonly release: string;
  readonly fromSlot: Slot | null;
  readonly toSlot: Slot;
  readonly fromRelease: string | null;
  readonly requestedBy: string;
}

export type DeploymentPatch = Partial<
  Pick<DeploymentRecord, 'step' | 'reason' | 'standbyUntil' | 'drainDeadline' | 'finishedAt' | 'bakeUntil'>
>;

export interface JournalEntry {
  readonly seq: number;
  readonly deploymentId: string;
  readonly phase: Phase;
  readonly at: string;
  /** What the step is about to do / did (weights asked, instances started …). */
  readonly data: Record<string, unknown>;
}

/** What traffic should look like for an app: written before the router is told (write-ahead). */
export interface RoutingState {
  readonly app: string;
  readonly liveSlot: Slot | null;
  readonly weights: Weights;
  readonly targets: SlotTargets;
  readonly releases: Readonly<Partial<Record<Slot, string>>>;
  /** Each slot's platform endpoint, for a platform whose slot is a group (absent: no slot has one). */
  readonly endpoints?: SlotEndpoints;
  /** Whether the data plane was read back after the move (absent: recorded by an older cutover). */
  readonly readBack?: RoutingReadBack;
  readonly updatedAt: string;
}

/**
 * What reading the router back after the last move found (invariant 6). A move is written
 * `pending` before it is applied; `verified` once the data plane showed the asked weights;
 * `converging` while an eventually consistent router settles; `unverifiable` when the router
 * cannot read its data plane back (its capabilities say so): the move was applied, not checked.
 */
export type RoutingReadBack =
  | { readonly kind: 'pending'; readonly since: string }
  | { readonly kind: 'converging'; readonly seen: string; readonly since: string }
  | { readonly kind: 'verified'; readonly at: string }
  | { readonly kind: 'unverifiable'; readonly reason: string; readonly at: string };

export interface Lease {
  readonly app: string;
  readonly owner: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export type LeaseResult =
  { readonly acquired: true; readonly lease: Lease } | { readonly acquired: false; readonly holder: Lease };

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly app: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: 'ok' | 'refused' | 'failed';
  readonly details: Record<string, unknown>;
}

export interface ReleaseRecord {
  readonly app: string;
  readonly release: string;
  readonly firstDeployedAt: string;
  readonly lastDeployedAt: string;
}

/**
 * A phase change as the store writes it: journaled and applied in one transaction, only if the
 * record is still in `expectedPhase` (compare-and-set). Which moves are allowed is the engine's
 * business (engine/transitions.ts); the store only refuses a record that moved under the writer.
 */
export interface PhaseChange {
  /** The phase the writer read; another phase now fails with CUTOVER_E_PHASE_CHANGED. */
  readonly expectedPhase: Phase;
  readonly to: Phase;
  readonly patch?: DeploymentPatch;
  /** Journaled with the entry: what the step is about to do. */
  readonly data?: Record<string, unknown>;
}

/**
 * Durable state, asynchronous so a networked store (Postgres) fits. Every write is one
 * transaction: a crash leaves either the old or the new state, never half of one.
 * Implementations reject with CutoverError('CUTOVER_E_STORE') on I/O failure (and on any call
 * after close()), CUTOVER_E_NOT_FOUND for an unknown deployment, and CUTOVER_E_PHASE_CHANGED when
 * a transition's expected phase is no longer the record's.
 */
export interface Store {
  /** A new record in `pending`, journaled; CUTOVER_E_INVALID_STATE if the id exists. */
  createDeployment(deployment: NewDeployment): Promise<DeploymentRecord>;
  /**
   * Journal the phase change, then apply it, in one transaction (write-ahead: both or neither).
   * Entering a terminal phase stamps finishedAt unless the patch sets it.
   */
  transition(id: string, change: PhaseChange): Promise<DeploymentRecord>;
  /** Update fields without a phase change (journaled as a step of the current phase). */
  update(id: string, patch: DeploymentPatch, data?: Record<string, unknown>): Promise<DeploymentRecord>;
  getDeployment(id: string): Promise<DeploymentRecord | undefined>;
  /** Deployments of the app not in a terminal phase, oldest first. */
  unfinishedDeployments(app: string): Promise<DeploymentRecord[]>;
  /** Newest first. */
  listDeployments(app: string, limit?: number): Promise<DeploymentRecord[]>;
  journal(deploymentId: string): Promise<JournalEntry[]>;

  getRouting(app: string): Promise<RoutingState | undefined>;
  setRouting(state: Omit<RoutingState, 'updatedAt'>): Promise<RoutingState>;

  /** Take the app's lease if free, expired, or already ours (then renew it). */
  acquireLease(app: string, owner: string, ttlMs: number, now?: Date): Promise<LeaseResult>;
  /** False when another owner holds it now (ours even past expiry while nobody took it). */
  renewLease(app: string, owner: string, ttlMs: number, now?: Date): Promise<boolean>;
  /** A no-op unless `owner` holds it. */
  releaseLease(app: string, owner: string): Promise<void>;
  getLease(app: string): Promise<Lease | undefined>;

  recordRelease(app: string, release: string): Promise<void>;
  listReleases(app: string): Promise<ReleaseRecord[]>;

  audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
  /** Newest first. */
  auditLog(app: string, limit?: number): Promise<AuditEntry[]>;

  /** Idempotent; every later call rejects with CUTOVER_E_STORE. */
  close(): Promise<void>;
}
