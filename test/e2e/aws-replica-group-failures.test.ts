/**
 * Recipe 2's failures through `cutover deploy` (one-shot) against moto, router aws-target-group:
 * a group whose instances never pass their check (stopped in EC2, as moto's gap allows), and a
 * kill -9 of cutover between two AWS calls of the provision. Each ends with traffic on a
 * healthy group, and a rerun that completes without a duplicate group, template or instance
 * (counted by tag in moto).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { StopInstancesCommand } from '@aws-sdk/client-ec2';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { CutoverHarness, type CliResult } from './harness.js';
import { startCli } from './oneshot-scenario.js';
import {
  attachedGroups,
  configYaml,
  createBalancer,
  groupInstances,
  type Balancer,
  type DeploymentOutput,
} from './aws-scenario.js';

void describe('recipe 2 failures through cutover deploy, against moto', () => {
  let fixture: AwsAsgFixture;
  let harness: CutoverHarness;
  let balancer: Balancer;

  beforeEach(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    balancer = await createBalancer('aws-target-group', fixture);
    harness = await CutoverHarness.create({ releases: {} });
    // Two passes a second apart: the test has time to stop green's instances first.
    writeFileSync(
      harness.configFile,
      configYaml(fixture, 'aws-target-group', balancer.name, {
        healthyThreshold: 2,
        interval: '1s',
        deadline: '12s',
      }),
    );
  });
  afterEach(async () => {
    try {
      await harness?.teardown();
    } finally {
      balancer?.destroy();
      await fixture?.cleanup();
    }
  });

  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await harness.cli([...args, '--json'], env);
    return { result, output: parse(result) };
  };
  const blue = () => groupName(fixture.app, 'blue', 'v1');
  const green = () => groupName(fixture.app, 'green', 'v2');

  void it('AGroupThatNeverTurnsHealthy_AbortsWithBlueServing_AndARerunCompletesWithoutDuplicates', async () => {
    const first = await run(['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);

    const deploy = startCli(harness, ['deploy', 'v2', '--json']);
    // As soon as green's instances are in service, EC2 stops them: they never pass again.
    let stopped: string[] = [];
    for (let tries = 0; stopped.length === 0 && tries < 400; tries += 1) {
      stopped = await groupInstances(fixture, green()).catch(() => []);
      if (stopped.length === 0) await sleep(25);
    }
    assert.equal(stopped.length, 2, 'green came up');
    await fixture.ec2.send(new StopInstancesCommand({ InstanceIds: stopped }));
    const failed = await deploy.result;
    const output = parse(failed);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.equal(output?.deployment.phase, 'aborted');
    assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);
    assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, blue()));

    const rerun = await run(['deploy', 'v2']);
    assert.equal(rerun.result.code, 0, rerun.result.stderr + rerun.result.stdout);
    assert.equal(rerun.output?.deployment.phase, 'standby');
    assert.deepEqual(await attachedGroups(fixture, balancer), [green()]);
    assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, green()));
    assert.equal(await fixture.countGroups(), 2);
    assert.equal(await fixture.countTemplates(), 2);
    assert.equal(await fixture.countRunning(), 4, 'blue warm and green serving, two each');
  });

  void it('KillNineBetweenTwoAwsCalls_TheNextCommandResumes_WithoutDuplicates', async () => {
    const first = await run(['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);

    // Crash point 2: green's launch template exists, its group does not yet.
    const killed = await run(['deploy', 'v2'], { CUTOVER_TEST_AWS_CRASH_AT: '2' });
    assert.equal(killed.result.code, -1, `killed by SIGKILL: ${killed.result.stdout}${killed.result.stderr}`);
    assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);

    // `retire` changes nothing of its own before the window ends: it shows the resumed run alone.
    const resumed = await run(['retire']);
    assert.equal(resumed.result.code, 0, resumed.result.stderr + resumed.result.stdout);
    const waiting = (JSON.parse(resumed.result.stdout) as { waiting: DeploymentOutput['deployment'][] })
      .waiting;
    assert.deepEqual(
      waiting.map((deployment) => [deployment.release, deployment.toSlot, deployment.phase]),
      [['v2', 'green', 'standby']],
      'the killed deployment, resumed to standby',
    );
    assert.deepEqual(await attachedGroups(fixture, balancer), [green()]);
    assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, green()));
    assert.equal(await fixture.countGroups(), 2);
    assert.equal(await fixture.countTemplates(), 2);
    assert.equal(await fixture.countRunning(), 4);
  });
});

function parse(result: CliResult): DeploymentOutput | undefined {
  try {
    return JSON.parse(result.stdout) as DeploymentOutput;
  } catch {
    return undefined;
  }
}
