/**
 * Recipe 2 (a replica group on the same load balancer) end to end against moto, in one-shot
 * mode: `cutover deploy v1`, `cutover deploy v2`, `cutover rollback`, with platform aws-asg and
 * router aws-target-group, then aws-elb (Classic ELB). Each step is asserted on what AWS holds:
 * which group the balancer has attached, which instances it sees healthy, which groups and
 * launch templates exist (counted by tag: no duplicate), and the warm old group.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { CutoverHarness, type CliResult } from './harness.js';
import {
  attachedGroups,
  configYaml,
  createBalancer,
  groupInstances,
  type Balancer,
  type DeploymentOutput,
} from './aws-scenario.js';

for (const kind of ['aws-target-group', 'aws-elb'] as const) {
  void describe(`recipe 2 (replica group) through cutover deploy, router ${kind}, against moto`, () => {
    let fixture: AwsAsgFixture;
    let harness: CutoverHarness;
    let balancer: Balancer;

    before(async () => {
      fixture = await makeAwsAsgFixture(['v1', 'v2']);
      balancer = await createBalancer(kind, fixture);
      harness = await CutoverHarness.create({ releases: {} });
      writeFileSync(harness.configFile, configYaml(fixture, kind, balancer.name));
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        balancer?.destroy();
        await fixture?.cleanup();
      }
    });

    const deploy = async (args: string[]): Promise<DeploymentOutput & { result: CliResult }> => {
      const result = await harness.cli([...args, '--json']);
      try {
        return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
      } catch {
        assert.fail(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
      }
    };
    const blue = () => groupName(fixture.app, 'blue', 'v1');
    const green = () => groupName(fixture.app, 'green', 'v2');

    void it('deploy v1, deploy v2, rollback: the balancer serves one group at a time, the old one stays warm', async () => {
      const first = await deploy(['deploy', 'v1']);
      assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
      assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, blue()));

      const second = await deploy(['deploy', 'v2']);
      assert.equal(second.result.code, 0, second.result.stderr + second.result.stdout);
      assert.equal(second.deployment.phase, 'standby');
      assert.equal(second.deployment.toSlot, 'green');
      assert.deepEqual(await attachedGroups(fixture, balancer), [green()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, green()));
      // The old group stays warm for an instant rollback: same capacity, instances up.
      assert.equal((await groupInstances(fixture, blue())).length, 2);
      assert.equal(await fixture.countGroups(), 2);
      assert.equal(await fixture.countTemplates(), 2);

      // `cutover logs` shows the warm group's instances' serial console, each line naming its instance.
      const logs = await harness.cli(['logs', 'blue', '--json']);
      assert.equal(logs.code, 0, logs.stderr + logs.stdout);
      const lines = (JSON.parse(logs.stdout) as { lines: { instanceId: string }[] }).lines;
      assert.ok(lines.length > 0, 'console lines');
      const blueInstances = new Set(await groupInstances(fixture, blue()));
      assert.ok(
        lines.every((line) => blueInstances.has(line.instanceId)),
        JSON.stringify(lines.slice(0, 3)),
      );

      const rolledBack = await deploy(['rollback']);
      assert.equal(rolledBack.result.code, 0, rolledBack.result.stderr + rolledBack.result.stdout);
      assert.equal(rolledBack.deployment.phase, 'rolled-back');
      assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, blue()));
      // The rolled-back group is stopped (no instances), not duplicated.
      assert.deepEqual(await groupInstances(fixture, green()), []);
      assert.equal(await fixture.countRunning(), 2);
      assert.equal(await fixture.countGroups(), 2);
      assert.equal(await fixture.countTemplates(), 2);
    });
  });
}
