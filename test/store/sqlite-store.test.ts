import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';

// What every store does is pinned by the Store contract (contract.ts, run for SQLite by
// sqlite-store.contract.test.ts); this file keeps what only the SQLite store has.
void describe('migrations', () => {
  void test('versions are 1..n in order, so user_version counts what was applied', () => {
    assert.deepEqual(
      MIGRATIONS.map((migration) => migration.version),
      MIGRATIONS.map((_, index) => index + 1),
    );
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  });
});
