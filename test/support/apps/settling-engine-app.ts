// Runs the deployment engine over a SettlingRouter (test/support/settling-engine.ts) on a
// CutoverHarness project, as `cutover server` would but with the test router, so a test can
// kill -9 it while a move waits for the router to settle. Input (argv[2], JSON):
//   configFile, settleAfter (converging read-backs after each move), neverSettleOnto (a slot:
//   a move giving it weight never settles; optional), settleTimeoutMs, deploy (releases to
//   deploy one after the other; optional).
// Prints one JSON line per event: {"event": DeploymentEvent} and {"finished": record} per
// deploy; SIGTERM closes the engine gracefully (runs stop journaled) and exits 0.
import type { Slot } from '../../../src/shared/slot.js';
import { startSettlingEngine } from '../settling-engine.js';

interface Input {
  configFile: string;
  settleAfter: number;
  neverSettleOnto?: Slot;
  settleTimeoutMs: number;
  deploy?: string[];
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const print = (line: unknown): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const app = await startSettlingEngine(input.configFile, {
  groups: true,
  settleTimeoutMs: input.settleTimeoutMs,
  settleAfter: (weights) =>
    input.neverSettleOnto !== undefined && weights[input.neverSettleOnto] > 0 ? Infinity : input.settleAfter,
});
app.engine.events.subscribe((event) => print({ event }));
process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
print({
  ready: true,
  resumed: (await app.store.unfinishedDeployments(app.config.app)).map((record) => record.id),
});
for (const release of input.deploy ?? []) {
  const { finished } = await app.engine.deploy(release, 'settling-engine-app');
  print({ finished: await finished });
}
