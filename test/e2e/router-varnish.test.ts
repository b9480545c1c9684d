/**
 * cutover server + CLI driving a real varnishd: every move is `vcl.load` + `vcl.use`; requests
 * already running finish on the VCL they started on and client connections stay open, so no
 * request fails.
 */
import { startVarnishHarness } from '../support/daemons/varnish.js';
import {
  assertNoFailures,
  runRouterEndToEnd,
  WEIGHTED_MANUAL_STRATEGY,
  daemonFrom,
} from './router-scenario.js';

runRouterEndToEnd({
  kind: 'varnish',
  startDaemon: daemonFrom(startVarnishHarness),
  strategyYaml: WEIGHTED_MANUAL_STRATEGY,
  assertFailures: assertNoFailures,
});
