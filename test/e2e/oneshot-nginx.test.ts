/** One-shot mode (no cutover server) driving a real nginx: every change is `nginx -t` and a reload. */
import { startNginxHarness } from '../support/daemons/nginx.js';
import { daemonFrom } from './router-scenario.js';
import { runOneShotEndToEnd } from './oneshot-scenario.js';

runOneShotEndToEnd({
  kind: 'nginx',
  startDaemon: daemonFrom(startNginxHarness, { closeHarnessRouter: true }),
});
