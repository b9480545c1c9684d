import type Database from 'better-sqlite3';

import { CutoverError } from '../shared/errors.js';

/**
 * The SQLite schema, as an ordered list of migrations. `PRAGMA user_version` holds the number of
 * migrations applied. Never edit a migration that has shipped: append a new one.
 *
 * Times are INTEGER milliseconds since the epoch (UTC), so comparisons (lease expiry, rollback
 * windows) are numeric; the store converts them to ISO strings at its edge.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** The phases migration 1 shipped with (frozen: a shipped migration never changes). */
const V1_PHASES = [
  'pending',
  'provisioning',
  'verifying',
  'awaiting-promotion',
  'shifting',
  'promoted',
  'draining',
  'standby',
  'retired',
  'aborted',
  'rolled-back',
];
const sqlList = (phases: readonly string[]): string => phases.map((phase) => `'${phase}'`).join(', ');
const phaseList = sqlList(V1_PHASES);
/** Migration 2 adds the intent phases `aborting` and `rolling-back`. */
const V2_PHASES = [...V1_PHASES, 'aborting', 'rolling-back'];
/** The phases the newest migration allows: a test checks it matches the engine's PHASES. */
export const STORED_PHASES: readonly string[] = V2_PHASES;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'deployments, journal, routing, leases, releases, audit',
    sql: `
      CREATE TABLE deployments (
        id             TEXT PRIMARY KEY,
        app            TEXT NOT NULL,
        release        TEXT NOT NULL,
        from_slot      TEXT CHECK (from_slot IN ('blue', 'green')),
        to_slot        TEXT NOT NULL CHECK (to_slot IN ('blue', 'green')),
        from_release   TEXT,
        phase          TEXT NOT NULL CHECK (phase IN (${phaseList})),
        step           INTEGER NOT NULL DEFAULT -1 CHECK (step >= -1),
        requested_by   TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        finished_at    INTEGER,
        reason_code    TEXT,
        reason_message TEXT,
        standby_until  INTEGER,
        drain_deadline INTEGER
      ) STRICT;
      CREATE INDEX deployments_by_app ON deployments (app, created_at);

      -- Append-only: rows are inserted, never updated or deleted.
      CREATE TABLE journal (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id TEXT NOT NULL REFERENCES deployments (id),
        phase         TEXT NOT NULL CHECK (phase IN (${phaseList})),
        at            INTEGER NOT NULL,
        data          TEXT NOT NULL CHECK (json_valid(data))
      ) STRICT;
      CREATE INDEX journal_by_deployment ON journal (deployment_id, seq);
      CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
      CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

      CREATE TABLE routing (
        app          TEXT PRIMARY KEY,
        live_slot    TEXT CHECK (live_slot IN ('blue', 'green')),
        weight_blue  REAL NOT NULL,
        weight_green REAL NOT NULL,
        targets      TEXT NOT NULL CHECK (json_valid(targets)),
        releases     TEXT NOT NULL CHECK (json_valid(releases)),
        updated_at   INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE leases (
        app         TEXT PRIMARY KEY,
        owner       TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE releases (
        app               TEXT NOT NULL,
        release           TEXT NOT NULL,
        first_deployed_at INTEGER NOT NULL,
        last_deployed_at  INTEGER NOT NULL,
        PRIMARY KEY (app, release)
      ) STRICT;

      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        app     TEXT NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
        details TEXT NOT NULL CHECK (json_valid(details))
      ) STRICT;
      CREATE INDEX audit_by_app ON audit (app, id);
    `,
  },
  {
    version: 2,
    description: 'phases aborting and rolling-back (intent before the traffic moves back)',
    // SQLite cannot alter a CHECK constraint: both tables are rebuilt (foreign keys are off
    // while migrating, see migrate()) and their indexes and triggers created again.
    sql: `
      CREATE TABLE deployments_v2 (
        id             TEXT PRIMARY KEY,
        app            TEXT NOT NULL,
        release        TEXT NOT NULL,
        from_slot      TEXT CHECK (from_slot IN ('blue', 'green')),
        to_slot        TEXT NOT NULL CHECK (to_slot IN ('blue', 'green')),
        from_release   TEXT,
        phase          TEXT NOT NULL CHECK (phase IN (${sqlList(V2_PHASES)})),
        step           INTEGER NOT NULL DEFAULT -1 CHECK (step >= -1),
        requested_by   TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        finished_at    INTEGER,
        reason_code    TEXT,
        reason_message TEXT,
        standby_until  INTEGER,
        drain_deadline INTEGER
      ) STRICT;
      INSERT INTO deployments_v2 SELECT * FROM deployments;
      DROP TABLE deployments;
      ALTER TABLE deployments_v2 RENAME TO deployments;
      CREATE INDEX deployments_by_app ON deployments (app, created_at);

      CREATE TABLE journal_v2 (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id TEXT NOT NULL REFERENCES deployments (id),
        phase         TEXT NOT NULL CHECK (phase IN (${sqlList(V2_PHASES)})),
        at            INTEGER NOT NULL,
        data          TEXT NOT NULL CHECK (json_valid(data))
      ) STRICT;
      INSERT INTO journal_v2 SELECT * FROM journal;
      DROP TABLE journal;
      ALTER TABLE journal_v2 RENAME TO journal;
      CREATE INDEX journal_by_deployment ON journal (deployment_id, seq);
      CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
      CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    `,
  },
  {
    version: 3,
    description: 'routing endpoints (a group standing for a slot) and the read-back of the last move',
    sql: `
      ALTER TABLE routing ADD COLUMN endpoints TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(endpoints));
      ALTER TABLE routing ADD COLUMN read_back TEXT CHECK (read_back IS NULL OR json_valid(read_back));
    `,
  },
  {
    version: 4,
    description: 'the bake period after promotion, and the analysis verdict behind a failure',
    sql: `
      ALTER TABLE deployments ADD COLUMN bake_until INTEGER;
      ALTER TABLE deployments ADD COLUMN reason_analysis TEXT
        CHECK (reason_analysis IS NULL OR json_valid(reason_analysis));
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to SCHEMA_VERSION in one IMMEDIATE transaction (re-reading the version
 * inside it), so two processes opening the same new file at once apply each migration exactly
 * once. Refuses a file written by a newer cutover rather than guessing at its schema.
 */
export function migrate(db: Database.Database, file: string): void {
  // Up to date (the common case): no write lock, so opening never waits on a busy writer.
  if (schemaVersion(db, file) === SCHEMA_VERSION) return;
  // A table rebuild drops a table other rows refer to: foreign keys are checked once, at the
  // end, instead (the pragma is a no-op inside a transaction, so it is set around it).
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      const current = schemaVersion(db, file);
      for (const migration of MIGRATIONS) {
        if (migration.version <= current) continue;
        db.exec(migration.sql);
        db.pragma(`user_version = ${migration.version}`);
      }
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`${broken.length} rows refer to missing deployments`);
    }).immediate();
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys === 1 ? 'ON' : 'OFF'}`);
  }
}

function schemaVersion(db: Database.Database, file: string): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new CutoverError(
      'CUTOVER_E_STORE',
      `store schema version ${current} is newer than this cutover understands (${SCHEMA_VERSION}): upgrade cutover (file ${file})`,
      { details: { file, schemaVersion: current, supported: SCHEMA_VERSION } },
    );
  }
  return current;
}
