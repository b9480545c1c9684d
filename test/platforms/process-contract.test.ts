// The Platform contract suite (./contract.ts) for the process platform.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runPlatformContract, type AppVariant } from './contract.js';
import { makeProcessFixture, VERSION_APP } from './process-fixture.js';

const PROVISION_AND_HANG = fileURLToPath(new URL('../support/apps/provision-and-hang.ts', import.meta.url));

runPlatformContract({
  name: 'process',
  setup: async () => {
    const fixture = await makeProcessFixture(['v1', 'v2']);
    const settings = (variant: AppVariant = 'default') => ({
      instances: 2,
      stopGrace: '1s',
      env: variant === 'ignore-sigterm' ? { IGNORE_SIGTERM: '1' } : {},
    });
    return {
      create: (variant) => fixture.platform(settings(variant)),
      releases: ['v1', 'v2'],
      missingRelease: 'v404',
      async sigtermsSeen(slot) {
        // The process platform keeps an instance's log after it stopped.
        const lines = await fixture.platform().logs(slot, { tail: 1000 });
        return lines.filter((line) => line.line.startsWith('got SIGTERM')).length;
      },
      countRunning: () => countVersionApps(fixture.baseDir),
      async provisionInKilledProcess(slot, release) {
        const input = {
          config: { ...fixture.config(settings()), stopGrace: 1000 },
          baseDir: fixture.baseDir,
          stateDir: fixture.stateDir,
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

/** Live (not zombie) processes running the version app with a working dir under `baseDir`, read from /proc. */
async function countVersionApps(baseDir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes(VERSION_APP)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    const state = (await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.[0];
    if (cwd.startsWith(baseDir) && state !== 'Z') count += 1;
  }
  return count;
}
