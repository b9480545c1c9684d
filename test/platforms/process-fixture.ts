// Shared set-up for the process platform tests: a temp app folder with releases, a state dir,
// the version app as the command, and cleanup that stops whatever the tests left running.
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/shared/logger.js';
import type { Platform } from '../../src/shared/platform.js';
import { processPlatformConfig, type ProcessPlatformConfig } from '../../src/platforms/process/config.js';
import { createProcessPlatform } from '../../src/platforms/process/process-platform.js';
import { readProcStat } from '../../src/platforms/process/proc-stat.js';

export const VERSION_APP = fileURLToPath(new URL('../support/apps/version-app.js', import.meta.url));

export interface ProcessFixture {
  readonly baseDir: string;
  readonly stateDir: string;
  config(overrides?: Record<string, unknown>): ProcessPlatformConfig;
  platform(overrides?: Record<string, unknown>): Platform;
  cleanup(): Promise<void>;
}

/** A temp app folder with `releases/<name>/VERSION` for each release. */
export async function makeProcessFixture(
  releases: readonly string[] = ['v1', 'v2'],
): Promise<ProcessFixture> {
  const baseDir = await mkdtemp(join(tmpdir(), 'cutover-process-'));
  const stateDir = join(baseDir, '.cutover');
  for (const release of releases) {
    await mkdir(join(baseDir, 'releases', release), { recursive: true });
    await writeFile(join(baseDir, 'releases', release, 'VERSION'), `${release}\n`);
  }
  const config = (overrides: Record<string, unknown> = {}) =>
    processPlatformConfig.parse({
      kind: 'process',
      command: process.execPath,
      args: [VERSION_APP],
      cwd: 'releases/${RELEASE}',
      stopGrace: '3s',
      ...overrides,
    });
  const platform = (overrides: Record<string, unknown> = {}) =>
    createProcessPlatform(config(overrides), { app: 'test', baseDir, stateDir, logger: silentLogger });
  return {
    baseDir,
    stateDir,
    config,
    platform,
    async cleanup() {
      // A fresh platform keeping nothing stops every instance any test recorded.
      await platform({ stopGrace: '200ms' }).reconcile(new Set());
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

export async function isPidAlive(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** How long a just-provisioned instance may take to listen (a node start on a loaded machine). */
const LISTEN_WAIT_MS = 15_000;

/**
 * GET over a fresh connection (no agent keeps sockets to instances the tests stop). provision()
 * returns once an instance listens, or after a bounded wait when it does not; a refused
 * connection is tried again until it listens, so a test fails on the answer, not on timing.
 */
export async function httpGet(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const giveUpAt = Date.now() + LISTEN_WAIT_MS;
  for (;;) {
    try {
      return await httpGetOnce(port, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function httpGetOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
