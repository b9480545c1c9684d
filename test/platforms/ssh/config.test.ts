// The ssh platform's config: defaults, the rules between keys, errors naming file, line and
// key, and hostile values (release names, host output) that must fail one call, never a process.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { isCutoverError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { requiredHosts, slotBasePort, sshPlatformConfig } from '../../../src/platforms/ssh/config.js';
import { parseList } from '../../../src/platforms/ssh/fleet-host.js';
import { lastLines } from '../../../src/platforms/ssh/host-failure.js';
import { createSshPlatform } from '../../../src/platforms/ssh/ssh-platform.js';

const BASE = {
  kind: 'ssh',
  hosts: [{ host: '10.0.0.1' }, { host: '10.0.0.2', port: 2222, roles: ['web'] }],
  user: 'deploy',
  root: '/srv/shop',
  artifact: { path: 'dist/shop-${RELEASE}.tgz' },
  start: 'exec node server.js',
  portRange: { from: 9000, to: 9009 },
};

void test('Defaults: port 22, known_hosts checked, concurrency 8, every host required, 10 s grace', () => {
  const config = sshPlatformConfig.parse(BASE);
  assert.equal(config.port, 22);
  assert.equal(config.knownHosts, '~/.ssh/known_hosts');
  assert.equal(config.concurrency, 8);
  assert.equal(config.minHealthy, '100%');
  assert.equal(config.connectTimeout, 10_000);
  assert.equal(config.stopGrace, 10_000);
  assert.equal(config.instancesPerHost, 1);
});

void test('Exactly one of artifact and commands; enough ports for both slots; no host twice', () => {
  const { artifact: _artifact, ...noArtifact } = BASE;
  assert.ok(!sshPlatformConfig.safeParse(noArtifact).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, commands: ['git fetch'] }).success);
  assert.ok(sshPlatformConfig.safeParse({ ...noArtifact, commands: ['git fetch'] }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, instancesPerHost: 6 }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, hosts: [{ host: 'a' }, { host: 'a' }] }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, root: 'relative/dir' }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, root: '/srv/$(reboot)' }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, hosts: [{ host: 'a b' }] }).success);
  assert.ok(!sshPlatformConfig.safeParse({ ...BASE, minHealthy: '120%' }).success);
});

void test('Ports: blue takes the first instancesPerHost ports, green the next', () => {
  const config = sshPlatformConfig.parse({ ...BASE, instancesPerHost: 3 });
  assert.equal(slotBasePort(config, 'blue'), 9000);
  assert.equal(slotBasePort(config, 'green'), 9003);
});

void test('minHealthy: a share rounds up, a number is capped at the fleet, never below one host', () => {
  assert.equal(requiredHosts('100%', 4), 4);
  assert.equal(requiredHosts('90%', 10), 9);
  assert.equal(requiredHosts('75%', 3), 3);
  assert.equal(requiredHosts('66%', 3), 2);
  assert.equal(requiredHosts('0%', 3), 1);
  assert.equal(requiredHosts(5, 3), 3);
});

void test('A config error names the file, the line and the key', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-ssh-config-'));
  try {
    const file = path.join(dir, 'cutover.yml');
    await writeFile(
      file,
      [
        'app: shop',
        'platform:',
        '  kind: ssh',
        '  hosts: [{ host: 10.0.0.1 }]',
        '  user: deploy',
        '  root: /srv/shop',
        '  artifact: { path: "dist/${RELEASE}.tgz" }',
        '  start: ./run',
        '  portRange: { from: 9000, to: 9009 }',
        '  concurrency: 0',
        '',
      ].join('\n'),
    );
    assert.throws(
      () => loadConfig(file),
      (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_CONFIG') &&
        error.message.includes(`${file}:10`) &&
        error.message.includes('concurrency'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('A release name that could leave the releases dir is refused before any host is touched', async () => {
  const platform = createSshPlatform(sshPlatformConfig.parse(BASE), {
    app: 'shop',
    baseDir: '/nonexistent',
    logger: silentLogger,
  });
  for (const release of ['../etc', 'a/b', '', '-rf', 'v1;reboot', 'x'.repeat(200)]) {
    await assert.rejects(platform.checkRelease!(release), (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
    );
  }
  await assert.rejects(platform.provision('blue', '../etc'), (error: unknown) =>
    isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
  );
  await platform.close();
});

void test('Hostile host output: list lines that are not instances are skipped; endless lines are cut in errors', () => {
  const listed = parseList(
    [
      'blue 0 v1 9000 1 123 0',
      'garbage',
      'purple 0 v1 9000 1 1 0',
      'green x v1 9000 1 1 0',
      'green 1 v2 99999999999999999999 1',
      '\u0000'.repeat(10_000),
      'green 1 v2 9003 0 0 4',
    ].join('\n'),
  );
  assert.deepEqual(
    listed.map((i) => `${i.slot}-${i.index} ${i.release} ${i.port} ${i.alive} ${i.restarts}`),
    ['blue-0 v1 9000 true 0', 'green-1 v2 9003 false 4'],
  );
  const tail = lastLines({ stdout: 'x'.repeat(1_000_000), stderr: 'ok\n' });
  assert.ok(tail.join('\n').length < 2_000);
});
