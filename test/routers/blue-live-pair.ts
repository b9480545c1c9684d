import { weightsAllOn, type SlotTargets } from '../../src/core/slot.js';
import type { Router } from '../../src/routers/router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';

/** Two version backends, `blue-1` and `green-1`, prepared in an opened router with blue live. */
export interface BlueLivePair {
  readonly targets: SlotTargets;
  close(): Promise<void>;
}

/** Where each router's own tests start: both slots prepared, all traffic on blue. */
export async function prepareBlueLivePair(router: Router): Promise<BlueLivePair> {
  const backends: VersionBackend[] = [
    await startVersionBackend('blue-1'),
    await startVersionBackend('green-1'),
  ];
  const [blue, green] = backends;
  const targets: SlotTargets = {
    blue: [{ id: 'blue-1', host: '127.0.0.1', port: blue!.port }],
    green: [{ id: 'green-1', host: '127.0.0.1', port: green!.port }],
  };
  await router.prepare(targets);
  await router.setWeights(weightsAllOn('blue'));
  return {
    targets,
    close: async () => {
      await Promise.all(backends.map((backend) => backend.close()));
    },
  };
}
