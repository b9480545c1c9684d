/**
 * Restarts of `cutover server` (SIGTERM and kill -9, in turn) under keep-alive load. While the
 * server is down clients are refused, which is expected and counted apart; once it listens
 * again the routing table must already be restored: no answer may be a 503 from an empty table.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startLoad, waitFor } from '../support/load.js';
import { CutoverHarness } from './harness.js';

const RESTARTS = 6;

describe('restarting cutover server under load', () => {
  let harness: CutoverHarness;
  after(() => harness.teardown());

  it('answers no 503 after any restart: the public listener opens once routing is restored', async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} } });
    await harness.startServer();
    const first = await harness.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);

    const load = startLoad({
      url: harness.trafficUrl,
      connections: 20,
      errorBackoffMs: 5,
      maxDurationMs: 300_000,
    });
    try {
      for (let restart = 0; restart < RESTARTS; restart += 1) {
        const okBefore = load.stats().ok;
        await waitFor(() => load.stats().ok > okBefore + 100, { what: 'traffic before the restart' });
        if (restart % 2 === 0) await harness.stopServer();
        else await harness.killServer();
        await harness.startServer();
      }
      const okAfter = load.stats().ok;
      await waitFor(() => load.stats().ok > okAfter + 100, { what: 'traffic after the last restart' });
    } finally {
      const stats = await load.stop();
      console.log(
        `# ${RESTARTS} restarts: ${stats.ok} ok, ${stats.non2xx} non-2xx, ${stats.connectionErrors} connection errors (server down)`,
      );
      assert.equal(stats.non2xx, 0, `answers other than 2xx: ${stats.firstErrors.join(' | ')}`);
      assert.deepEqual(Object.keys(stats.bodies), ['v1']);
    }
  });
});
