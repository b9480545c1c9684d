/** One-shot mode (no cutover server) driving a real HAProxy through its runtime API. */
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { daemonFrom } from './router-scenario.js';
import { runOneShotEndToEnd } from './oneshot-scenario.js';

runOneShotEndToEnd({
  kind: 'haproxy',
  startDaemon: daemonFrom(startHaproxyHarness, { closeHarnessRouter: true }),
});
