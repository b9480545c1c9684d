// The Platform contract suite (./contract.ts) for the ssh platform, against three real sshd
// hosts, each in its own network namespace.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runPlatformContract, type AppVariant } from './contract.js';
import { makeSshFixture } from './ssh-fixture.js';

const PROVISION_AND_HANG = fileURLToPath(
  new URL('../support/apps/ssh-provision-and-hang.ts', import.meta.url),
);

runPlatformContract({
  name: 'ssh',
  setup: async () => {
    // One host: the contract counts two instances per slot.
    const fixture = await makeSshFixture(1);
    const settings = (variant: AppVariant = 'default') => ({
      env: variant === 'ignore-sigterm' ? { IGNORE_SIGTERM: '1' } : {},
    });
    return {
      create: (variant) => fixture.platform(settings(variant)),
      releases: ['v1', 'v2'],
      missingRelease: 'v404',
      sigtermsSeen: (slot) => fixture.sigtermCount(slot),
      countRunning: async () => (await fixture.appProcesses()).length,
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
