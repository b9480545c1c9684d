// The Platform contract suite (./contract.ts) for the docker platform, against a real podman
// engine serving the Docker Engine API.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runPlatformContract, type AppVariant } from './contract.js';
import { makeDockerFixture } from './docker-fixture.js';

const PROVISION_AND_HANG = fileURLToPath(
  new URL('../support/apps/docker-provision-and-hang.ts', import.meta.url),
);

runPlatformContract({
  name: 'docker',
  setup: async () => {
    const fixture = await makeDockerFixture(['v1', 'v2']);
    const settings = (variant: AppVariant = 'default') => ({
      instances: 2,
      env: variant === 'ignore-sigterm' ? { IGNORE_SIGTERM: '1' } : {},
    });
    return {
      create: (variant) => fixture.platform(settings(variant)),
      releases: ['v1', 'v2'],
      missingRelease: 'v404',
      // Containers are removed on stop: the app notes each SIGTERM in a mounted host dir.
      sigtermsSeen: (slot) => fixture.sigtermCount(slot),
      countRunning: async () => (await fixture.containers()).length,
      async provisionInKilledProcess(slot, release) {
        const input = {
          config: fixture.config(settings()),
          app: fixture.app,
          baseDir: fixture.baseDir,
          slot,
          release,
        };
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', PROVISION_AND_HANG, JSON.stringify(input)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const lines = createInterface({ input: child.stdout });
        await once(lines, 'line');
        lines.close();
        child.kill('SIGKILL');
        await once(child, 'exit');
      },
      teardown: () => fixture.cleanup(),
    };
  },
});
