// How a release gets onto the hosts and what runs around its start, on real sshd hosts: a
// tarball artifact (sent once, then found by its checksum), `commands` filling the release dir
// on the host, tasks per role with their output streamed to the progress per host, and a key
// with a passphrase taken from the environment.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import { answer } from './contract.js';
import { makeSshFixture, type SshFixture } from './ssh-fixture.js';

void describe('ssh platform releases and tasks', { timeout: 300_000 }, () => {
  let fixture: SshFixture;

  before(async () => {
    fixture = await makeSshFixture(2, ['v1', 'v2']);
    execFileSync('tar', [
      '-czf',
      path.join(fixture.baseDir, 'v1.tgz'),
      '-C',
      path.join(fixture.baseDir, 'releases', 'v1'),
      '.',
    ]);
  });
  after(async () => {
    await fixture?.cleanup();
  });
  afterEach(async () => {
    await fixture.platform().reconcile(new Set());
  });

  it('a tarball artifact is unpacked into releases/<release>; a second provision sends nothing', async () => {
    const platform = fixture.platform({ artifact: { path: '${RELEASE}.tgz' } });
    const progress: string[] = [];
    const instances = await platform.provision('blue', 'v1', { onProgress: (line) => progress.push(line) });
    for (const instance of instances) assert.equal(await answer(instance), 'v1');
    assert.equal(progress.filter((line) => line.includes('installing release v1')).length, 2);
    for (const host of fixture.fleet.hosts) {
      const files = await readdir(path.join(host.rootOnDisk, 'releases', 'v1'));
      assert.ok(files.includes('version-app.js') && files.includes('.cutover-release'), files.join());
      // No temp dir left behind.
      assert.deepEqual(
        (await readdir(path.join(host.rootOnDisk, 'releases'))).filter((name) => name.startsWith('.')),
        [],
      );
    }
    await platform.stop('blue', { graceMs: 1_000 });
    const again: string[] = [];
    await platform.provision('blue', 'v1', { onProgress: (line) => again.push(line) });
    assert.ok(!again.some((line) => line.includes('installing release')), again.join('\n'));
  });

  it('`commands` fill $RELEASE_DIR on the host, which becomes releases/<release>', async () => {
    const platform = fixture.platform({
      artifact: undefined,
      commands: [`cp -R ${fixture.baseDir}/releases/$RELEASE/. "$RELEASE_DIR"/`, 'echo "fetched $RELEASE"'],
    });
    const progress: string[] = [];
    const instances = await platform.provision('green', 'v2', { onProgress: (line) => progress.push(line) });
    for (const instance of instances) assert.equal(await answer(instance), 'v2');
    for (const host of fixture.fleet.hosts)
      assert.ok(progress.includes(`[${host.address}] fetched v2`), progress.join('\n'));
  });

  it('tasks run on their roles only, in order around the start, with output streamed per host', async () => {
    const [web, worker] = fixture.fleet.hosts;
    const progress: string[] = [];
    const platform = fixture.platform({
      hosts: [
        { host: web!.address, roles: ['web'] },
        { host: worker!.address, roles: ['worker'] },
      ],
      tasks: {
        warm: { when: 'before', roles: ['web'], commands: ['echo "warming $RELEASE"'] },
        announce: { when: 'after', commands: ['echo "started in $(basename "$PWD")"'] },
        check: { when: 'smoke', roles: ['worker'], commands: ['test -f VERSION && echo smoke-ok'] },
      },
    });
    await platform.provision('blue', 'v2', { onProgress: (line) => progress.push(line) });
    const of = (address: string) =>
      progress
        .filter((line) => line.startsWith(`[${address}] `))
        .map((line) => line.slice(address.length + 3));
    assert.deepEqual(
      of(web!.address).filter((line) => line.includes(': ')),
      ['warm: warming v2', 'announce: started in v2'],
    );
    assert.deepEqual(
      of(worker!.address).filter((line) => line.includes(': ')),
      ['announce: started in v2', 'check: smoke-ok'],
    );
  });

  it('a key with a passphrase from passphraseEnv logs in; the passphrase is logged nowhere', async () => {
    const keyFile = path.join(fixture.baseDir, 'id_locked');
    const passphrase = `pass-${Math.random().toString(36).slice(2)}`;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', keyFile]);
    await appendFile(path.join(fixture.fleet.dir, 'authorized_keys'), await readFile(`${keyFile}.pub`));
    process.env.CUTOVER_TEST_SSH_PASSPHRASE = passphrase;
    const records: LogRecord[] = [];
    try {
      const platform = fixture.platform(
        {
          identityFile: keyFile,
          passphraseEnv: 'CUTOVER_TEST_SSH_PASSPHRASE',
          hosts: [{ host: fixture.fleet.hosts[0]!.address }],
        },
        { logger: new Logger((record) => records.push(record), 'debug') },
      );
      const instances = await platform.provision('green', 'v1');
      for (const instance of instances) assert.equal(await answer(instance), 'v1');
      const wrong = fixture.platform({
        identityFile: keyFile,
        passphraseEnv: 'CUTOVER_TEST_NO_SUCH_VARIABLE',
        hosts: [{ host: fixture.fleet.hosts[1]!.address }],
      });
      await assert.rejects(
        wrong.provision('green', 'v1'),
        (error: Error) =>
          isCutoverError(error, 'CUTOVER_E_SSH_CONNECT') &&
          /identity cannot be used/.test(error.message) &&
          !error.message.includes(passphrase),
      );
    } finally {
      delete process.env.CUTOVER_TEST_SSH_PASSPHRASE;
    }
    assert.ok(!JSON.stringify(records).includes(passphrase));
  });
});
