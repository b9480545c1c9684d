import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FreshRounds } from '../../src/shared/fresh-rounds.js';

/** A run per call of `run`, each ended by hand: what started when, and ending it. */
function manualRuns(): { rounds: FreshRounds; started: Array<{ end: (error?: Error) => void }> } {
  const started: Array<{ end: (error?: Error) => void }> = [];
  const rounds = new FreshRounds(
    () =>
      new Promise<void>((resolve, reject) => {
        started.push({ end: (error) => (error ? reject(error) : resolve()) });
      }),
  );
  return { rounds, started };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void describe('FreshRounds', () => {
  void it('a caller with nothing running starts a run and gets it', async () => {
    const { rounds, started } = manualRuns();
    let done = false;
    const call = rounds.next().then(() => (done = true));
    assert.equal(started.length, 1);
    await settled();
    assert.equal(done, false);
    started[0]!.end();
    await call;
    assert.equal(done, true);
  });

  void it('callers during a run wait for the next run, which they share; none gets the run already under way', async () => {
    const { rounds, started } = manualRuns();
    const first = rounds.next();
    const order: string[] = [];
    const late = [rounds.next(), rounds.next(), rounds.next()].map((call, index) =>
      call.then(() => order.push(`late ${index}`)),
    );
    assert.equal(started.length, 1, 'no second run while the first is under way');
    started[0]!.end();
    await first;
    await settled();
    assert.deepEqual(order, [], 'the first run ending does not answer the callers who came during it');
    assert.equal(started.length, 2, 'one more run for all three');
    started[1]!.end();
    await Promise.all(late);
    assert.deepEqual(order, ['late 0', 'late 1', 'late 2']);
    assert.equal(started.length, 2);
  });

  void it('after everything ended, the next caller starts a new run', async () => {
    const { rounds, started } = manualRuns();
    const first = rounds.next();
    started[0]!.end();
    await first;
    const second = rounds.next();
    assert.equal(started.length, 2);
    started[1]!.end();
    await second;
  });

  void it('a failed run fails its callers only; those queued behind it still get a run of their own', async () => {
    const { rounds, started } = manualRuns();
    const first = rounds.next();
    const queued = rounds.next();
    started[0]!.end(new Error('worker gone'));
    await assert.rejects(first, /worker gone/);
    await settled();
    assert.equal(started.length, 2);
    started[1]!.end();
    await queued;
    const after = rounds.next();
    assert.equal(started.length, 3);
    started[2]!.end();
    await after;
  });
});
