/**
 * cutover server + CLI driving a real HAProxy: every move is runtime API commands (`set map`,
 * server weights), never a reload, so no client connection is closed and no request fails.
 */
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import {
  assertNoFailures,
  runRouterEndToEnd,
  WEIGHTED_MANUAL_STRATEGY,
  daemonFrom,
} from './router-scenario.js';

runRouterEndToEnd({
  kind: 'haproxy',
  startDaemon: daemonFrom(startHaproxyHarness, { closeHarnessRouter: true }),
  strategyYaml: WEIGHTED_MANUAL_STRATEGY,
  assertFailures: assertNoFailures,
});
