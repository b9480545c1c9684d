/**
 * A `kill -9` of cutover at any await of a provision must leave no process behind that a
 * restarted cutover does not know of. A child provisions the slot (replacing a running
 * release) and SIGKILLs itself at crash point N (CUTOVER_TEST_CRASH_AT, production code path);
 * for every N until it completes, a fresh platform reconciles and the test counts the app's
 * processes by walking /proc for its command line: never a leak, never a double.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Platform } from '../../src/shared/platform.js';
import { readProcStat } from '../../src/platforms/process/proc-stat.js';
import { makeProcessFixture, VERSION_APP, type ProcessFixture } from './process-fixture.js';

const PROVISION_UNTIL_CRASH = fileURLToPath(
  new URL('../support/apps/provision-until-crash.ts', import.meta.url),
);
const INSTANCES = 2;

/** Live processes whose command line names `script` (the app copy only this test runs). */
async function appProcesses(script: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
    } catch (error) {
      if (['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) continue;
      throw error;
    }
    if (!cmdline.split('\0').includes(script)) continue;
    const stat = await readProcStat(Number(entry));
    if (stat !== undefined && stat.state !== 'Z' && stat.state !== 'X') pids.push(Number(entry));
  }
  return pids.sort((a, b) => a - b);
}

void describe('process platform: kill -9 at every await of a provision', () => {
  let fixture: ProcessFixture;
  let script: string;
  let platform: (overrides?: Record<string, unknown>) => Platform;
  before(async () => {
    fixture = await makeProcessFixture(['v1', 'v2']);
    // Its own copy of the app, so the /proc count sees this test's processes only.
    script = join(fixture.baseDir, 'crash-safety-app.js');
    await copyFile(VERSION_APP, script);
    platform = (overrides = {}) =>
      fixture.platform({ instances: INSTANCES, args: [script], stopGrace: '1s', ...overrides });
  });
  after(async () => {
    // Should the test fail with a leak, the leaked processes must not outlive it.
    for (const pid of await appProcesses(script)) process.kill(pid, 'SIGKILL');
    await fixture.cleanup();
  });

  /** Runs the provisioning child; resolves with its report, or with the signal that ended it. */
  function provisionInChild(crashAt: number | undefined): Promise<{ crashPoints?: number; signal?: string }> {
    const input = {
      config: fixture.config({ instances: INSTANCES, args: [script], stopGrace: '1s' }),
      baseDir: fixture.baseDir,
      stateDir: fixture.stateDir,
      slot: 'green',
      release: 'v2',
    };
    const env = { ...process.env };
    if (crashAt === undefined) delete env.CUTOVER_TEST_CRASH_AT;
    else env.CUTOVER_TEST_CRASH_AT = String(crashAt);
    const child = spawn(process.execPath, ['--import', 'tsx', PROVISION_UNTIL_CRASH, JSON.stringify(input)], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (signal !== null) resolve({ signal });
        else if (code === 0) resolve(JSON.parse(out) as { crashPoints: number });
        else reject(new Error(`provisioning child exited with code ${code}`));
      });
    });
  }

  void it('leaks and doubles no instance, whichever await the crash hits', async () => {
    // The whole run once, to learn how many crash points a provision that replaces a release passes.
    await platform().provision('green', 'v1');
    const full = await provisionInChild(undefined);
    assert.ok(full.crashPoints !== undefined && full.crashPoints > 10, JSON.stringify(full));
    await platform().reconcile(new Set());
    assert.deepEqual(await appProcesses(script), []);

    const outcomes: string[] = [];
    for (let crashAt = 1; crashAt <= full.crashPoints; crashAt += 1) {
      await platform().provision('green', 'v1');
      const run = await provisionInChild(crashAt);
      assert.equal(run.signal, 'SIGKILL', `crash point ${crashAt} of ${full.crashPoints} was not reached`);

      // A restarted cutover: a platform with nothing in memory. Even crash points: the slot is
      // part of the resumed deployment (kept), and the deployment provisions it again.
      const fresh = platform();
      const keep = crashAt % 2 === 0;
      await fresh.reconcile(new Set(keep ? ['green'] : []));
      if (keep) {
        const instances = await fresh.provision('green', 'v2');
        const running = await appProcesses(script);
        assert.deepEqual(
          running,
          instances.map((instance) => Number(instance.meta.pid)).sort((a, b) => a - b),
          `crash point ${crashAt}: processes running besides the ${INSTANCES} the platform knows`,
        );
        assert.deepEqual(
          instances.map((instance) => instance.release),
          Array(INSTANCES).fill('v2'),
        );
        outcomes.push(`${crashAt}:kept`);
        await fresh.reconcile(new Set());
      } else {
        outcomes.push(`${crashAt}:stopped`);
      }
      assert.deepEqual(
        await appProcesses(script),
        [],
        `crash point ${crashAt}: processes left after reconcile stopped the slot`,
      );
    }
    assert.equal(outcomes.length, full.crashPoints);
    console.log(`# killed at each of ${full.crashPoints} crash points: ${outcomes.join(' ')}`);
  });

  void it('reconcile deletes record temp files of a crashed writer, and keeps those of a live one', async () => {
    const dir = join(fixture.stateDir, 'platform', 'process');
    await mkdir(dir, { recursive: true });
    const exited = spawn('true');
    await new Promise((resolve) => exited.once('exit', resolve));
    const crashed = `green.json.${exited.pid}.tmp`;
    const live = `green.json.${process.pid}.tmp`;
    await writeFile(join(dir, crashed), '{"half":');
    await writeFile(join(dir, live), '{"half":');

    await platform().reconcile(new Set());

    const left = await readdir(dir);
    assert.equal(left.includes(crashed), false);
    assert.equal(left.includes(live), true);
  });
});
