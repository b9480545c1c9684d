/**
 * cutover server + CLI driving a real Caddy 2.6 through its admin API. Caddy 2.6 has no
 * weights, so the strategy is `switch`; its manual gate is `promotion: manual`.
 */
import assert from 'node:assert/strict';
import { startCaddyHarness } from '../support/daemons/caddy.js';
import {
  LOAD_CONNECTIONS,
  assertNoFailures,
  assertOnlyConnectionResets,
  daemonFrom,
  runRouterEndToEnd,
} from './router-scenario.js';

runRouterEndToEnd({
  kind: 'caddy',
  startDaemon: daemonFrom(startCaddyHarness),
  strategyYaml: ['strategy:', '  kind: switch', '  promotion: manual'].join('\n'),
  assertFailures: (stats, during) => {
    // A switch moves a marker file (switchBy: file): Caddy's config does not change, nothing
    // reloads, no request fails. Putting a slot's new instances into Caddy (prepare) and
    // forgetting them (cleanup: after an abort, and after a rollback once the rolled-back slot
    // has drained, in the background while this load still runs) do change the config, and
    // every config change makes Caddy 2.6 reload its HTTP app, whose shutdown closes the idle
    // keep-alive client connections: a client sending on one at that instant sees a reset.
    if (during === 'switch') {
      assertNoFailures(stats, during);
      return;
    }
    assertOnlyConnectionResets(stats, during);
    // At most one reset per connection per config change (rollback: one cleanup; abort: the
    // prepare and the cleanup of the aborted slot).
    const changes = during === 'abort' ? 2 : 1;
    assert.ok(stats.failed <= changes * LOAD_CONNECTIONS, `${during}: ${stats.failed} resets`);
  },
});
