/**
 * Recipe 1 (replace the instances behind the same load balancer; aws-asg mode
 * replace-instances) end to end against moto through `cutover deploy` and `cutover rollback`,
 * one-shot and with a server. The production group, its launch template and its balancer exist
 * before cutover (the fixture makes them). Asserted on what AWS holds after each step: the
 * group's members (InService / Standby), the balancer's healthy instances, the template's
 * default version and its image, the baked images and their tags, which instances EC2 has
 * terminated, and the group's capacity.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { CUTOVER_TAG, tagValue } from '../../src/aws/cutover-tags.js';
import { makeReplaceFixture, type ReplaceFixture } from '../platforms/aws-asg-replace-fixture.js';
import { AWS_TEST_REGION } from '../platforms/aws-asg-fixture.js';
import { waitFor } from '../support/load.js';
import { CutoverHarness, type CliResult } from './harness.js';
import type { DeploymentOutput } from './aws-scenario.js';

const HEALTH_SCRIPT = fileURLToPath(new URL('../support/apps/asg-instance-health.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function configYaml(fixture: ReplaceFixture, adminPort: number, rollbackWindow = '10m'): string {
  const connection = { region: AWS_TEST_REGION, endpoint: fixture.aws.moto.endpoint, maxAttempts: 1 };
  const router =
    fixture.kind === 'aws-elb'
      ? { kind: fixture.kind, loadBalancer: fixture.balancer.name, ...connection, settleTimeout: '20s' }
      : { kind: fixture.kind, targetGroup: fixture.balancer.name, ...connection, settleTimeout: '20s' };
  // moto's instances run nothing: the check is the group's view (Standby counts: the idle slot waits there).
  const probe = [
    process.execPath,
    '--import',
    TSX,
    HEALTH_SCRIPT,
    fixture.aws.moto.endpoint,
    AWS_TEST_REGION,
    'standby-ok',
  ];
  return [
    `app: ${fixture.aws.app}`,
    `admin: { listen: "127.0.0.1:${adminPort}" }`,
    `platform: ${JSON.stringify(fixture.settings({ readyTimeout: '20s', pollInterval: '50ms' }))}`,
    `router: ${JSON.stringify(router)}`,
    'health:',
    `  exec: { command: ${JSON.stringify(probe)} }`,
    '  interval: 100ms',
    '  timeout: 20s',
    '  healthyThreshold: 1',
    '  unhealthyThreshold: 1',
    '  deadline: 60s',
    'drain: { timeout: 1s }',
    `rollbackWindow: ${rollbackWindow}`,
    '',
  ].join('\n');
}

interface Scene {
  fixture: ReplaceFixture;
  harness: CutoverHarness;
}

async function run(scene: Scene, args: string[]): Promise<DeploymentOutput & { result: CliResult }> {
  const result = await scene.harness.cli([...args, '--json']);
  try {
    return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
  } catch {
    assert.fail(`${args.join(' ')}: not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

async function terminated(fixture: ReplaceFixture, ids: readonly string[]): Promise<string[]> {
  const answer = await fixture.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }));
  return (answer.Reservations ?? [])
    .flatMap((reservation) => reservation.Instances ?? [])
    .filter((instance) => ['shutting-down', 'terminated'].includes(instance.State?.Name ?? ''))
    .map((instance) => instance.InstanceId!)
    .sort();
}

/** deploy v1, deploy v2, rollback: asserted after each step. Returns blue's v1 instances. */
async function deployDeployRollback(scene: Scene): Promise<string[]> {
  const { fixture } = scene;
  const original = fixture.original;

  const first = await run(scene, ['deploy', 'v1']);
  assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
  const blue = await fixture.liveTagged('blue');
  assert.equal(blue.length, 2, 'two v1 instances');
  assert.deepEqual(await fixture.members('InService'), blue);
  assert.deepEqual(await fixture.balancer.healthyInstances(), blue);
  // The instances from before cutover are the other slot now: warm in Standby, off the balancer.
  assert.deepEqual(await fixture.members('Standby'), [...original].sort());
  const v1Version = await fixture.defaultVersion();
  assert.ok(v1Version.number > 1, 'a new default version');
  const images = await fixture.bakedImages();
  const v1Image = images.find((image) => tagValue(image.Tags, CUTOVER_TAG.release) === 'v1');
  assert.ok(v1Image, 'the v1 image is baked and tagged');
  assert.equal(v1Version.imageId, v1Image.ImageId);
  assert.equal(tagValue(v1Image.Tags, CUTOVER_TAG.slot), 'blue');
  assert.equal(tagValue(v1Image.Tags, CUTOVER_TAG.app), fixture.aws.app);
  assert.equal(tagValue(v1Image.Tags, CUTOVER_TAG.deployment), first.deployment.id);
  const capacity = await fixture.group();
  assert.equal(capacity.DesiredCapacity, 2);

  const second = await run(scene, ['deploy', 'v2']);
  assert.equal(second.result.code, 0, second.result.stderr + second.result.stdout);
  assert.equal(second.deployment.phase, 'standby');
  assert.equal(second.deployment.toSlot, 'green');
  const green = await fixture.liveTagged('green');
  assert.equal(green.length, 2, 'two v2 instances, no duplicate');
  assert.deepEqual(await fixture.members('InService'), green);
  assert.deepEqual(await fixture.balancer.healthyInstances(), green);
  // Blue stays warm for an instant rollback: Standby, not terminated.
  assert.deepEqual(await fixture.members('Standby'), blue);
  assert.deepEqual(await terminated(fixture, blue), []);
  // What the green slot held before (the pre-cutover instances) went before v2 came.
  assert.deepEqual(await terminated(fixture, original), [...original].sort());
  const v2Version = await fixture.defaultVersion();
  const v2Image = (await fixture.bakedImages()).find(
    (image) => tagValue(image.Tags, CUTOVER_TAG.release) === 'v2',
  );
  assert.ok(v2Image);
  assert.equal(v2Version.imageId, v2Image.ImageId);
  assert.equal((await fixture.group()).DesiredCapacity, 2);

  const rolledBack = await run(scene, ['rollback']);
  assert.equal(rolledBack.result.code, 0, rolledBack.result.stderr + rolledBack.result.stdout);
  assert.equal(rolledBack.deployment.phase, 'rolled-back');
  // The rolled-back slot is stopped after the phase is journaled (a server answers before that):
  // its instances terminated, then the default version and the MaxSize restored, in that order.
  await waitFor(
    async () =>
      (await terminated(fixture, green)).length === green.length && (await fixture.group()).MaxSize === 2,
    { timeoutMs: 30_000, intervalMs: 100, what: () => 'the rolled-back slot to be retired' },
  );
  assert.deepEqual(await fixture.members('InService'), blue);
  assert.deepEqual(await fixture.balancer.healthyInstances(), blue);
  assert.deepEqual(await fixture.members('Standby'), []);
  assert.deepEqual(await terminated(fixture, green), green);
  assert.deepEqual(await fixture.defaultVersion(), v1Version, "the default is v1's version again");
  const after = await fixture.group();
  assert.equal(after.DesiredCapacity, capacity.DesiredCapacity);
  assert.equal(after.MaxSize, 2, 'MaxSize back to what it was before cutover');
  return blue;
}

for (const mode of ['one-shot', 'server'] as const) {
  void describe(`recipe 1 (replace instances) through cutover ${mode}, against moto`, () => {
    const scene = {} as Scene;
    before(async () => {
      scene.fixture = await makeReplaceFixture(mode === 'one-shot' ? 'aws-target-group' : 'aws-elb');
      scene.harness = await CutoverHarness.create({ releases: {} });
      writeFileSync(scene.harness.configFile, configYaml(scene.fixture, scene.harness.adminPort));
      if (mode === 'server') await scene.harness.startServer();
    });
    after(async () => {
      try {
        await scene.harness?.teardown();
      } finally {
        await scene.fixture?.cleanup();
      }
    });

    const name =
      mode === 'server'
        ? 'deploy v1, deploy v2, rollback (Classic ELB): blue serves again, green terminated, default version and capacity restored'
        : 'deploy v1, deploy v2, rollback (target group); v2 again, and its retirement terminates blue only after green serves';
    void it(name, async () => {
      const blue = await deployDeployRollback(scene);
      if (mode === 'server') return;
      const { fixture } = scene;
      // A short window, so `cutover retire` retires blue once it has passed.
      writeFileSync(scene.harness.configFile, configYaml(fixture, scene.harness.adminPort, '2s'));

      const again = await run(scene, ['deploy', 'v2']);
      assert.equal(again.result.code, 0, again.result.stderr + again.result.stdout);
      const green = await fixture.liveTagged('green');
      assert.equal(green.length, 2);
      // The switch made green serve first; blue is still there, out of service.
      assert.deepEqual(await fixture.balancer.healthyInstances(), green);
      assert.deepEqual(await terminated(fixture, blue), []);

      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const retired = await scene.harness.cli(['retire']);
      assert.equal(retired.code, 0, retired.stderr + retired.stdout);
      assert.deepEqual(await terminated(fixture, blue), blue);
      assert.deepEqual(await fixture.members('InService'), green);
      assert.deepEqual(await fixture.balancer.healthyInstances(), green);
      const group = await fixture.group();
      assert.equal(group.DesiredCapacity, 2);
      assert.equal(group.MaxSize, 2);
      // Images of the last keepImages (2) releases stay: v1 and v2; nothing baked twice.
      const images = (await fixture.bakedImages())
        .map((image) => tagValue(image.Tags, CUTOVER_TAG.release))
        .sort();
      assert.deepEqual(images, ['v1', 'v2']);
    });
  });
}

void describe('recipe 1 failures through cutover deploy (one-shot, target group), against moto', () => {
  const scene = {} as Scene;
  before(async () => {
    scene.fixture = await makeReplaceFixture('aws-target-group');
    scene.harness = await CutoverHarness.create({ releases: {} });
    writeFileSync(scene.harness.configFile, configYaml(scene.fixture, scene.harness.adminPort));
  });
  after(async () => {
    try {
      await scene.harness?.teardown();
    } finally {
      await scene.fixture?.cleanup();
    }
  });

  void it('KillNineBetweenTwoAwsCalls_BlueKeepsServing_TheNextCommandResumes_NothingDuplicated', async () => {
    const { fixture, harness } = scene;
    const first = await run(scene, ['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    const blue = await fixture.liveTagged('blue');

    // Killed in the middle of green's provision, between two AWS calls (its instances launched).
    const killed = await harness.cli(['deploy', 'v2', '--json'], { CUTOVER_TEST_AWS_CRASH_AT: '7' });
    assert.equal(killed.code, -1, `killed by SIGKILL: ${killed.stdout}${killed.stderr}`);
    const serving = await fixture.balancer.healthyInstances();
    assert.ok(
      blue.every((id) => serving.includes(id)),
      'blue serves after the kill',
    );
    assert.equal((await fixture.liveTagged('green')).length, 2, 'the kill came after RunInstances');

    // The next command resumes the deployment to its end.
    const resumed = await harness.cli(['retire', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const waiting = (JSON.parse(resumed.stdout) as { waiting: DeploymentOutput['deployment'][] }).waiting;
    assert.deepEqual(
      waiting.map((deployment) => [deployment.release, deployment.toSlot, deployment.phase]),
      [['v2', 'green', 'standby']],
      'the killed deployment, resumed to standby',
    );
    const green = await fixture.liveTagged('green');
    assert.equal(green.length, 2, 'two v2 instances, no duplicate');
    assert.deepEqual(await fixture.balancer.healthyInstances(), green);
    assert.deepEqual(await fixture.members('Standby'), blue);
    const releases = (await fixture.bakedImages())
      .map((image) => tagValue(image.Tags, CUTOVER_TAG.release))
      .sort();
    assert.deepEqual(releases, ['v1', 'v2'], 'one image per release');
    assert.equal((await fixture.group()).DesiredCapacity, 2);
  });
});
