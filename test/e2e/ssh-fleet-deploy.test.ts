// cutover server with the ssh platform on three real sshd hosts (network namespaces) × two
// instances, HAProxy in front: deploy v2 under 50 keep-alive connections with no failed
// request, then a rollback inside the window that restarts no process on any host.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHaproxyHarness, type HaproxyHarness } from '../support/daemons/haproxy.js';
import { startSshFleet, type SshFleet } from '../support/daemons/sshd.js';
import { startLoad } from '../support/load.js';
import { appProcesses, writeReleases } from '../platforms/ssh-fixture.js';
import { CutoverHarness } from './harness.js';

const HOSTS = 3;
const PER_HOST = 2;

void describe('ssh fleet: 3 hosts × 2 instances behind HAProxy', { timeout: 600_000 }, () => {
  let fleet: SshFleet;
  let haproxy: HaproxyHarness;
  let harness: CutoverHarness;

  const processes = async () => (await appProcesses('e2e')).map((p) => `${p.slot} ${p.pid}`).sort();
  const body = async () =>
    (await (await fetch(harness.trafficUrl, { headers: { connection: 'close' } })).text()).trim();

  before(async () => {
    fleet = await startSshFleet(HOSTS);
    await writeReleases(fleet.dir, ['v1', 'v2']);
    haproxy = await startHaproxyHarness();
    await haproxy.router.close();
    harness = await CutoverHarness.create({
      releases: {},
      router: { config: haproxy.config, url: haproxy.publicUrl },
      platform: {
        kind: 'ssh',
        hosts: fleet.hosts.map((host) => ({ host: host.address, roles: ['web'] })),
        user: 'root',
        identityFile: fleet.identityFile,
        knownHosts: fleet.knownHosts,
        root: fleet.root,
        artifact: { path: path.join(fleet.dir, 'releases', '${RELEASE}') },
        start: `exec ${process.execPath} version-app.js --host 0.0.0.0`,
        portRange: { from: 22_000, to: 22_099 },
        instancesPerHost: PER_HOST,
        concurrency: 8,
        stopGrace: '2s',
        tasks: { smoke: { when: 'smoke', commands: ['test -f VERSION'] } },
      },
    });
    await harness.startServer();
  });
  after(async () => {
    await harness?.teardown();
    await haproxy?.teardown();
    await fleet?.teardown();
  });

  void it('deploys v2 under 50 keep-alive connections with 0 failed; the rollback restarts nothing', async () => {
    const first = await harness.cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout + harness.serverLog);
    assert.equal(await body(), 'v1');

    const load = startLoad({ url: harness.trafficUrl, connections: 50 });
    const started = Date.now();
    const second = await harness.cli(['deploy', 'v2']);
    const deployMs = Date.now() - started;
    const stats = await load.stop();
    assert.equal(second.code, 0, second.stderr + second.stdout);
    assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
    assert.ok((stats.bodies.v1 ?? 0) > 0 && (stats.bodies.v2 ?? 0) > 0, JSON.stringify(stats.bodies));
    assert.equal(await body(), 'v2');
    console.log(
      `# ssh e2e: deploy v2 to ${HOSTS}×${PER_HOST} took ${deployMs} ms; ${stats.sent} requests under 50 connections, ${stats.failed} failed`,
    );

    // The old slot stays warm on every host for the rollback window.
    const beforeRollback = await processes();
    assert.equal(beforeRollback.filter((p) => p.startsWith('blue')).length, HOSTS * PER_HOST);
    assert.equal(beforeRollback.filter((p) => p.startsWith('green')).length, HOSTS * PER_HOST);

    const rollbackLoad = startLoad({ url: harness.trafficUrl, connections: 50 });
    const rollback = await harness.cli(['rollback']);
    const rollbackStats = await rollbackLoad.stop();
    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    assert.equal(rollbackStats.failed, 0, rollbackStats.firstErrors.join('\n'));
    assert.equal(await body(), 'v1');
    // The old slot's processes, same pids: the rollback was a traffic move only (the rolled-back
    // slot is retired after it).
    const blue = (list: string[]) => list.filter((p) => p.startsWith('blue'));
    assert.deepEqual(blue(await processes()), blue(beforeRollback));
    console.log(
      `# ssh e2e: rollback under 50 connections: ${rollbackStats.sent} requests, ${rollbackStats.failed} failed, 0 processes restarted`,
    );
  });

  void it('a host that is down fails the deploy (non-zero exit, the host named) before traffic moves', async () => {
    const down = fleet.hosts[2]!;
    await down.stopSshd();
    try {
      const load = startLoad({ url: harness.trafficUrl, connections: 50 });
      const result = await harness.cli(['deploy', 'v2']);
      const stats = await load.stop();
      assert.notEqual(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout + result.stderr, /2\/3 hosts provisioned, 3 needed/);
      assert.ok((result.stdout + result.stderr).includes(down.address), result.stdout + result.stderr);
      assert.equal(stats.failed, 0, stats.firstErrors.join('\n'));
      assert.deepEqual(Object.keys(stats.bodies), ['v1']);
      assert.equal(await body(), 'v1');
      // Nothing of the failed slot is left on the hosts that were reachable.
      assert.equal((await processes()).filter((p) => p.startsWith('green')).length, 0);
    } finally {
      await down.startSshd();
    }
  });
});
