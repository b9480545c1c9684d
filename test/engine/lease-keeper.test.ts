/**
 * The LeaseKeeper's hand-over from an embedding process: a one-shot CLI holds the app lease
 * under its session owner while it reconciles, and the engine it runs takes that lease over for
 * a deployment instead of refusing it. Any other holder is still refused. Real SQLite store.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { LeaseKeeper } from '../../src/engine/lease-keeper.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/shared/store.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';

const APP = 'app';
const TIMING = { ttlMs: 30_000, renewEveryMs: 10_000 };

describe('LeaseKeeper taking over the lease its embedding process holds', () => {
  let dir: string;
  let store: Store;
  const processId = `cutover@${hostname()}:${process.pid}`;
  const session = `${processId} one-shot rollback`;
  const keepers: LeaseKeeper[] = [];
  const keeper = (adopt?: string): LeaseKeeper => {
    const made = new LeaseKeeper(APP, store, processId, silentLogger, () => new Date(), {
      ...TIMING,
      ...(adopt !== undefined ? { adopt } : {}),
    });
    keepers.push(made);
    return made;
  };

  before(async () => {
    dir = await makeTempDir('lease-keeper');
    store = openSqliteStore(path.join(dir, 'state.db'));
  });
  after(async () => {
    for (const made of keepers) await made.close();
    await store.close();
    await removeTempDir(dir);
  });

  it('a deployment takes over the session lease named as adoptable, leaving no gap', async () => {
    assert.equal((await store.acquireLease(APP, session, TIMING.ttlMs)).acquired, true);
    const result = await keeper(session).acquire('d-1');
    assert.equal(result.acquired, true);
    assert.equal((await store.getLease(APP))?.owner, `${processId} d-1`);
    assert.equal(await store.renewLease(APP, session, TIMING.ttlMs), false, 'the session no longer holds it');
    await store.releaseLease(APP, `${processId} d-1`);
  });

  it('without the hand-over, the same session lease refuses the deployment', async () => {
    assert.equal((await store.acquireLease(APP, session, TIMING.ttlMs)).acquired, true);
    const result = await keeper().acquire('d-2');
    assert.equal(result.acquired, false);
    assert.equal((await store.getLease(APP))?.owner, session);
    await store.releaseLease(APP, session);
  });

  it('a lease held by anyone else (another deployment of this process too) is still refused', async () => {
    const adopting = keeper(session);
    const other = `${processId} d-3`;
    assert.equal((await store.acquireLease(APP, other, TIMING.ttlMs)).acquired, true);
    const result = await adopting.acquire('d-4');
    assert.equal(result.acquired, false);
    assert.equal((await store.getLease(APP))?.owner, other);
    await store.releaseLease(APP, other);
  });
});
