/**
 * The LeaseKeeper's renewal loop against an asynchronous store: a renewal round never overlaps
 * the last one, a store error in it is logged and never escapes (the server keeps running), a
 * lease released while its renewal was on its way is not reported lost, and close() waits for
 * the renewal in flight so the store can close after it. Real SQLite store underneath; the
 * wrapper only holds a renewal back or fails it.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LeaseKeeper } from '../../src/engine/lease-keeper.js';
import { CutoverError } from '../../src/shared/errors.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import type { Store } from '../../src/shared/store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';
import { waitFor } from '../support/load.js';

const TIMING = { ttlMs: 30_000, renewEveryMs: 10 };
const processId = `cutover@${hostname()}:${process.pid}`;

/** The store, with renewLease held at a gate the test opens, or failing with a store error. */
class GatedRenewals {
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  failing = false;
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(private readonly real: Store) {}

  hold(): void {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  store(): Store {
    return Object.assign(Object.create(this.real) as Store, {
      renewLease: async (app: string, owner: string, ttlMs: number, now?: Date) => {
        this.calls += 1;
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          await this.gate?.promise;
          if (this.failing)
            throw new CutoverError('CUTOVER_E_STORE', 'cannot renew: database is locked (SQLITE_BUSY)');
          return await this.real.renewLease(app, owner, ttlMs, now);
        } finally {
          this.inFlight -= 1;
        }
      },
    });
  }
}

void describe('LeaseKeeper renewals', () => {
  let dir: string;
  let real: Store;
  const keepers: LeaseKeeper[] = [];
  const logs: LogRecord[] = [];
  const keeper = (store: Store): LeaseKeeper => {
    const logger = new Logger((record) => logs.push(record), 'debug');
    const made = new LeaseKeeper('app', store, processId, logger, () => new Date(), TIMING);
    keepers.push(made);
    return made;
  };

  before(async () => {
    dir = await makeTempDir('lease-renewal');
    real = openSqliteStore(path.join(dir, 'state.db'));
  });
  after(async () => {
    for (const made of keepers) await made.close();
    await real.close();
    await removeTempDir(dir);
  });

  void it('AStoreErrorWhileRenewing_IsLoggedAndTheLeaseIsKept', async () => {
    const gated = new GatedRenewals(real);
    gated.failing = true;
    const lease = keeper(gated.store());
    let lost = false;
    assert.ok((await lease.acquire('d-error', () => (lost = true))).acquired);
    await waitFor(() => gated.calls >= 3, { what: 'three failed renewals' });
    assert.ok(logs.some((record) => record.event === 'lease.renew-failed'));
    assert.equal(lost, false);
    assert.ok(lease.holds('d-error'), 'still ours until it expires or someone takes it');
    gated.failing = false;
    const before = gated.calls;
    await waitFor(() => gated.calls > before + 1, { what: 'renewals to go on' });
    await lease.release('d-error');
  });

  void it('ASlowRenewal_IsNeverOverlappedByTheNextRound', async () => {
    const gated = new GatedRenewals(real);
    const lease = keeper(gated.store());
    assert.ok((await lease.acquire('d-slow')).acquired);
    gated.hold();
    await waitFor(() => gated.inFlight === 1, { what: 'a renewal to wait on the store' });
    // Many ticks pass while the store answers nothing.
    await new Promise((resolve) => setTimeout(resolve, TIMING.renewEveryMs * 10));
    assert.equal(gated.calls, 1, 'no second round while the first waits');
    assert.equal(gated.maxInFlight, 1);
    gated.release();
    await waitFor(() => gated.calls >= 3, { what: 'renewals to go on' });
    assert.equal(gated.maxInFlight, 1);
    await lease.release('d-slow');
  });

  void it('ALeaseReleasedWhileItsRenewalWasOnItsWay_IsNotReportedLost', async () => {
    const gated = new GatedRenewals(real);
    const lease = keeper(gated.store());
    let lost = false;
    assert.ok((await lease.acquire('d-given-back', () => (lost = true))).acquired);
    gated.hold();
    await waitFor(() => gated.inFlight === 1, { what: 'a renewal to wait on the store' });
    await lease.release('d-given-back');
    gated.release();
    await waitFor(() => gated.inFlight === 0, { what: 'the renewal to land' });
    assert.equal(lost, false, 'given back, not lost');
    assert.ok(!logs.some((record) => record.event === 'lease.lost' && record.deployment === 'd-given-back'));
    assert.equal(await real.getLease('app'), undefined);
  });

  void it('Close_WaitsForTheRenewalInFlight', async () => {
    const gated = new GatedRenewals(real);
    const lease = keeper(gated.store());
    assert.ok((await lease.acquire('d-closing')).acquired);
    gated.hold();
    await waitFor(() => gated.inFlight === 1, { what: 'a renewal to wait on the store' });
    let closed = false;
    const closing = lease.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, TIMING.renewEveryMs * 5));
    assert.equal(closed, false, 'close() waits for the renewal');
    gated.release();
    await closing;
    assert.equal(gated.inFlight, 0);
    const calls = gated.calls;
    await new Promise((resolve) => setTimeout(resolve, TIMING.renewEveryMs * 5));
    assert.equal(gated.calls, calls, 'no renewal after close');
    await real.releaseLease('app', `${processId} d-closing`);
  });
});
