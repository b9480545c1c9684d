/**
 * Migration 2 adds the intent phases `aborting` and `rolling-back` to a store written by the
 * previous version: rows, journal and its append-only guard survive the table rebuild.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { PHASES } from '../../src/shared/phase.js';
import { MIGRATIONS, STORED_PHASES } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'cutover-phase-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('phase migration', () => {
  void test('the newest migration allows exactly the phases of the state machine', () => {
    assert.deepEqual([...STORED_PHASES].sort(), [...PHASES].sort());
  });

  void test('a version 1 store with deployments and journal migrates and accepts the intent phases', async () => {
    const file = join(dir, 'v1.db');
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!.sql);
    raw.pragma('user_version = 1');
    raw.exec(`
      INSERT INTO deployments (id, app, release, from_slot, to_slot, from_release, phase, step, requested_by, created_at, updated_at)
        VALUES ('d-1', 'shop', 'v2', 'blue', 'green', 'v1', 'standby', 0, 'ana', 1, 2);
      INSERT INTO journal (deployment_id, phase, at, data) VALUES ('d-1', 'pending', 1, '{}');
      INSERT INTO journal (deployment_id, phase, at, data) VALUES ('d-1', 'standby', 2, '{}');
    `);
    raw.close();

    const store = openSqliteStore(file);
    try {
      assert.equal((await store.getDeployment('d-1'))?.phase, 'standby');
      assert.deepEqual(
        (await store.journal('d-1')).map((entry) => [entry.seq, entry.phase]),
        [
          [1, 'pending'],
          [2, 'standby'],
        ],
      );
      assert.equal(
        (await store.transition('d-1', { expectedPhase: 'standby', to: 'rolling-back' })).phase,
        'rolling-back',
      );
      assert.equal(
        (await store.transition('d-1', { expectedPhase: 'rolling-back', to: 'rolled-back' })).phase,
        'rolled-back',
      );
      assert.deepEqual(
        (await store.journal('d-1')).map((entry) => entry.seq),
        [1, 2, 3, 4],
        'journal numbering goes on',
      );
    } finally {
      await store.close();
    }
    const check = new Database(file);
    try {
      assert.equal(check.pragma('user_version', { simple: true }), MIGRATIONS.length);
      assert.throws(() => check.exec("UPDATE journal SET phase = 'aborted'"), /append-only/);
      assert.throws(() => check.exec('DELETE FROM journal'), /append-only/);
      assert.deepEqual(check.pragma('foreign_key_check'), []);
    } finally {
      check.close();
    }
  });
});
