import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { isCutoverError } from '../../src/shared/errors.js';
import type { Phase } from '../../src/shared/phase.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { NewDeployment, Store } from '../../src/shared/store.js';

let dir: string;
const opened: Store[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-store-'));
});

after(() => {
  for (const store of opened) store.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileCounter = 0;
function freshStore(now?: () => Date): Store {
  fileCounter += 1;
  const store = openSqliteStore(join(dir, `nested-${fileCounter}`, 'state.db'), now ? { now } : {});
  opened.push(store);
  return store;
}

function newDeployment(id: string, app = 'shop'): NewDeployment {
  return {
    id,
    app,
    release: 'v2',
    fromSlot: 'blue',
    toSlot: 'green',
    fromRelease: 'v1',
    requestedBy: 'alice',
  };
}

const HAPPY_PATH: readonly Phase[] = [
  'provisioning',
  'verifying',
  'awaiting-promotion',
  'shifting',
  'promoted',
  'draining',
  'standby',
  'retired',
];

void describe('migrations', () => {
  void test('versions are 1..n in order, so user_version counts what was applied', () => {
    assert.deepEqual(
      MIGRATIONS.map((migration) => migration.version),
      MIGRATIONS.map((_, index) => index + 1),
    );
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  });
});

void describe('deployments and journal', () => {
  void test('create journals pending and returns the record', () => {
    const store = freshStore();
    const created = store.createDeployment(newDeployment('d-1'));
    assert.equal(created.phase, 'pending');
    assert.equal(created.step, -1);
    assert.equal(created.fromSlot, 'blue');
    assert.equal(created.toSlot, 'green');
    assert.equal(created.finishedAt, null);
    assert.equal(created.reason, null);
    assert.deepEqual(store.getDeployment('d-1'), created);
    const journal = store.journal('d-1');
    assert.equal(journal.length, 1);
    assert.equal(journal[0]?.phase, 'pending');
    assert.equal(journal[0]?.data.release, 'v2');
  });

  void test('a first deploy has no from slot or release', () => {
    const store = freshStore();
    const created = store.createDeployment({ ...newDeployment('d-1'), fromSlot: null, fromRelease: null });
    assert.equal(created.fromSlot, null);
    assert.equal(created.fromRelease, null);
  });

  void test('creating the same id twice is refused', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    assert.throws(
      () => store.createDeployment(newDeployment('d-1')),
      (error) => isCutoverError(error, 'CUTOVER_E_INVALID_STATE') && /d-1 already exists/.test(error.message),
    );
    assert.equal(store.journal('d-1').length, 1);
  });

  void test('walks the whole happy path; journal order follows it; terminal sets finishedAt', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    for (const [index, phase] of HAPPY_PATH.entries()) {
      const record = store.transition('d-1', phase, {}, { index });
      assert.equal(record.phase, phase);
      assert.equal(record.finishedAt === null, phase !== 'retired', `finishedAt after ${phase}`);
    }
    const journal = store.journal('d-1');
    assert.deepEqual(
      journal.map((entry) => entry.phase),
      ['pending', ...HAPPY_PATH],
    );
    assert.deepEqual(
      journal.slice(1).map((entry) => entry.data.index),
      HAPPY_PATH.map((_, index) => index),
    );
    const seqs = journal.map((entry) => entry.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.deepEqual(store.unfinishedDeployments('shop'), []);
  });

  void test('a forbidden transition is refused and writes nothing', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    store.transition('d-1', 'provisioning');
    store.transition('d-1', 'aborted', { reason: { code: 'CUTOVER_E_HEALTH', message: 'unhealthy' } });
    const before = store.journal('d-1').length;
    const record = store.getDeployment('d-1');
    assert.throws(
      () => store.transition('d-1', 'shifting'),
      (error) =>
        isCutoverError(error, 'CUTOVER_E_INVALID_STATE') &&
        error.message === 'deployment d-1 is aborted; cannot move to shifting',
    );
    assert.equal(store.journal('d-1').length, before);
    assert.deepEqual(store.getDeployment('d-1'), record);
    assert.deepEqual(record?.reason, { code: 'CUTOVER_E_HEALTH', message: 'unhealthy' });
  });

  void test('rollback only from promoted, draining or standby', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    assert.throws(
      () => store.transition('d-1', 'rolled-back'),
      (error) => isCutoverError(error, 'CUTOVER_E_INVALID_STATE'),
    );
    for (const phase of ['provisioning', 'verifying', 'shifting', 'promoted', 'draining'] as const) {
      store.transition('d-1', phase);
    }
    const rolledBack = store.transition('d-1', 'rolled-back', {
      reason: { code: 'CUTOVER_E_VERIFY', message: 'error rate' },
    });
    assert.equal(rolledBack.phase, 'rolled-back');
    assert.notEqual(rolledBack.finishedAt, null);
    assert.throws(
      () => store.transition('d-1', 'shifting'),
      (error) =>
        isCutoverError(error, 'CUTOVER_E_INVALID_STATE') &&
        /is rolled-back; cannot move to shifting/.test(error.message),
    );
  });

  void test('re-entering the same phase is allowed and journals again (idempotent resume)', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    store.transition('d-1', 'provisioning', {}, { attempt: 1 });
    const again = store.transition('d-1', 'provisioning', {}, { attempt: 2 });
    assert.equal(again.phase, 'provisioning');
    assert.deepEqual(
      store.journal('d-1').map((entry) => [entry.phase, entry.data.attempt]),
      [
        ['pending', undefined],
        ['provisioning', 1],
        ['provisioning', 2],
      ],
    );
  });

  void test('re-entering a terminal phase keeps the first finishedAt', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const store = freshStore(() => new Date(now));
    store.createDeployment(newDeployment('d-1'));
    const aborted = store.transition('d-1', 'aborted');
    assert.equal(aborted.finishedAt, '2026-01-01T00:00:00.000Z');
    now += 60_000;
    const again = store.transition('d-1', 'aborted');
    assert.equal(again.finishedAt, '2026-01-01T00:00:00.000Z');
    assert.equal(again.updatedAt, '2026-01-01T00:01:00.000Z');
  });

  void test('patch fields round-trip; update journals a step of the current phase', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    for (const phase of ['provisioning', 'verifying', 'shifting'] as const) store.transition('d-1', phase);
    const stepped = store.update('d-1', { step: 2 }, { weights: { blue: 50, green: 50 } });
    assert.equal(stepped.phase, 'shifting');
    assert.equal(stepped.step, 2);
    const last = store.journal('d-1').at(-1);
    assert.equal(last?.phase, 'shifting');
    assert.deepEqual(last?.data, { weights: { blue: 50, green: 50 } });

    store.transition('d-1', 'promoted');
    const draining = store.transition('d-1', 'draining', { drainDeadline: '2026-01-01T00:00:30.000Z' });
    assert.equal(draining.drainDeadline, '2026-01-01T00:00:30.000Z');
    const standby = store.transition('d-1', 'standby', { standbyUntil: '2026-01-01T01:00:00.000Z' });
    assert.equal(standby.standbyUntil, '2026-01-01T01:00:00.000Z');
    assert.equal(standby.drainDeadline, '2026-01-01T00:00:30.000Z', 'fields not in the patch are kept');
    const cleared = store.update('d-1', { drainDeadline: null });
    assert.equal(cleared.drainDeadline, null);
  });

  void test('a write that fails half-way leaves nothing behind (journal entry rolled back)', () => {
    const store = freshStore();
    store.createDeployment(newDeployment('d-1'));
    // The journal insert succeeds, then the deployment update breaks a CHECK constraint.
    assert.throws(
      () => store.transition('d-1', 'provisioning', { step: -5 }),
      (error) => isCutoverError(error, 'CUTOVER_E_STORE') && /CHECK constraint failed/.test(error.message),
    );
    assert.equal(store.journal('d-1').length, 1);
    assert.equal(store.getDeployment('d-1')?.phase, 'pending');
  });

  void test('unknown id is CUTOVER_E_NOT_FOUND', () => {
    const store = freshStore();
    assert.equal(store.getDeployment('d-nope'), undefined);
    assert.throws(
      () => store.transition('d-nope', 'provisioning'),
      (error) => isCutoverError(error, 'CUTOVER_E_NOT_FOUND') && /d-nope/.test(error.message),
    );
    assert.throws(
      () => store.update('d-nope', { step: 1 }),
      (error) => isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
    );
    assert.deepEqual(store.journal('d-nope'), []);
  });

  void test('unfinished (oldest first) and listing (newest first, limit) per app', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const store = freshStore(() => new Date((now += 1000)));
    store.createDeployment(newDeployment('d-1'));
    store.transition('d-1', 'aborted');
    store.createDeployment(newDeployment('d-2'));
    store.createDeployment(newDeployment('d-3'));
    store.createDeployment(newDeployment('d-other', 'blog'));
    assert.deepEqual(
      store.unfinishedDeployments('shop').map((d) => d.id),
      ['d-2', 'd-3'],
    );
    assert.deepEqual(
      store.listDeployments('shop').map((d) => d.id),
      ['d-3', 'd-2', 'd-1'],
    );
    assert.deepEqual(
      store.listDeployments('shop', 2).map((d) => d.id),
      ['d-3', 'd-2'],
    );
    assert.deepEqual(
      store.listDeployments('blog').map((d) => d.id),
      ['d-other'],
    );
  });
});

void describe('routing', () => {
  void test('round-trips weights, targets and releases exactly; upserts', () => {
    const store = freshStore();
    assert.equal(store.getRouting('shop'), undefined);
    const state = {
      app: 'shop',
      liveSlot: 'blue' as const,
      weights: { blue: 66.6, green: 33.4 },
      targets: {
        blue: [
          { id: 'blue-0', host: '127.0.0.1', port: 40001 },
          { id: 'blue-1', host: '::1', port: 40002 },
        ],
        green: [{ id: 'green-0', host: 'localhost', port: 40003 }],
      },
      releases: { blue: 'v1', green: 'v2' },
    };
    const written = store.setRouting(state);
    const read = store.getRouting('shop');
    assert.deepEqual(read, written);
    assert.deepEqual({ ...read, updatedAt: undefined }, { ...state, updatedAt: undefined });

    store.setRouting({
      app: 'shop',
      liveSlot: null,
      weights: { blue: 0, green: 100 },
      targets: { blue: [], green: [] },
      releases: {},
    });
    const replaced = store.getRouting('shop');
    assert.equal(replaced?.liveSlot, null);
    assert.deepEqual(replaced?.weights, { blue: 0, green: 100 });
    assert.deepEqual(replaced?.targets, { blue: [], green: [] });
    assert.deepEqual(replaced?.releases, {});
  });

  void test('round-trips each slot endpoint and the read-back of the last move', () => {
    const store = freshStore();
    const state = {
      app: 'shop',
      liveSlot: 'green' as const,
      weights: { blue: 0, green: 100 },
      targets: { blue: [], green: [{ id: 'i-0abc', host: '10.0.0.7', port: 8080 }] },
      releases: { green: 'v2' },
      endpoints: {
        green: { kind: 'aws-asg', id: 'shop-green', details: { region: 'eu-west-1' } },
      },
      readBack: { kind: 'unverifiable' as const, reason: 'no read-back', at: '2026-01-01T00:00:00.000Z' },
    };
    const written = store.setRouting(state);
    assert.deepEqual(store.getRouting('shop'), written);
    assert.deepEqual(
      { ...store.getRouting('shop'), updatedAt: undefined },
      { ...state, updatedAt: undefined },
    );
    store.setRouting({ ...state, endpoints: {}, readBack: { kind: 'pending', since: state.readBack.at } });
    const replaced = store.getRouting('shop');
    assert.equal(replaced?.endpoints, undefined, 'no slot has an endpoint any more');
    assert.deepEqual(replaced?.readBack, { kind: 'pending', since: state.readBack.at });
  });
});

void describe('leases', () => {
  const t0 = new Date('2026-01-01T00:00:00.000Z');
  const at = (ms: number): Date => new Date(t0.getTime() + ms);

  void test('acquire, refuse another owner naming the holder, renew by the same owner', () => {
    const store = freshStore();
    const first = store.acquireLease('shop', 'server-1', 30_000, t0);
    assert.deepEqual(first, {
      acquired: true,
      lease: {
        app: 'shop',
        owner: 'server-1',
        acquiredAt: t0.toISOString(),
        expiresAt: at(30_000).toISOString(),
      },
    });
    const refused = store.acquireLease('shop', 'cli-2', 30_000, at(10_000));
    assert.equal(refused.acquired, false);
    assert.equal(refused.acquired ? undefined : refused.holder.owner, 'server-1');

    const renewed = store.acquireLease('shop', 'server-1', 30_000, at(20_000));
    assert.ok(renewed.acquired);
    assert.equal(renewed.lease.acquiredAt, t0.toISOString(), 'renewal keeps when it was first taken');
    assert.equal(renewed.lease.expiresAt, at(50_000).toISOString());
    assert.deepEqual(store.getLease('shop'), renewed.lease);
    assert.equal(store.getLease('blog'), undefined);
  });

  void test('expiry lets another owner take it; the old owner can then neither renew nor release it', () => {
    const store = freshStore();
    assert.ok(store.acquireLease('shop', 'crashed', 30_000, t0).acquired);
    assert.equal(store.acquireLease('shop', 'next', 30_000, at(29_999)).acquired, false);
    const taken = store.acquireLease('shop', 'next', 30_000, at(30_000));
    assert.ok(taken.acquired, 'expires_at <= now means free');
    assert.equal(taken.lease.acquiredAt, at(30_000).toISOString());

    assert.equal(store.renewLease('shop', 'crashed', 30_000, at(31_000)), false);
    store.releaseLease('shop', 'crashed');
    assert.equal(store.getLease('shop')?.owner, 'next');

    assert.equal(store.renewLease('shop', 'next', 30_000, at(40_000)), true);
    assert.equal(store.getLease('shop')?.expiresAt, at(70_000).toISOString());
    store.releaseLease('shop', 'next');
    assert.equal(store.getLease('shop'), undefined);
    assert.equal(store.renewLease('shop', 'next', 30_000, at(41_000)), false);
    assert.ok(store.acquireLease('shop', 'anyone', 30_000, at(41_000)).acquired);
  });

  void test('a bad ttl is refused before anything is written', () => {
    const store = freshStore();
    for (const ttl of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => store.acquireLease('shop', 'me', ttl, t0),
        (error) => isCutoverError(error, 'CUTOVER_E_INTERNAL'),
      );
    }
    assert.equal(store.getLease('shop'), undefined);
  });
});

void describe('releases and audit', () => {
  void test('recordRelease keeps first and last deploy times, newest first', () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const store = freshStore(() => new Date(now));
    store.recordRelease('shop', 'v1');
    now += 1000;
    store.recordRelease('shop', 'v2');
    now += 1000;
    store.recordRelease('shop', 'v1');
    store.recordRelease('blog', 'b1');
    assert.deepEqual(store.listReleases('shop'), [
      {
        app: 'shop',
        release: 'v1',
        firstDeployedAt: '2026-01-01T00:00:00.000Z',
        lastDeployedAt: '2026-01-01T00:00:02.000Z',
      },
      {
        app: 'shop',
        release: 'v2',
        firstDeployedAt: '2026-01-01T00:00:01.000Z',
        lastDeployedAt: '2026-01-01T00:00:01.000Z',
      },
    ]);
  });

  void test('audit log per app, newest first, details round-trip, limit', () => {
    const store = freshStore(() => new Date('2026-01-01T00:00:00.000Z'));
    store.audit({
      app: 'shop',
      actor: 'alice',
      action: 'deploy',
      target: 'v2',
      outcome: 'ok',
      details: { id: 'd-1' },
    });
    store.audit({
      app: 'shop',
      actor: 'bob',
      action: 'deploy',
      target: 'v3',
      outcome: 'refused',
      details: { holder: 'alice' },
    });
    store.audit({
      app: 'blog',
      actor: 'carol',
      action: 'rollback',
      target: 'b1',
      outcome: 'failed',
      details: {},
    });
    const log = store.auditLog('shop');
    assert.deepEqual(
      log.map((entry) => [entry.actor, entry.outcome, entry.details]),
      [
        ['bob', 'refused', { holder: 'alice' }],
        ['alice', 'ok', { id: 'd-1' }],
      ],
    );
    assert.equal(log[0]?.at, '2026-01-01T00:00:00.000Z');
    assert.ok((log[0]?.id ?? 0) > (log[1]?.id ?? 0));
    assert.equal(store.auditLog('shop', 1).length, 1);
    assert.equal(store.auditLog('blog')[0]?.action, 'rollback');
  });
});

void describe('lifecycle', () => {
  void test('close is safe twice; use after close is CUTOVER_E_STORE', () => {
    const store = openSqliteStore(join(dir, 'closing', 'state.db'));
    store.close();
    store.close();
    assert.throws(
      () => store.getDeployment('d-1'),
      (error) => isCutoverError(error, 'CUTOVER_E_STORE') && /store is closed/.test(error.message),
    );
  });

  void test('reopening a file keeps everything', () => {
    const file = join(dir, 'reopen', 'state.db');
    const first = openSqliteStore(file);
    first.createDeployment(newDeployment('d-1'));
    first.transition('d-1', 'provisioning');
    first.close();
    const second = openSqliteStore(file);
    opened.push(second);
    assert.equal(second.getDeployment('d-1')?.phase, 'provisioning');
    assert.equal(second.journal('d-1').length, 2);
  });
});
