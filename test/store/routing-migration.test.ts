/**
 * Migration 3 adds each slot's endpoint and the read-back of the last move to the routing of a
 * store written by the previous version: the row it had reads back unchanged, without either.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'cutover-routing-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('routing migration', () => {
  void test('a version 2 routing row migrates with no endpoints and no read-back, then takes both', async () => {
    const file = join(dir, 'v2.db');
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!.sql);
    raw.exec(MIGRATIONS[1]!.sql);
    raw.pragma('user_version = 2');
    raw.exec(`
      INSERT INTO routing (app, live_slot, weight_blue, weight_green, targets, releases, updated_at)
        VALUES ('shop', 'blue', 100, 0, '{"blue":[{"id":"b0","host":"127.0.0.1","port":4000}],"green":[]}', '{"blue":"v1"}', 5);
    `);
    raw.close();

    const store = openSqliteStore(file);
    try {
      const routing = await store.getRouting('shop');
      assert.deepEqual(
        { ...routing, updatedAt: undefined },
        {
          app: 'shop',
          liveSlot: 'blue',
          weights: { blue: 100, green: 0 },
          targets: { blue: [{ id: 'b0', host: '127.0.0.1', port: 4000 }], green: [] },
          releases: { blue: 'v1' },
          updatedAt: undefined,
        },
      );
      const endpoints = { blue: { kind: 'aws-asg', id: 'shop-blue' } };
      await store.setRouting({
        ...routing!,
        endpoints,
        readBack: { kind: 'verified', at: routing!.updatedAt },
      });
      assert.deepEqual((await store.getRouting('shop'))?.endpoints, endpoints);
      assert.deepEqual((await store.getRouting('shop'))?.readBack, {
        kind: 'verified',
        at: routing!.updatedAt,
      });
    } finally {
      await store.close();
    }
  });
});
