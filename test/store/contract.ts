/**
 * The Store contract: every store (SQLite now, Postgres later) runs these cases against the
 * real thing. A store's test file calls
 *
 *   runStoreContract({ name: 'sqlite', setup: () => startSqliteSubject() });
 *
 * and gets one `describe` block. The subject owns the backing (files, a database server):
 *
 * - `open(name, options)`: a store over the backing called `name`. The same name opens the same
 *   data again (another connection, as a second process would, or a restart after close());
 *   a new name is an empty store. `options.now` stamps the store's writes.
 * - `teardown()`: close what is left and remove the backing.
 *
 * The store journals what the engine decided; which phase may follow which is the engine's rule
 * (src/engine/transitions.ts), so these cases only check the compare-and-set on the phase read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { isCutoverError, type ErrorCode } from '../../src/shared/errors.js';
import type { Phase } from '../../src/shared/phase.js';
import type { NewDeployment, RoutingState, Store } from '../../src/shared/store.js';

export interface StoreOpenOptions {
  readonly now?: () => Date;
}

export interface StoreContractSubject {
  open(name: string, options?: StoreOpenOptions): Promise<Store>;
  teardown(): Promise<void>;
}

export interface StoreContractOptions {
  readonly name: string;
  readonly setup: () => Promise<StoreContractSubject>;
}

const HAPPY_PATH: readonly Phase[] = [
  'pending',
  'provisioning',
  'verifying',
  'awaiting-promotion',
  'shifting',
  'promoted',
  'draining',
  'standby',
  'retired',
];

/** How many deployments the concurrent-writer cases race over. */
const RACES = 25;

export function newDeployment(id: string, app = 'shop'): NewDeployment {
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

/** Rejects with a CutoverError of `code` whose message matches `message` (when given). */
export async function rejectsWith(work: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(work, (error) => {
    assert.ok(isCutoverError(error), `a CutoverError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

export function runStoreContract({ name, setup }: StoreContractOptions): void {
  void describe(`store contract: ${name}`, () => {
    let subject: StoreContractSubject;
    let counter = 0;
    before(async () => {
      subject = await setup();
    });
    after(async () => {
      await subject.teardown();
    });
    const fresh = (options?: StoreOpenOptions): Promise<Store> => {
      counter += 1;
      return subject.open(`contract-${counter}`, options);
    };
    /** Walks `id` from pending along the happy path up to `until`. */
    const walk = async (store: Store, id: string, until: Phase): Promise<void> => {
      for (let index = 1; index < HAPPY_PATH.length; index += 1) {
        const to = HAPPY_PATH[index]!;
        await store.transition(id, { expectedPhase: HAPPY_PATH[index - 1]!, to });
        if (to === until) return;
      }
    };

    void describe('deployments and journal', () => {
      void it('create journals pending and returns the record as read back', async () => {
        const store = await fresh();
        const created = await store.createDeployment(newDeployment('d-1'));
        assert.equal(created.phase, 'pending');
        assert.equal(created.step, -1);
        assert.equal(created.fromSlot, 'blue');
        assert.equal(created.toSlot, 'green');
        assert.equal(created.finishedAt, null);
        assert.equal(created.reason, null);
        assert.deepEqual(await store.getDeployment('d-1'), created);
        const journal = await store.journal('d-1');
        assert.deepEqual(
          journal.map((entry) => [entry.phase, entry.data.release]),
          [['pending', 'v2']],
        );
      });

      void it('a first deploy has no from slot or release', async () => {
        const store = await fresh();
        const created = await store.createDeployment({
          ...newDeployment('d-1'),
          fromSlot: null,
          fromRelease: null,
        });
        assert.equal(created.fromSlot, null);
        assert.equal(created.fromRelease, null);
      });

      void it('creating the same id twice is refused and journals nothing more', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        await rejectsWith(
          store.createDeployment(newDeployment('d-1')),
          'CUTOVER_E_INVALID_STATE',
          /d-1 already exists/,
        );
        assert.equal((await store.journal('d-1')).length, 1);
      });

      void it('each transition is journaled with its data, in order; terminal sets finishedAt', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        for (let index = 1; index < HAPPY_PATH.length; index += 1) {
          const to = HAPPY_PATH[index]!;
          const record = await store.transition('d-1', {
            expectedPhase: HAPPY_PATH[index - 1]!,
            to,
            data: { index },
          });
          assert.equal(record.phase, to);
          assert.equal(record.finishedAt === null, to !== 'retired', `finishedAt after ${to}`);
          assert.deepEqual(await store.getDeployment('d-1'), record);
        }
        const journal = await store.journal('d-1');
        assert.deepEqual(
          journal.map((entry) => entry.phase),
          HAPPY_PATH,
        );
        assert.deepEqual(
          journal.slice(1).map((entry) => entry.data.index),
          HAPPY_PATH.slice(1).map((_, index) => index + 1),
        );
        const seqs = journal.map((entry) => entry.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        assert.deepEqual(await store.unfinishedDeployments('shop'), []);
      });

      void it('compare-and-set: a transition from a phase the record has left is refused and writes nothing', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        await walk(store, 'd-1', 'shifting');
        const aborting = await store.transition('d-1', {
          expectedPhase: 'shifting',
          to: 'aborting',
          patch: { reason: { code: 'CUTOVER_E_ABORTED', message: 'aborted by bob' } },
        });
        const before = await store.journal('d-1');
        // The run read `shifting` before the abort landed; its `promoted` must not overwrite it.
        await rejectsWith(
          store.transition('d-1', { expectedPhase: 'shifting', to: 'promoted' }),
          'CUTOVER_E_PHASE_CHANGED',
          /d-1 is aborting, no longer shifting/,
        );
        assert.deepEqual(await store.journal('d-1'), before);
        assert.deepEqual(await store.getDeployment('d-1'), aborting);
      });

      void it('the store journals any move it is asked (the rules are the engine’s), from the phase expected', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        const moved = await store.transition('d-1', { expectedPhase: 'pending', to: 'standby' });
        assert.equal(moved.phase, 'standby');
      });

      void it('re-entering the same phase journals again; a terminal one keeps the first finishedAt', async () => {
        let now = Date.parse('2026-01-01T00:00:00.000Z');
        const store = await fresh({ now: () => new Date(now) });
        await store.createDeployment(newDeployment('d-1'));
        await store.transition('d-1', { expectedPhase: 'pending', to: 'aborting', data: { attempt: 1 } });
        await store.transition('d-1', { expectedPhase: 'aborting', to: 'aborting', data: { attempt: 2 } });
        const aborted = await store.transition('d-1', { expectedPhase: 'aborting', to: 'aborted' });
        assert.equal(aborted.finishedAt, '2026-01-01T00:00:00.000Z');
        now += 60_000;
        const again = await store.transition('d-1', { expectedPhase: 'aborted', to: 'aborted' });
        assert.equal(again.finishedAt, '2026-01-01T00:00:00.000Z');
        assert.equal(again.updatedAt, '2026-01-01T00:01:00.000Z');
        assert.deepEqual(
          (await store.journal('d-1')).map((entry) => [entry.phase, entry.data.attempt]),
          [
            ['pending', undefined],
            ['aborting', 1],
            ['aborting', 2],
            ['aborted', undefined],
            ['aborted', undefined],
          ],
        );
      });

      void it('update keeps the phase, journals a step of it; patch fields round-trip and absent ones stay', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        await walk(store, 'd-1', 'shifting');
        const stepped = await store.update('d-1', { step: 2 }, { weights: { blue: 50, green: 50 } });
        assert.equal(stepped.phase, 'shifting');
        assert.equal(stepped.step, 2);
        const last = (await store.journal('d-1')).at(-1);
        assert.equal(last?.phase, 'shifting');
        assert.deepEqual(last?.data, { weights: { blue: 50, green: 50 } });

        await store.transition('d-1', { expectedPhase: 'shifting', to: 'promoted' });
        const draining = await store.transition('d-1', {
          expectedPhase: 'promoted',
          to: 'draining',
          patch: { drainDeadline: '2026-01-01T00:00:30.000Z' },
        });
        assert.equal(draining.drainDeadline, '2026-01-01T00:00:30.000Z');
        const standby = await store.transition('d-1', {
          expectedPhase: 'draining',
          to: 'standby',
          patch: { standbyUntil: '2026-01-01T01:00:00.000Z' },
        });
        assert.equal(standby.standbyUntil, '2026-01-01T01:00:00.000Z');
        assert.equal(standby.drainDeadline, '2026-01-01T00:00:30.000Z', 'fields not in the patch are kept');
        const reason = { code: 'CUTOVER_E_LEASE_LOST', message: 'lost it' };
        assert.deepEqual((await store.update('d-1', { reason })).reason, reason);
        const cleared = await store.update('d-1', { drainDeadline: null, reason: null });
        assert.equal(cleared.drainDeadline, null);
        assert.equal(cleared.reason, null);
        assert.equal(cleared.phase, 'standby');
      });

      void it('the bake end and the analysis verdict behind a rollback round-trip', async () => {
        const store = await fresh();
        const created = await store.createDeployment(newDeployment('d-1'));
        assert.equal(created.bakeUntil, null);
        await walk(store, 'd-1', 'promoted');
        const baking = await store.update('d-1', { bakeUntil: '2026-01-01T00:10:00.000Z' }, { bake: {} });
        assert.equal(baking.bakeUntil, '2026-01-01T00:10:00.000Z');
        const analysis = {
          verdict: 'fail',
          provider: 'alarms',
          measure: 'alarm state',
          observed: 'ALARM',
          threshold: 'not ALARM',
          subject: 'api-5xx',
          reason: 'alarm api-5xx is in ALARM: "quoted", ünïcode',
        } as const;
        const reason = { code: 'CUTOVER_E_ANALYSIS', message: 'rolled back', analysis };
        const rolling = await store.transition('d-1', {
          expectedPhase: 'promoted',
          to: 'rolling-back',
          patch: { reason },
        });
        assert.deepEqual(rolling.reason, reason);
        assert.equal(rolling.bakeUntil, '2026-01-01T00:10:00.000Z', 'kept when not in the patch');
        assert.deepEqual((await store.getDeployment('d-1'))?.reason, reason);
        const plain = { code: 'CUTOVER_E_ABORTED', message: 'by hand' };
        assert.deepEqual(
          (await store.update('d-1', { reason: plain })).reason,
          plain,
          'a new reason drops the old verdict',
        );
      });

      void it('write-ahead: a transition the store cannot apply leaves neither journal entry nor phase', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        const before = await store.getDeployment('d-1');
        // A step below -1 is not a step: the record refuses it after the journal entry is written.
        await assert.rejects(
          store.transition('d-1', { expectedPhase: 'pending', to: 'provisioning', patch: { step: -5 } }),
          (error) => isCutoverError(error),
        );
        await assert.rejects(
          store.transition('d-1', {
            expectedPhase: 'pending',
            to: 'provisioning',
            patch: { standbyUntil: 'tomorrow-ish' },
          }),
          (error) => isCutoverError(error),
        );
        assert.equal((await store.journal('d-1')).length, 1);
        assert.deepEqual(await store.getDeployment('d-1'), before);
      });

      void it('an unknown id is CUTOVER_E_NOT_FOUND for writes, undefined or empty for reads', async () => {
        const store = await fresh();
        assert.equal(await store.getDeployment('d-nope'), undefined);
        await rejectsWith(
          store.transition('d-nope', { expectedPhase: 'pending', to: 'provisioning' }),
          'CUTOVER_E_NOT_FOUND',
          /d-nope/,
        );
        await rejectsWith(store.update('d-nope', { step: 1 }), 'CUTOVER_E_NOT_FOUND');
        assert.deepEqual(await store.journal('d-nope'), []);
      });

      void it('unfinished (oldest first) and listing (newest first, limit) per app', async () => {
        let now = Date.parse('2026-01-01T00:00:00.000Z');
        const store = await fresh({ now: () => new Date((now += 1000)) });
        await store.createDeployment(newDeployment('d-1'));
        await store.transition('d-1', { expectedPhase: 'pending', to: 'aborted' });
        await store.createDeployment(newDeployment('d-2'));
        await store.createDeployment(newDeployment('d-3'));
        await store.createDeployment(newDeployment('d-other', 'blog'));
        const ids = (records: { id: string }[]): string[] => records.map((record) => record.id);
        assert.deepEqual(ids(await store.unfinishedDeployments('shop')), ['d-2', 'd-3']);
        assert.deepEqual(ids(await store.listDeployments('shop')), ['d-3', 'd-2', 'd-1']);
        assert.deepEqual(ids(await store.listDeployments('shop', 2)), ['d-3', 'd-2']);
        assert.deepEqual(ids(await store.listDeployments('blog')), ['d-other']);
      });
    });

    void describe('routing', () => {
      void it('round-trips weights, targets and releases exactly; a second write replaces the first', async () => {
        const store = await fresh();
        assert.equal(await store.getRouting('shop'), undefined);
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
        const written = await store.setRouting(state);
        const read = await store.getRouting('shop');
        assert.deepEqual(read, written);
        assert.deepEqual({ ...read, updatedAt: undefined }, { ...state, updatedAt: undefined });

        await store.setRouting({
          app: 'shop',
          liveSlot: null,
          weights: { blue: 0, green: 100 },
          targets: { blue: [], green: [] },
          releases: {},
        });
        const replaced = await store.getRouting('shop');
        assert.equal(replaced?.liveSlot, null);
        assert.deepEqual(replaced?.weights, { blue: 0, green: 100 });
        assert.deepEqual(replaced?.targets, { blue: [], green: [] });
        assert.deepEqual(replaced?.releases, {});
        assert.equal(await store.getRouting('blog'), undefined);
      });

      void it('round-trips each slot endpoint and every kind of read-back of the last move', async () => {
        const store = await fresh();
        const state: Omit<RoutingState, 'updatedAt'> = {
          app: 'shop',
          liveSlot: 'green',
          weights: { blue: 0, green: 100 },
          targets: { blue: [], green: [{ id: 'i-0abc', host: '10.0.0.7', port: 8080 }] },
          releases: { green: 'v2' },
          endpoints: { green: { kind: 'aws-asg', id: 'shop-green', details: { region: 'eu-west-1' } } },
        };
        const at = '2026-01-01T00:00:00.000Z';
        const readBacks: RoutingState['readBack'][] = [
          { kind: 'pending', since: at },
          { kind: 'converging', seen: 'blue 10% / green 90%', since: at },
          { kind: 'verified', at },
          { kind: 'unverifiable', reason: 'no read-back', at },
        ];
        for (const readBack of readBacks) {
          const written = await store.setRouting({ ...state, readBack });
          assert.deepEqual(await store.getRouting('shop'), written);
          assert.deepEqual(
            { ...(await store.getRouting('shop')), updatedAt: undefined },
            {
              ...state,
              readBack,
              updatedAt: undefined,
            },
          );
        }
        await store.setRouting({ ...state, endpoints: {} });
        const replaced = await store.getRouting('shop');
        assert.equal(replaced?.endpoints, undefined, 'no slot has an endpoint any more');
        assert.equal(replaced?.readBack, undefined, 'no read-back recorded');
      });
    });

    void describe('leases', () => {
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      const at = (ms: number): Date => new Date(t0.getTime() + ms);

      void it('acquire, refuse another owner naming the holder, renew by the same owner', async () => {
        const store = await fresh();
        assert.deepEqual(await store.acquireLease('shop', 'server-1', 30_000, t0), {
          acquired: true,
          lease: {
            app: 'shop',
            owner: 'server-1',
            acquiredAt: t0.toISOString(),
            expiresAt: at(30_000).toISOString(),
          },
        });
        const refused = await store.acquireLease('shop', 'cli-2', 30_000, at(10_000));
        assert.equal(refused.acquired ? 'acquired' : refused.holder.owner, 'server-1');

        const again = await store.acquireLease('shop', 'server-1', 30_000, at(20_000));
        assert.ok(again.acquired);
        assert.equal(
          again.lease.acquiredAt,
          t0.toISOString(),
          'taking it again keeps when it was first taken',
        );
        assert.equal(again.lease.expiresAt, at(50_000).toISOString());
        assert.equal(await store.renewLease('shop', 'server-1', 30_000, at(25_000)), true);
        assert.equal((await store.getLease('shop'))?.expiresAt, at(55_000).toISOString());
        assert.equal(await store.getLease('blog'), undefined);
      });

      void it('expiry lets another owner take it; the old owner can then neither renew nor release it', async () => {
        const store = await fresh();
        assert.ok((await store.acquireLease('shop', 'crashed', 30_000, t0)).acquired);
        assert.equal((await store.acquireLease('shop', 'next', 30_000, at(29_999))).acquired, false);
        const taken = await store.acquireLease('shop', 'next', 30_000, at(30_000));
        assert.ok(taken.acquired, 'expiresAt <= now means free');
        assert.equal(taken.lease.acquiredAt, at(30_000).toISOString());

        assert.equal(await store.renewLease('shop', 'crashed', 30_000, at(31_000)), false);
        await store.releaseLease('shop', 'crashed');
        assert.equal((await store.getLease('shop'))?.owner, 'next');

        assert.equal(await store.renewLease('shop', 'next', 30_000, at(40_000)), true);
        assert.equal((await store.getLease('shop'))?.expiresAt, at(70_000).toISOString());
        await store.releaseLease('shop', 'next');
        assert.equal(await store.getLease('shop'), undefined);
        assert.equal(await store.renewLease('shop', 'next', 30_000, at(41_000)), false);
        assert.ok((await store.acquireLease('shop', 'anyone', 30_000, at(41_000))).acquired);
      });

      void it('a ttl that is not a positive whole number of ms is refused before anything is written', async () => {
        const store = await fresh();
        for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await rejectsWith(store.acquireLease('shop', 'me', ttl, t0), 'CUTOVER_E_INTERNAL');
        }
        assert.equal(await store.getLease('shop'), undefined);
        assert.ok((await store.acquireLease('shop', 'me', 1000, t0)).acquired);
        await rejectsWith(store.renewLease('shop', 'me', -5, t0), 'CUTOVER_E_INTERNAL');
        assert.equal((await store.getLease('shop'))?.expiresAt, at(1000).toISOString());
      });
    });

    void describe('releases and audit', () => {
      void it('recordRelease keeps first and last deploy times, newest first, per app', async () => {
        let now = Date.parse('2026-01-01T00:00:00.000Z');
        const store = await fresh({ now: () => new Date(now) });
        await store.recordRelease('shop', 'v1');
        now += 1000;
        await store.recordRelease('shop', 'v2');
        now += 1000;
        await store.recordRelease('shop', 'v1');
        await store.recordRelease('blog', 'b1');
        assert.deepEqual(await store.listReleases('shop'), [
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
        assert.deepEqual(await store.listReleases('none'), []);
      });

      void it('audit log per app, newest first, details round-trip, limit', async () => {
        const store = await fresh({ now: () => new Date('2026-01-01T00:00:00.000Z') });
        const entry = { action: 'deploy', target: 'v2' };
        await store.audit({ ...entry, app: 'shop', actor: 'alice', outcome: 'ok', details: { id: 'd-1' } });
        await store.audit({
          ...entry,
          app: 'shop',
          actor: 'bob',
          outcome: 'refused',
          details: { holder: 'alice' },
        });
        await store.audit({ ...entry, app: 'blog', actor: 'carol', outcome: 'failed', details: {} });
        const log = await store.auditLog('shop');
        assert.deepEqual(
          log.map((item) => [item.actor, item.outcome, item.details]),
          [
            ['bob', 'refused', { holder: 'alice' }],
            ['alice', 'ok', { id: 'd-1' }],
          ],
        );
        assert.equal(log[0]?.at, '2026-01-01T00:00:00.000Z');
        assert.ok((log[0]?.id ?? 0) > (log[1]?.id ?? 0));
        assert.equal((await store.auditLog('shop', 1)).length, 1);
        assert.equal((await store.auditLog('blog'))[0]?.actor, 'carol');
      });
    });

    void describe('concurrent writers on one backing', () => {
      void it('two stores see each other’s writes at once', async () => {
        const name = `shared-${(counter += 1)}`;
        const server = await subject.open(name);
        const cli = await subject.open(name);
        await cli.createDeployment(newDeployment('d-1'));
        assert.equal((await server.getDeployment('d-1'))?.phase, 'pending');
        await server.transition('d-1', { expectedPhase: 'pending', to: 'provisioning' });
        assert.equal((await cli.getDeployment('d-1'))?.phase, 'provisioning');
        assert.equal((await cli.journal('d-1')).length, 2);
        await server.setRouting({
          app: 'shop',
          liveSlot: 'blue',
          weights: { blue: 100, green: 0 },
          targets: { blue: [], green: [] },
          releases: {},
        });
        assert.equal((await cli.getRouting('shop'))?.liveSlot, 'blue');
      });

      void it('racing the same transition: exactly one writer wins each deployment, the other is refused', async () => {
        const name = `race-${(counter += 1)}`;
        const one = await subject.open(name);
        const two = await subject.open(name);
        for (let n = 0; n < RACES; n += 1) await one.createDeployment(newDeployment(`d-${n}`));
        // Each deployment: one store aborts it while the other starts provisioning it.
        const outcomes = await Promise.allSettled(
          Array.from({ length: RACES }, (_, n) => [
            one.transition(`d-${n}`, { expectedPhase: 'pending', to: 'aborting' }),
            two.transition(`d-${n}`, { expectedPhase: 'pending', to: 'provisioning' }),
          ]).flat(),
        );
        for (let n = 0; n < RACES; n += 1) {
          const pair = outcomes.slice(n * 2, n * 2 + 2);
          const won = pair.filter((outcome) => outcome.status === 'fulfilled');
          assert.equal(won.length, 1, `d-${n}: one writer wins`);
          const lost = pair.find((outcome) => outcome.status === 'rejected');
          assert.ok(
            lost?.status === 'rejected' && isCutoverError(lost.reason, 'CUTOVER_E_PHASE_CHANGED'),
            `d-${n}: the other is told the phase changed`,
          );
          const record = await two.getDeployment(`d-${n}`);
          const journal = await one.journal(`d-${n}`);
          assert.equal(journal.length, 2, `d-${n}: one journal entry per write that happened`);
          assert.equal(journal.at(-1)?.phase, record?.phase);
        }
      });

      void it('racing for the lease and for one deployment id: one winner each', async () => {
        const name = `lease-race-${(counter += 1)}`;
        const stores = [await subject.open(name), await subject.open(name)];
        const leases = await Promise.all(
          Array.from({ length: 10 }, (_, n) => stores[n % 2]!.acquireLease('shop', `owner-${n}`, 30_000)),
        );
        const winners = leases.filter((result) => result.acquired);
        assert.equal(winners.length, 1);
        const holder = winners[0]?.acquired ? winners[0].lease.owner : '';
        for (const result of leases) {
          if (!result.acquired) assert.equal(result.holder.owner, holder, 'every loser names the one holder');
        }
        const creates = await Promise.allSettled(
          stores.map((store) => store.createDeployment(newDeployment('d-1'))),
        );
        assert.equal(creates.filter((outcome) => outcome.status === 'fulfilled').length, 1);
        assert.equal((await stores[1]!.journal('d-1')).length, 1);
      });
    });

    void describe('lifecycle', () => {
      void it('close is safe twice; every call after close rejects with CUTOVER_E_STORE', async () => {
        const store = await fresh();
        await store.createDeployment(newDeployment('d-1'));
        await store.close();
        await store.close();
        await rejectsWith(store.getDeployment('d-1'), 'CUTOVER_E_STORE', /closed/);
        await rejectsWith(
          store.transition('d-1', { expectedPhase: 'pending', to: 'provisioning' }),
          'CUTOVER_E_STORE',
          /closed/,
        );
        await rejectsWith(store.renewLease('shop', 'me', 1000), 'CUTOVER_E_STORE', /closed/);
        await rejectsWith(
          store.audit({ app: 'shop', actor: 'a', action: 'b', target: 'c', outcome: 'ok', details: {} }),
          'CUTOVER_E_STORE',
          /closed/,
        );
      });

      void it('opening the same backing again keeps everything', async () => {
        const name = `reopen-${(counter += 1)}`;
        const first = await subject.open(name);
        await first.createDeployment(newDeployment('d-1'));
        await first.transition('d-1', { expectedPhase: 'pending', to: 'provisioning' });
        await first.acquireLease('shop', 'me', 60_000);
        await first.close();
        const second = await subject.open(name);
        assert.equal((await second.getDeployment('d-1'))?.phase, 'provisioning');
        assert.equal((await second.journal('d-1')).length, 2);
        assert.equal((await second.getLease('shop'))?.owner, 'me');
      });
    });
  });
}
