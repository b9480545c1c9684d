/**
 * cutover server + CLI driving a real nginx: every change is `nginx -t` on a candidate, then a
 * reload (SIGHUP).
 */
import { startNginxHarness } from '../support/daemons/nginx.js';
import {
  assertOnlyConnectionResets,
  runRouterEndToEnd,
  WEIGHTED_MANUAL_STRATEGY,
  daemonFrom,
} from './router-scenario.js';

runRouterEndToEnd({
  kind: 'nginx',
  startDaemon: daemonFrom(startNginxHarness, { closeHarnessRouter: true }),
  strategyYaml: WEIGHTED_MANUAL_STRATEGY,
  // Every change (prepare, each shift step, cleanup) is a reload: the old workers close their
  // idle keep-alive client connections at once, and a client sending its next request on one
  // at that instant gets a reset (ECONNRESET), about one per idle connection per reload
  // (docs/routers.md, "What a reload costs"). What holds: a failure is only ever such a reset,
  // never an error answer or an answer from the wrong slot.
  assertFailures: assertOnlyConnectionResets,
});
