/**
 * cutover server + CLI driving a real nginx in the router's lua mode: prepare, the shift steps,
 * the switch, rollback and cleanup are writes to nginx's shared memory through its loopback
 * control location, never a reload — so under 50 keep-alive connections no request fails
 * (test/e2e/router-nginx.test.ts is the reload mode, whose reloads reset idle connections).
 */
import { startNginxHarness } from '../support/daemons/nginx.js';
import {
  assertNoFailures,
  runRouterEndToEnd,
  WEIGHTED_MANUAL_STRATEGY,
  daemonFrom,
} from './router-scenario.js';

runRouterEndToEnd({
  kind: 'nginx',
  label: 'nginx (lua mode)',
  startDaemon: daemonFrom(() => startNginxHarness({ mode: 'lua' }), { closeHarnessRouter: true }),
  strategyYaml: WEIGHTED_MANUAL_STRATEGY,
  assertFailures: assertNoFailures,
});
