/**
 * examples/ssh-fleet: its cutover.yml loads as the README says (ssh platform on three hosts,
 * HAProxy), and make-release.sh packs a tarball holding the app and its VERSION.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/ssh-fleet');

void describe('examples/ssh-fleet', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await removeTempDir(dir);
  });

  void it('ExampleConfig_LoadsAsThreeHostsBehindHaproxy', () => {
    const config = loadConfig(path.join(EXAMPLE, 'cutover.yml'));
    assert.ok(config.platform.kind === 'ssh');
    assert.equal(config.router.kind, 'haproxy');
    assert.equal(config.platform.hosts.length, 3);
    assert.equal(config.platform.instancesPerHost, 2);
    assert.equal(config.platform.artifact?.path, 'dist/demo-${RELEASE}.tgz');
    assert.ok(config.router.kind === 'haproxy' && config.router.maxInstancesPerSlot === 6);
  });

  void it('MakeRelease_PacksTheAppAndItsVersion', async () => {
    const dir = await makeTempDir('example-ssh-fleet');
    dirs.push(dir);
    await cp(EXAMPLE, dir, { recursive: true });
    execFileSync('sh', [path.join(dir, 'make-release.sh'), 'v7'], { stdio: 'ignore' });
    const listing = execFileSync('tar', ['-tzf', path.join(dir, 'dist', 'demo-v7.tgz')], {
      encoding: 'utf8',
    });
    for (const file of ['./app.js', './VERSION', './package.json', './migrate.js'])
      assert.ok(listing.split('\n').includes(file), listing);
    const version = execFileSync('tar', ['-xzOf', path.join(dir, 'dist', 'demo-v7.tgz'), './VERSION'], {
      encoding: 'utf8',
    });
    assert.equal(version.trim(), 'v7');
  });
});
