import { dirname, resolve } from 'node:path';

import Database from 'better-sqlite3';

import { CutoverError } from '../shared/errors.js';
import { keepPrivateIfPresent, makePrivateDir, makePrivateFile } from '../shared/private-files.js';
import { isTerminal, PHASES, TERMINAL_PHASES, type Phase } from '../shared/phase.js';
import type { Slot, SlotEndpoints, SlotTargets } from '../shared/slot.js';
import { migrate } from './migrations.js';
import type { AnalysisFinding } from '../shared/analysis.js';
import type {
  AuditEntry,
  DeploymentPatch,
  DeploymentRecord,
  FailureReason,
  JournalEntry,
  Lease,
  LeaseResult,
  NewDeployment,
  PhaseChange,
  ReleaseRecord,
  RoutingReadBack,
  RoutingState,
  Store,
} from '../shared/store.js';

/** How long a write waits for the other process (server or CLI) to finish its transaction. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

export interface SqliteStoreOptions {
  /** Default SQLITE_BUSY_TIMEOUT_MS. After this long waiting for a lock, a call fails with CUTOVER_E_STORE. */
  readonly busyTimeoutMs?: number;
  /** The clock used to stamp writes; tests pass a fixed one. Lease calls take their own `now`. */
  readonly now?: () => Date;
}

interface DeploymentRow {
  id: string;
  app: string;
  release: string;
  from_slot: Slot | null;
  to_slot: Slot;
  from_release: string | null;
  phase: Phase;
  step: number;
  requested_by: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  reason_code: string | null;
  reason_message: string | null;
  standby_until: number | null;
  drain_deadline: number | null;
  bake_until: number | null;
  reason_analysis: string | null;
}

interface JournalRow {
  seq: number;
  deployment_id: string;
  phase: Phase;
  at: number;
  data: string;
}

interface RoutingRow {
  app: string;
  live_slot: Slot | null;
  weight_blue: number;
  weight_green: number;
  targets: string;
  releases: string;
  endpoints: string;
  read_back: string | null;
  updated_at: number;
}

interface LeaseRow {
  app: string;
  owner: string;
  acquired_at: number;
  expires_at: number;
}

interface ReleaseRow {
  app: string;
  release: string;
  first_deployed_at: number;
  last_deployed_at: number;
}

interface AuditRow {
  id: number;
  at: number;
  app: string;
  actor: string;
  action: string;
  target: string;
  outcome: AuditEntry['outcome'];
  details: string;
}

const TERMINAL_LIST = [...TERMINAL_PHASES].map((phase) => `'${phase}'`).join(', ');
/** SQLite reads a negative LIMIT as "no limit". */
const NO_LIMIT = -1;

/**
 * Opens (creating if needed) the SQLite store at `file`. Several processes may open the same file:
 * WAL lets readers run beside the one writer, and every write transaction starts IMMEDIATE so a
 * read-then-write never fails half-way on a lock another process took in between.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  const path = resolve(file);
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new CutoverError(
      'CUTOVER_E_INTERNAL',
      `busyTimeoutMs must be a whole number of ms >= 0, got ${busyTimeoutMs}`,
    );
  }
  try {
    // The state directory 0700 and the database 0600 from the first start, whatever the umask:
    // the journal names releases, hosts and operators. SQLite gives -wal and -shm its mode.
    makePrivateDir(dirname(path));
  } catch (error) {
    throw storeError(`create the store's folder ${dirname(path)}`, error, path);
  }
  let db: Database.Database | undefined;
  try {
    makePrivateFile(path);
    db = new Database(path);
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode !== 'wal') throw new Error(`journal_mode is ${mode}, not wal`);
    // FULL: a committed transition survives power loss, not only a crash of the process.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    for (const companion of ['-wal', '-shm']) keepPrivateIfPresent(`${path}${companion}`);
  } catch (error) {
    db?.close();
    throw storeError('open the store', error, path);
  }
  return new SqliteStore(db, path, options.now ?? (() => new Date()));
}

class SqliteStore implements Store {
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly clock: () => Date,
  ) {}

  createDeployment(deployment: NewDeployment): Promise<DeploymentRecord> {
    return this.write(`create deployment ${deployment.id}`, () => {
      if (this.findDeployment(deployment.id) !== undefined) {
        throw new CutoverError('CUTOVER_E_INVALID_STATE', `deployment ${deployment.id} already exists`, {
          details: { deploymentId: deployment.id },
        });
      }
      const now = this.clock().getTime();
      this.sql(
        `INSERT INTO deployments (id, app, release, from_slot, to_slot, from_release, phase, step,
             requested_by, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', -1, ?, ?, ?)`,
      ).run(
        deployment.id,
        deployment.app,
        deployment.release,
        deployment.fromSlot,
        deployment.toSlot,
        deployment.fromRelease,
        deployment.requestedBy,
        now,
        now,
      );
      this.appendJournal(deployment.id, 'pending', now, {
        release: deployment.release,
        fromSlot: deployment.fromSlot,
        toSlot: deployment.toSlot,
        fromRelease: deployment.fromRelease,
        requestedBy: deployment.requestedBy,
      });
      return this.mustGetDeployment(deployment.id);
    });
  }

  transition(id: string, change: PhaseChange): Promise<DeploymentRecord> {
    const { expectedPhase, to, patch = {}, data = {} } = change;
    return this.write(`move deployment ${id} from ${expectedPhase} to ${to}`, () => {
      checkPhase(to);
      const from = this.mustGetDeployment(id).phase;
      // Compare-and-set: the writer decided on what it read; if the record moved since (an
      // abort journaled by another call or process), nothing is written and it reads again.
      if (from !== expectedPhase) {
        throw new CutoverError(
          'CUTOVER_E_PHASE_CHANGED',
          `deployment ${id} is ${from}, no longer ${expectedPhase}: not moved to ${to}`,
          { details: { deploymentId: id, expectedPhase, phase: from, to } },
        );
      }
      const now = this.clock().getTime();
      // Write-ahead: the journal entry and the new phase commit together or not at all.
      this.appendJournal(id, to, now, data);
      const enteringTerminal = isTerminal(to) && from !== to;
      this.applyPatch(
        id,
        now,
        to,
        enteringTerminal && patch.finishedAt == null ? { ...patch, finishedAt: iso(now) } : patch,
      );
      return this.mustGetDeployment(id);
    });
  }

  update(id: string, patch: DeploymentPatch, data: Record<string, unknown> = {}): Promise<DeploymentRecord> {
    return this.write(`update deployment ${id}`, () => {
      const current = this.mustGetDeployment(id);
      const now = this.clock().getTime();
      this.appendJournal(id, current.phase, now, data);
      this.applyPatch(id, now, current.phase, patch);
      return this.mustGetDeployment(id);
    });
  }

  getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    return this.read(`read deployment ${id}`, () => this.findDeployment(id));
  }

  unfinishedDeployments(app: string): Promise<DeploymentRecord[]> {
    return this.read(`list unfinished deployments of ${app}`, () =>
      this.sql<[string], DeploymentRow>(
        `SELECT * FROM deployments WHERE app = ? AND phase NOT IN (${TERMINAL_LIST})
           ORDER BY created_at, rowid`,
      )
        .all(app)
        .map(toDeployment),
    );
  }

  listDeployments(app: string, limit?: number): Promise<DeploymentRecord[]> {
    return this.read(`list deployments of ${app}`, () =>
      this.sql<[string, number], DeploymentRow>(
        'SELECT * FROM deployments WHERE app = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
      )
        .all(app, limit ?? NO_LIMIT)
        .map(toDeployment),
    );
  }

  journal(deploymentId: string): Promise<JournalEntry[]> {
    return this.read(`read the journal of deployment ${deploymentId}`, () =>
      this.sql<[string], JournalRow>('SELECT * FROM journal WHERE deployment_id = ? ORDER BY seq')
        .all(deploymentId)
        .map((row) => ({
          seq: row.seq,
          deploymentId: row.deployment_id,
          phase: row.phase,
          at: iso(row.at),
          data: parseJson<Record<string, unknown>>(row.data, `journal entry ${row.seq}`, this.file),
        })),
    );
  }

  getRouting(app: string): Promise<RoutingState | undefined> {
    return this.read(`read the routing of ${app}`, () => {
      const row = this.sql<[string], RoutingRow>('SELECT * FROM routing WHERE app = ?').get(app);
      if (row === undefined) return undefined;
      return {
        app: row.app,
        liveSlot: row.live_slot,
        weights: { blue: row.weight_blue, green: row.weight_green },
        targets: parseJson<SlotTargets>(row.targets, `routing targets of ${app}`, this.file),
        releases: parseJson<RoutingState['releases']>(row.releases, `routing releases of ${app}`, this.file),
        ...optionalRoutingFields(
          parseJson<SlotEndpoints>(row.endpoints, `routing endpoints of ${app}`, this.file),
          row.read_back === null
            ? undefined
            : parseJson<RoutingReadBack>(row.read_back, `routing read-back of ${app}`, this.file),
        ),
        updatedAt: iso(row.updated_at),
      };
    });
  }

  setRouting(state: Omit<RoutingState, 'updatedAt'>): Promise<RoutingState> {
    return this.write(`write the routing of ${state.app}`, () => {
      const now = this.clock().getTime();
      this.sql(
        `INSERT INTO routing (app, live_slot, weight_blue, weight_green, targets, releases, endpoints, read_back, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (app) DO UPDATE SET live_slot = excluded.live_slot,
             weight_blue = excluded.weight_blue, weight_green = excluded.weight_green,
             targets = excluded.targets, releases = excluded.releases, endpoints = excluded.endpoints,
             read_back = excluded.read_back, updated_at = excluded.updated_at`,
      ).run(
        state.app,
        state.liveSlot,
        state.weights.blue,
        state.weights.green,
        JSON.stringify(state.targets),
        JSON.stringify(state.releases),
        JSON.stringify(state.endpoints ?? {}),
        state.readBack === undefined ? null : JSON.stringify(state.readBack),
        now,
      );
      return {
        app: state.app,
        liveSlot: state.liveSlot,
        weights: { blue: state.weights.blue, green: state.weights.green },
        targets: state.targets,
        releases: state.releases,
        ...optionalRoutingFields(state.endpoints ?? {}, state.readBack),
        updatedAt: iso(now),
      };
    });
  }

  acquireLease(app: string, owner: string, ttlMs: number, now: Date = this.clock()): Promise<LeaseResult> {
    return this.write(`take the lease of ${app} for ${owner}`, (): LeaseResult => {
      checkTtl(ttlMs);
      const at = now.getTime();
      const current = this.findLease(app);
      if (current !== undefined && current.owner !== owner && current.expires_at > at) {
        return { acquired: false, holder: toLease(current) };
      }
      // Renewing an unexpired lease of ours keeps the time it was first taken.
      const acquiredAt =
        current !== undefined && current.owner === owner && current.expires_at > at
          ? current.acquired_at
          : at;
      const lease: LeaseRow = { app, owner, acquired_at: acquiredAt, expires_at: at + ttlMs };
      this.sql(
        `INSERT INTO leases (app, owner, acquired_at, expires_at) VALUES (@app, @owner, @acquired_at, @expires_at)
           ON CONFLICT (app) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
             expires_at = excluded.expires_at`,
      ).run(lease);
      return { acquired: true, lease: toLease(lease) };
    });
  }

  renewLease(app: string, owner: string, ttlMs: number, now: Date = this.clock()): Promise<boolean> {
    return this.write(`renew the lease of ${app} for ${owner}`, () => {
      checkTtl(ttlMs);
      // Still ours if nobody took it over, even past its expiry: then nobody else was blocked.
      const result = this.sql('UPDATE leases SET expires_at = ? WHERE app = ? AND owner = ?').run(
        now.getTime() + ttlMs,
        app,
        owner,
      );
      return result.changes === 1;
    });
  }

  releaseLease(app: string, owner: string): Promise<void> {
    // A no-op when another owner holds it: a holder that lost an expired lease must not free the new one.
    return this.write(`release the lease of ${app} for ${owner}`, () => {
      this.sql('DELETE FROM leases WHERE app = ? AND owner = ?').run(app, owner);
    });
  }

  getLease(app: string): Promise<Lease | undefined> {
    return this.read(`read the lease of ${app}`, () => {
      const row = this.findLease(app);
      return row === undefined ? undefined : toLease(row);
    });
  }

  recordRelease(app: string, release: string): Promise<void> {
    return this.write(`record release ${release} of ${app}`, () => {
      const now = this.clock().getTime();
      this.sql(
        `INSERT INTO releases (app, release, first_deployed_at, last_deployed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (app, release) DO UPDATE SET last_deployed_at = excluded.last_deployed_at`,
      ).run(app, release, now, now);
    });
  }

  listReleases(app: string): Promise<ReleaseRecord[]> {
    return this.read(`list releases of ${app}`, () =>
      this.sql<[string], ReleaseRow>(
        'SELECT * FROM releases WHERE app = ? ORDER BY last_deployed_at DESC, rowid DESC',
      )
        .all(app)
        .map((row) => ({
          app: row.app,
          release: row.release,
          firstDeployedAt: iso(row.first_deployed_at),
          lastDeployedAt: iso(row.last_deployed_at),
        })),
    );
  }

  audit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    return this.write(`write the audit log of ${entry.app}`, () => {
      this.sql(
        'INSERT INTO audit (at, app, actor, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(
        this.clock().getTime(),
        entry.app,
        entry.actor,
        entry.action,
        entry.target,
        entry.outcome,
        JSON.stringify(entry.details),
      );
    });
  }

  auditLog(app: string, limit?: number): Promise<AuditEntry[]> {
    return this.read(`read the audit log of ${app}`, () =>
      this.sql<[string, number], AuditRow>('SELECT * FROM audit WHERE app = ? ORDER BY id DESC LIMIT ?')
        .all(app, limit ?? NO_LIMIT)
        .map((row) => ({
          id: row.id,
          at: iso(row.at),
          app: row.app,
          actor: row.actor,
          action: row.action,
          target: row.target,
          outcome: row.outcome,
          details: parseJson<Record<string, unknown>>(row.details, `audit entry ${row.id}`, this.file),
        })),
    );
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    try {
      this.db.close();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(storeError('close the store', error, this.file));
    }
  }

  /**
   * Runs `body` in one IMMEDIATE transaction: it commits whole or not at all. better-sqlite3 is
   * synchronous, so a transaction never spans an await: two calls of this process cannot
   * interleave, and another process (or store instance) on the file waits on SQLite's lock.
   */
  private write<T>(what: string, body: () => T): Promise<T> {
    return this.settle(what, () => this.db.transaction(body).immediate());
  }

  private read<T>(what: string, body: () => T): Promise<T> {
    return this.settle(what, body);
  }

  /** The synchronous work, its result or error handed back as a promise (never thrown at the caller). */
  private settle<T>(what: string, body: () => T): Promise<T> {
    try {
      return Promise.resolve(this.guard(what, body));
    } catch (error) {
      // guard() turns anything thrown into a CutoverError.
      return Promise.reject(storeError(what, error, this.file));
    }
  }

  private guard<T>(what: string, body: () => T): T {
    if (this.closed) {
      throw new CutoverError('CUTOVER_E_STORE', `cannot ${what}: the store is closed (file ${this.file})`, {
        details: { file: this.file },
      });
    }
    try {
      return body();
    } catch (error) {
      if (error instanceof CutoverError) throw error;
      throw storeError(what, error, this.file);
    }
  }

  /** Prepared statements, compiled once per store: every method runs a fixed handful of them. */
  private sql<P extends unknown[] = unknown[], R = unknown>(text: string): Database.Statement<P, R> {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement as Database.Statement<P, R>;
  }

  private findDeployment(id: string): DeploymentRecord | undefined {
    const row = this.sql<[string], DeploymentRow>('SELECT * FROM deployments WHERE id = ?').get(id);
    return row === undefined ? undefined : toDeployment(row);
  }

  private mustGetDeployment(id: string): DeploymentRecord {
    const found = this.findDeployment(id);
    if (found === undefined) {
      throw new CutoverError('CUTOVER_E_NOT_FOUND', `deployment ${id} does not exist`, {
        details: { deploymentId: id },
      });
    }
    return found;
  }

  private findLease(app: string): LeaseRow | undefined {
    return this.sql<[string], LeaseRow>('SELECT * FROM leases WHERE app = ?').get(app);
  }

  private appendJournal(id: string, phase: Phase, at: number, data: Record<string, unknown>): void {
    this.sql('INSERT INTO journal (deployment_id, phase, at, data) VALUES (?, ?, ?, ?)').run(
      id,
      phase,
      at,
      JSON.stringify(data),
    );
  }

  private applyPatch(id: string, now: number, phase: Phase, patch: DeploymentPatch): void {
    const sets = ['phase = @phase', 'updated_at = @now'];
    const values: Record<string, unknown> = { id, phase, now };
    if (patch.step !== undefined) {
      sets.push('step = @step');
      values.step = patch.step;
    }
    if (patch.reason !== undefined) {
      sets.push(
        'reason_code = @reasonCode',
        'reason_message = @reasonMessage',
        'reason_analysis = @reasonAnalysis',
      );
      values.reasonCode = patch.reason?.code ?? null;
      values.reasonMessage = patch.reason?.message ?? null;
      values.reasonAnalysis = patch.reason?.analysis ? JSON.stringify(patch.reason.analysis) : null;
    }
    const times = [
      ['standbyUntil', 'standby_until'],
      ['drainDeadline', 'drain_deadline'],
      ['finishedAt', 'finished_at'],
      ['bakeUntil', 'bake_until'],
    ] as const;
    for (const [key, column] of times) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${column} = @${key}`);
      values[key] = value === null ? null : epochMs(value, key);
    }
    this.sql(`UPDATE deployments SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }
}

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    id: row.id,
    app: row.app,
    release: row.release,
    fromSlot: row.from_slot,
    toSlot: row.to_slot,
    fromRelease: row.from_release,
    phase: row.phase,
    step: row.step,
    requestedBy: row.requested_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    finishedAt: isoOrNull(row.finished_at),
    reason: row.reason_code === null ? null : toReason(row),
    standbyUntil: isoOrNull(row.standby_until),
    drainDeadline: isoOrNull(row.drain_deadline),
    bakeUntil: isoOrNull(row.bake_until),
  };
}

function toReason(row: DeploymentRow): FailureReason {
  const reason = { code: row.reason_code ?? '', message: row.reason_message ?? '' };
  if (row.reason_analysis === null) return reason;
  // Written by this store from a typed finding: shown as stored.
  return { ...reason, analysis: JSON.parse(row.reason_analysis) as AnalysisFinding };
}

function toLease(row: LeaseRow): Lease {
  return { app: row.app, owner: row.owner, acquiredAt: iso(row.acquired_at), expiresAt: iso(row.expires_at) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

function epochMs(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new CutoverError('CUTOVER_E_INTERNAL', `${field} is not a valid time: ${JSON.stringify(value)}`);
  }
  return ms;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new CutoverError(
      'CUTOVER_E_INTERNAL',
      `lease ttl must be a positive whole number of ms, got ${ttlMs}`,
    );
  }
}

function checkPhase(phase: Phase): void {
  if (!(PHASES as readonly string[]).includes(phase)) {
    throw new CutoverError('CUTOVER_E_INTERNAL', `${JSON.stringify(phase)} is not a deployment phase`);
  }
}

function parseJson<T>(text: string, what: string, file: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw storeError(`read ${what}`, error, file);
  }
}

function storeError(what: string, error: unknown, file: string): CutoverError {
  if (error instanceof CutoverError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const sqliteCode = error instanceof Database.SqliteError ? error.code : undefined;
  return new CutoverError('CUTOVER_E_STORE', `cannot ${what}: ${message} (file ${file})`, {
    cause: error,
    details: sqliteCode === undefined ? { file } : { file, sqliteCode },
  });
}

/** Endpoints only when a slot has one, the read-back only when recorded: the state round-trips as written. */
function optionalRoutingFields(
  endpoints: SlotEndpoints,
  readBack: RoutingReadBack | undefined,
): Pick<RoutingState, 'endpoints' | 'readBack'> {
  return {
    ...(Object.keys(endpoints).length > 0 ? { endpoints } : {}),
    ...(readBack === undefined ? {} : { readBack }),
  };
}
