import { weightsAllOn, type SlotTargets } from '../../src/shared/slot.js';
import type { Router } from '../../src/shared/router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';

/** Two version backends, `blue-1` and `green-1`, as one instance per slot. */
export interface BlueGreenBackends {
  readonly targets: SlotTargets;
  close(): Promise<void>;
}

export async function startBlueGreenBackends(): Promise<BlueGreenBackends> {
  const backends: VersionBackend[] = [
    await startVersionBackend('blue-1'),
    await startVersionBackend('green-1'),
  ];
  const [blue, green] = backends;
  return {
    targets: {
      blue: [{ id: 'blue-1', host: '127.0.0.1', port: blue!.port }],
      green: [{ id: 'green-1', host: '127.0.0.1', port: green!.port }],
    },
    close: async () => {
      await Promise.all(backends.map((backend) => backend.close()));
    },
  };
}

/** Where each router's own tests start: both slots prepared in an opened router, all traffic on blue. */
export async function prepareBlueLivePair(router: Router): Promise<BlueGreenBackends> {
  const pair = await startBlueGreenBackends();
  await router.prepare(pair.targets);
  await router.setWeights(weightsAllOn('blue'));
  return pair;
}
