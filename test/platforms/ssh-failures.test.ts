// The ssh platform's failures against four real sshd hosts: a host that is down, one whose key
// changed, an install that fails on one host, a host slower than its timeout. Each fails the
// provision of the idle slot with an error naming the host, leaves nothing of it running, and
// leaves the live slot serving; minHealthy lets a deploy go on without a host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { isCutoverError, type CutoverError } from '../../src/shared/errors.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import type { Instance } from '../../src/shared/platform.js';
import { answer } from './contract.js';
import { makeSshFixture, type SshFixture } from './ssh-fixture.js';

const HOSTS = 4;

void describe('ssh platform failures', { timeout: 300_000 }, () => {
  let fixture: SshFixture;
  let blue: Instance[];
  const records: LogRecord[] = [];
  const logger = new Logger((record) => records.push(record), 'debug');

  before(async () => {
    fixture = await makeSshFixture(HOSTS);
  });
  after(async () => {
    await fixture?.cleanup();
  });
  beforeEach(async () => {
    blue = await fixture.platform().provision('blue', 'v1');
    assert.equal(blue.length, HOSTS * 2);
  });
  afterEach(async () => {
    for (const host of fixture.fleet.hosts) {
      host.throttle(undefined);
      if (!host.running()) await host.startSshd();
    }
    await fixture.fleet.trustCurrentKeys();
    await fixture.platform().reconcile(new Set());
    assert.equal((await fixture.appProcesses()).length, 0);
  });

  /** The live slot answers on every host, and the failed provision left nothing of green. */
  async function liveSlotUntouched(): Promise<void> {
    for (const instance of blue) assert.equal(await answer(instance), 'v1');
    const slots = (await fixture.appProcesses()).map((p) => p.slot);
    assert.equal(slots.filter((slot) => slot === 'green').length, 0, 'green processes left');
    assert.equal(slots.filter((slot) => slot === 'blue').length, HOSTS * 2);
  }

  async function provisionFails(overrides: Record<string, unknown>): Promise<CutoverError> {
    const platform = fixture.platform(overrides, { logger });
    try {
      await platform.provision('green', 'v2');
    } catch (error) {
      assert.ok(isCutoverError(error), String(error));
      return error;
    } finally {
      await platform.close();
    }
    assert.fail('provision succeeded');
  }

  it('a host that is down: CUTOVER_E_SSH_CONNECT naming it; with minHealthy 75% the others go on', async () => {
    const down = fixture.fleet.hosts[2]!;
    await down.stopSshd();
    const error = await provisionFails({});
    assert.equal(error.code, 'CUTOVER_E_SSH_CONNECT');
    assert.ok(error.message.includes(down.address), error.message);
    assert.match(error.message, /3\/4 hosts provisioned, 4 needed/);
    await liveSlotUntouched();

    const platform = fixture.platform({ minHealthy: '75%' });
    const progress: string[] = [];
    const green = await platform.provision('green', 'v2', { onProgress: (line) => progress.push(line) });
    assert.equal(green.length, (HOSTS - 1) * 2);
    assert.ok(green.every((instance) => instance.host !== down.address));
    for (const instance of green) assert.equal(await answer(instance), 'v2');
    assert.ok(
      progress.some((line) => line.includes(`going on without ${down.address}`)),
      progress.join('\n'),
    );
    await platform.close();
  });

  it('a host whose key changed: CUTOVER_E_SSH_HOST_KEY naming the host and the new SHA256 fingerprint', async () => {
    const changed = fixture.fleet.hosts[1]!;
    await changed.changeHostKey();
    const error = await provisionFails({});
    assert.equal(error.code, 'CUTOVER_E_SSH_HOST_KEY');
    assert.ok(error.message.includes(changed.address), error.message);
    const shown = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', changed.hostKeyFile], {
      encoding: 'utf8',
    }).split(' ')[1]!;
    assert.ok(error.message.includes(shown), `${shown} not in: ${error.message}`);
    await liveSlotUntouched();
  });

  it("an install that fails on one host: its last output lines in the error, the others' green stopped", async () => {
    const bad = fixture.fleet.hosts[3]!;
    const hosts = fixture.fleet.hosts.map((host) => ({
      host: host.address,
      roles: host === bad ? ['bad'] : ['web'],
    }));
    const error = await provisionFails({
      hosts,
      tasks: {
        migrate: {
          when: 'before',
          roles: ['bad'],
          commands: ['echo "checking space"', 'echo "disk full on this host" >&2', 'exit 7'],
        },
      },
    });
    assert.equal(error.code, 'CUTOVER_E_PROVISION');
    assert.ok(error.message.includes(bad.address), error.message);
    assert.match(error.message, /task migrate failed \(exit 7\)/);
    assert.match(error.message, /disk full on this host/);
    await liveSlotUntouched();
  });

  it('a host slower than its timeout: the error names it and the timeout', async () => {
    const slow = fixture.fleet.hosts[0]!;
    slow.throttle('8kbit');
    const error = await provisionFails({ hostTimeout: '2s' });
    slow.throttle(undefined);
    assert.ok(
      error.message.includes(`${slow.address}: did not finish within the host timeout (2000 ms)`),
      error.message,
    );
    await liveSlotUntouched();
  });

  it('no key material reaches the logs or the errors', async () => {
    const key = await readFile(fixture.fleet.identityFile, 'utf8');
    const body = key.split('\n').filter((line) => line !== '' && !line.startsWith('-----'))[0]!;
    const text = JSON.stringify(records);
    assert.ok(records.length > 0, 'the failures above logged something');
    assert.ok(!text.includes(body) && !text.includes('PRIVATE KEY'));
  });
});
