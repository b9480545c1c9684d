import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Instance } from '../../src/shared/platform.js';
import { readProcStat } from '../../src/platforms/process/proc-stat.js';
import { httpGet, isPidAlive, makeProcessFixture, type ProcessFixture } from './process-fixture.js';

const PROVISION_AND_HANG = fileURLToPath(new URL('../support/apps/provision-and-hang.ts', import.meta.url));

/** Provisions `slot` from a separate node process and returns it with the instances it printed. */
async function provisionFromChild(
  fixture: ProcessFixture,
  slot: string,
  release: string,
): Promise<{ child: ChildProcess; instances: Instance[] }> {
  const input = {
    config: {
      kind: 'process',
      command: process.execPath,
      args: fixture.config().args,
      cwd: 'releases/${RELEASE}',
      instances: 2,
    },
    baseDir: fixture.baseDir,
    stateDir: fixture.stateDir,
    slot,
    release,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', PROVISION_AND_HANG, JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return { child, instances: JSON.parse(line) as Instance[] };
}

void describe('process platform: reconcile after a restart', () => {
  let fixture: ProcessFixture;
  const foreign: ChildProcess[] = [];
  before(async () => {
    fixture = await makeProcessFixture(['v1', 'v2']);
  });
  after(async () => {
    for (const child of foreign) child.kill('SIGKILL');
    await fixture.cleanup();
  });

  void it('instances outlive a SIGKILL of the process that provisioned them, and are adopted again', async () => {
    const { child, instances } = await provisionFromChild(fixture, 'green', 'v1');
    assert.equal(instances.length, 2);
    child.kill('SIGKILL');
    await once(child, 'exit');

    for (const instance of instances) {
      assert.equal(await isPidAlive(Number(instance.meta.pid)), true);
      assert.deepEqual(await httpGet(instance.port), { status: 200, body: 'v1' });
    }

    const platform = fixture.platform({ instances: 2 });
    const found = await platform.reconcile(new Set(['green']));
    assert.deepEqual(found.blue, []);
    assert.deepEqual(
      found.green.map((instance) => [instance.id, instance.port, instance.meta.pid]),
      instances.map((instance) => [instance.id, instance.port, instance.meta.pid]),
    );
    // Adopted instances are the platform's again: provision of the same release reuses them.
    const again = await platform.provision('green', 'v1');
    assert.deepEqual(
      again.map((instance) => instance.meta.pid),
      instances.map((instance) => instance.meta.pid),
    );
    // Output keeps reaching the log files after the provisioner died.
    const log = await platform.logs('green', { tail: 5 });
    assert.ok(log.some((line) => line.line.startsWith('listening on')));

    await platform.destroy('green');
    for (const instance of instances) assert.equal(await isPidAlive(Number(instance.meta.pid)), false);
  });

  void it('stops the instances of slots it is not told to keep (orphans) and drops their records', async () => {
    const { child, instances: blue } = await provisionFromChild(fixture, 'blue', 'v2');
    child.kill('SIGKILL');
    await once(child, 'exit');
    const greenPlatform = fixture.platform();
    const green = await greenPlatform.provision('green', 'v1');

    const found = await fixture.platform({ stopGrace: '2s' }).reconcile(new Set(['green']));

    assert.deepEqual(found.blue, []);
    assert.deepEqual(
      found.green.map((instance) => instance.meta.pid),
      green.map((instance) => instance.meta.pid),
    );
    for (const instance of blue) assert.equal(await isPidAlive(Number(instance.meta.pid)), false);
    assert.equal(existsSync(join(fixture.stateDir, 'platform', 'process', 'blue.json')), false);
    await greenPlatform.destroy('green');
  });

  void it('never adopts or signals a recycled pid (live process, other start time) and drops dead records', async () => {
    // A stand-in for "someone else's process that got our old pid": its own group, like ours.
    const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    foreign.push(stranger);
    await once(stranger, 'spawn');
    const strangerPid = stranger.pid!;
    const realStart = (await readProcStat(strangerPid))!.startTime;
    const exited = spawn('true');
    await once(exited, 'exit');

    const recordDir = join(fixture.stateDir, 'platform', 'process');
    await mkdir(recordDir, { recursive: true });
    const writeRecord = (slot: string, instances: { pid: number; procStartTime: string }[]) =>
      writeFile(
        join(recordDir, `${slot}.json`),
        JSON.stringify({
          version: 1,
          slot,
          release: 'v1',
          instances: instances.map((instance, index) => ({
            id: `${slot}-${index}-v1`,
            index,
            release: 'v1',
            host: '127.0.0.1',
            port: 1,
            startedAt: new Date().toISOString(),
            logFile: join(fixture.stateDir, 'logs', `${slot}-${index}.log`),
            ...instance,
          })),
        }),
      );
    const wrongStart = String(Number(realStart) + 1);
    await writeRecord('blue', [
      { pid: strangerPid, procStartTime: wrongStart },
      { pid: exited.pid!, procStartTime: '1' },
    ]);
    await writeRecord('green', [{ pid: strangerPid, procStartTime: wrongStart }]);

    const platform = fixture.platform({ stopGrace: '200ms' });
    assert.deepEqual(await platform.running('blue'), []);
    // blue is kept (adopt path), green is not (orphan path): neither may touch the stranger.
    const found = await platform.reconcile(new Set(['blue']));

    assert.deepEqual(found, { blue: [], green: [] });
    assert.equal(await isPidAlive(strangerPid), true);
    assert.equal(stranger.exitCode, null);
    assert.equal(existsSync(join(recordDir, 'blue.json')), false);
    assert.equal(existsSync(join(recordDir, 'green.json')), false);

    await writeRecord('blue', [{ pid: strangerPid, procStartTime: wrongStart }]);
    await platform.stop('blue', { graceMs: 200 });
    assert.equal(await isPidAlive(strangerPid), true);
  });
});
