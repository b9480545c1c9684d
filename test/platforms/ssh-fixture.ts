// Shared set-up for the ssh platform tests: a fleet of real sshd hosts in network namespaces,
// releases as directories holding the version app, and platforms over that fleet.
import { copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/shared/logger.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Platform } from '../../src/shared/platform.js';
import type { Slot } from '../../src/shared/slot.js';
import { sshPlatformConfig, type SshPlatformConfig } from '../../src/platforms/ssh/config.js';
import { createSshPlatform } from '../../src/platforms/ssh/ssh-platform.js';
import { startSshFleet, type SshFleet } from '../support/daemons/sshd.js';

const VERSION_APP = fileURLToPath(new URL('../support/apps/version-app.js', import.meta.url));

export interface SshFixture {
  readonly fleet: SshFleet;
  readonly app: string;
  readonly baseDir: string;
  config(overrides?: Record<string, unknown>): SshPlatformConfig;
  platform(overrides?: Record<string, unknown>, options?: { logger?: Logger }): Platform;
  /** The app processes (node version-app.js with this app's CUTOVER_APP) alive on this machine. */
  appProcesses(): Promise<{ pid: number; slot: string }[]>;
  /** SIGTERMs the apps of `slot` logged on every host so far. */
  sigtermCount(slot: Slot): Promise<number>;
  cleanup(): Promise<void>;
}

/** Release directories `<baseDir>/releases/<release>/` with the version app and a VERSION file. */
export async function writeReleases(baseDir: string, releases: readonly string[]): Promise<void> {
  for (const release of releases) {
    const dir = path.join(baseDir, 'releases', release);
    await mkdir(dir, { recursive: true });
    await copyFile(VERSION_APP, path.join(dir, 'version-app.js'));
    await writeFileText(path.join(dir, 'VERSION'), `${release}\n`);
    await writeFileText(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  }
}

async function writeFileText(file: string, text: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, text);
}

export async function makeSshFixture(
  hostCount: number,
  releases: readonly string[] = ['v1', 'v2'],
): Promise<SshFixture> {
  const fleet = await startSshFleet(hostCount);
  const baseDir = fleet.dir;
  await writeReleases(baseDir, releases);
  const app = `sshtest${process.pid}`;
  // Closed at cleanup: an open SSH connection would keep the test process alive.
  const created: Platform[] = [];
  const config = (overrides: Record<string, unknown> = {}) =>
    sshPlatformConfig.parse({
      kind: 'ssh',
      hosts: fleet.hosts.map((host) => ({ host: host.address })),
      user: 'root',
      identityFile: fleet.identityFile,
      knownHosts: fleet.knownHosts,
      root: fleet.root,
      artifact: { path: 'releases/${RELEASE}' },
      // node by absolute path: the SSH session's PATH need not hold it.
      start: `exec ${process.execPath} version-app.js --host 0.0.0.0`,
      portRange: { from: 21_000, to: 21_099 },
      instancesPerHost: 2,
      stopGrace: '1s',
      connectTimeout: '5s',
      ...overrides,
    });
  return {
    fleet,
    app,
    baseDir,
    config,
    platform: (overrides = {}, options = {}) => {
      const platform = createSshPlatform(config(overrides), {
        app,
        baseDir,
        logger: options.logger ?? silentLogger,
      });
      created.push(platform);
      return platform;
    },
    appProcesses: () => appProcesses(app),
    async sigtermCount(slot) {
      let count = 0;
      for (const host of fleet.hosts) {
        const dir = path.join(host.rootOnDisk, 'logs', app);
        const files = await readdir(dir).catch(() => [] as string[]);
        for (const file of files.filter((name) => name.startsWith(`${slot}-`))) {
          const text = await readFile(path.join(dir, file), 'utf8');
          count += text.split('\n').filter((line) => line.startsWith('got SIGTERM')).length;
        }
      }
      return count;
    },
    async cleanup() {
      await Promise.all(created.map((platform) => platform.close()));
      await fleet.teardown();
    },
  };
}

/** Scans /proc: counted outside the platform, so a duplicate cannot hide. */
export async function appProcesses(app: string): Promise<{ pid: number; slot: string }[]> {
  const found: { pid: number; slot: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('version-app.js')) continue;
      const environ = (await readFile(`/proc/${entry}/environ`, 'utf8')).split('\0');
      if (!environ.includes(`CUTOVER_APP=${app}`)) continue;
      const slot =
        environ.find((line) => line.startsWith('CUTOVER_SLOT='))?.slice('CUTOVER_SLOT='.length) ?? '';
      found.push({ pid: Number(entry), slot });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
