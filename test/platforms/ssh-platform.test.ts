// The ssh platform's own behaviour on real sshd hosts: the supervisor restarts a crashed
// instance and a restarted cutover adopts it; instances outlive the SSH session and sshd
// itself; env values never appear on a command line; one connection per host is reused; a
// jump host carries the connection.
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Slot } from '../../src/shared/slot.js';
import { waitFor } from '../support/load.js';
import { answer } from './contract.js';
import { makeSshFixture, type SshFixture } from './ssh-fixture.js';

void describe('ssh platform', { timeout: 300_000 }, () => {
  let fixture: SshFixture;

  before(async () => {
    fixture = await makeSshFixture(2);
  });
  after(async () => {
    await fixture?.cleanup();
  });
  afterEach(async () => {
    for (const host of fixture.fleet.hosts) if (!host.running()) await host.startSshd();
    await fixture.platform().reconcile(new Set());
  });

  it('an instance killed with -9 is restarted by the supervisor; a restarted cutover adopts it', async () => {
    const platform = fixture.platform();
    const instances = await platform.provision('blue', 'v1');
    const victim = instances[0]!;
    process.kill(Number(victim.meta.pid), 'SIGKILL');
    await waitFor(
      async () => {
        const now = (await platform.running('blue')).find((i) => i.id === victim.id);
        return now !== undefined && now.meta.restarts === 1 && now.meta.pid !== victim.meta.pid;
      },
      { timeoutMs: 15_000, what: 'the supervisor to restart the instance' },
    );
    assert.equal(await answer(victim), 'v1');

    const adopted = await fixture.platform().reconcile(new Set<Slot>(['blue']));
    assert.deepEqual(
      adopted.blue.map((i) => `${i.id}@${i.host}:${i.port}`).sort(),
      instances.map((i) => `${i.id}@${i.host}:${i.port}`).sort(),
    );
    assert.equal((await fixture.appProcesses()).length, instances.length);
    const log = await platform.logs('blue', { tail: 50 });
    assert.ok(
      log.some((line) => line.line.includes('cutover supervisor: the instance exited')),
      JSON.stringify(log),
    );
  });

  it('instances outlive the SSH session and sshd itself', async () => {
    const platform = fixture.platform();
    const instances = await platform.provision('green', 'v2');
    await platform.close();
    for (const host of fixture.fleet.hosts) await host.stopSshd();
    for (const instance of instances) assert.equal(await answer(instance), 'v2');
  });

  it('env values reach the app but no command line, and the env file is private to the user', async () => {
    const secret = `token-${Math.random().toString(36).slice(2)}`;
    const platform = fixture.platform({ env: { APP_TOKEN: secret } });
    const [instance] = await platform.provision('blue', 'v1');
    const info = JSON.parse(await fetchText(`http://${instance!.host}:${instance!.port}/info`)) as {
      env: Record<string, string>;
    };
    assert.equal(info.env.APP_TOKEN, secret);
    for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      assert.ok(!cmdline.includes(secret), `pid ${pid} has the secret on its command line`);
    }
    const envFile = path.join(fixture.fleet.hosts[0]!.rootOnDisk, 'run', fixture.app, 'blue-0', 'env');
    assert.equal((await stat(envFile)).mode & 0o077, 0, 'env file readable by others');
  });

  it('one SSH connection per host serves a whole provision, running(), logs() and stop()', async () => {
    const host = fixture.fleet.hosts[1]!;
    const logFile = path.join(fixture.fleet.dir, `host-${host.index}`, 'sshd.log');
    const accepted = async () =>
      ((await readFile(logFile, 'utf8')).match(/Accepted publickey/g) ?? []).length;
    const before = await accepted();
    const platform = fixture.platform();
    await platform.provision('green', 'v1');
    await platform.running('green');
    await platform.logs('green');
    await platform.stop('green', { graceMs: 1_000 });
    assert.equal((await accepted()) - before, 1);
  });

  it('a jump host carries the connection (host keys checked on both)', async () => {
    const target = fixture.fleet.hosts[0]!;
    const sshdLog = path.join(fixture.fleet.dir, `host-${target.index}`, 'sshd.log');
    // A login through the tunnel arrives from the jump host itself (here: the same host).
    const tunnelled = async () =>
      (
        (await readFile(sshdLog, 'utf8')).match(
          new RegExp(`Accepted publickey for root from ${target.address.replace(/\./g, '\\.')} `, 'g'),
        ) ?? []
      ).length;
    const before = await tunnelled();
    const platform = fixture.platform({
      hosts: [{ host: target.address }],
      jumpHost: { host: target.address, port: 22 },
    });
    const instances = await platform.provision('blue', 'v2');
    for (const instance of instances) assert.equal(await answer(instance), 'v2');
    assert.equal((await tunnelled()) - before, 1);
  });
});

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { headers: { connection: 'close' } });
  return response.text();
}
