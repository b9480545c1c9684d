// The aws-asg platform in mode replace-instances against a real moto server: the plan equals
// the calls made, what provision leaves in AWS (tags, Standby, the default version, MaxSize),
// a kill -9 between every two AWS calls converging on a rerun with nothing duplicated (counted
// by tag), and instances that never become healthy at the balancer failing the provision.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CUTOVER_TAG, tagValue } from '../../src/aws/cutover-tags.js';
import type { ReplaceInstancesPlatform } from '../../src/platforms/aws-asg/replace-instances-platform.js';
import { versionDescription } from '../../src/platforms/aws-asg/replace-steps.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { makeReplaceFixture, type ReplaceFixture } from './aws-asg-replace-fixture.js';

void describe('aws-asg replace-instances: a plan lists exactly the calls provision makes (Classic ELB)', () => {
  let fixture: ReplaceFixture;
  before(async () => {
    fixture = await makeReplaceFixture('aws-elb');
  });
  after(async () => {
    await fixture?.cleanup();
  });

  void it('Provision_MakesThePlannedCalls_InOrder_AndParksTheTaggedInstancesInStandby', async () => {
    const platform = fixture.platform() as ReplaceInstancesPlatform;
    const planned = (await platform.provisionPlan('green', 'v2', 'd-7'))
      .filter((step) => step.kind === 'call')
      .map((step) => step.call);
    const made: string[] = [];
    const instances = await platform.provision('green', 'v2', {
      deploymentId: 'd-7',
      onProgress: (line) => made.push(line.split(':')[0]!),
    });
    assert.deepEqual(made, planned);
    assert.deepEqual(planned, [
      'CreateTags',
      'CreateOrUpdateTags',
      'RunInstances',
      'CreateImage',
      'UpdateAutoScalingGroup',
      'AttachInstances',
      'CreateLaunchTemplateVersion',
      'ModifyLaunchTemplate',
      'CreateOrUpdateTags',
      'EnterStandby',
    ]);
    // Nothing left to do: a rerun plans no call.
    assert.deepEqual(await platform.provisionPlan('green', 'v2', 'd-7'), []);

    const green = await fixture.liveTagged('green');
    assert.deepEqual(instances.map((instance) => instance.id).sort(), green);
    assert.deepEqual(await fixture.members('Standby'), green);
    assert.deepEqual(await fixture.members('InService'), [...fixture.original].sort());
    assert.deepEqual(await fixture.balancer.healthyInstances(), [...fixture.original].sort());
    const group = await fixture.group();
    assert.equal(group.DesiredCapacity, 2, 'Standby instances are not counted');
    assert.equal(group.MaxSize, 4, 'raised so the new instances could join');
    const image = (await fixture.bakedImages())[0]!;
    assert.deepEqual(
      [CUTOVER_TAG.app, CUTOVER_TAG.slot, CUTOVER_TAG.release, CUTOVER_TAG.deployment].map((key) =>
        tagValue(image.Tags, key),
      ),
      [fixture.aws.app, 'green', 'v2', 'd-7'],
    );
    const version = await fixture.defaultVersion();
    assert.equal(version.imageId, image.ImageId);
    const data = (
      await fixture.aws.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: fixture.templateId,
          Versions: [String(version.number)],
        }),
      )
    ).LaunchTemplateVersions![0]!;
    assert.equal(data.LaunchTemplateData?.InstanceType, 't3.micro', 'the full data is copied');
    assert.equal(
      Buffer.from(data.LaunchTemplateData?.UserData ?? '', 'base64').toString(),
      '#!/bin/sh\ninstall-shop v2 # green\n',
    );
    await platform.close();
  });
});

void describe('aws-asg replace-instances: failures (target group)', () => {
  let fixture: ReplaceFixture;
  before(async () => {
    fixture = await makeReplaceFixture('aws-target-group');
  });
  after(async () => {
    await fixture?.cleanup();
  });

  const countTagged = async (release: string) => ({
    instances: (await fixture.aws.instances()).filter(
      (instance) =>
        tagValue(instance.Tags, CUTOVER_TAG.release) === release &&
        ['pending', 'running'].includes(instance.State?.Name ?? ''),
    ).length,
    images: (
      await fixture.aws.ec2.send(
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: [{ Name: `tag:${CUTOVER_TAG.release}`, Values: [release] }],
        }),
      )
    ).Images!.length,
    versions: (
      await fixture.aws.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: fixture.templateId }),
      )
    ).LaunchTemplateVersions!.filter(
      (version) => version.VersionDescription === versionDescription(fixture.aws.app, 'green', release),
    ).length,
  });

  void it('InstancesNeverHealthyAtTheBalancer_ProvisionFailsNamingThem_StopLeavesBlueServingAndRestores', async () => {
    const platform = fixture.platform({ readyTimeout: '1s' });
    const before = await fixture.defaultVersion();
    const maxBefore = (await fixture.group()).MaxSize;
    // A first attempt killed right after AttachInstances; then the new instances are stopped,
    // which moto's target group reports as `unused`: they never become healthy there.
    const planned = (await (platform as ReplaceInstancesPlatform).provisionPlan('green', 'sick'))
      .filter((step) => step.kind === 'call')
      .map((step) => step.call);
    const crashAt = planned.indexOf('AttachInstances') + 1;
    assert.ok(crashAt > 0, planned.join(', '));
    const line = await fixture.aws.provisionInChild('green', 'sick', {
      crashAt,
      overrides: fixture.settings(),
    });
    assert.equal(line, undefined, 'the first attempt died after AttachInstances');
    const sick = await fixture.liveTagged('green');
    await fixture.aws.ec2.send(new StopInstancesCommand({ InstanceIds: sick }));
    const error = await platform.provision('green', 'sick').then(
      () => assert.fail('provision succeeded'),
      (failure: unknown) => failure,
    );
    assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
    // The message names each new instance and its state.
    for (const id of sick) assert.match((error as Error).message, new RegExp(id));
    assert.deepEqual(await fixture.defaultVersion(), before, 'the default version is untouched');
    const blue = [...fixture.original].sort();
    const serving = await fixture.balancer.healthyInstances();
    assert.ok(
      blue.every((id) => serving.includes(id)),
      'blue serves',
    );

    // What the engine does after the failed provision: the new slot is stopped. (moto re-registers
    // every member at the target group on each capacity change and refuses stopped ones, so
    // they run again first; real AWS terminates stopped members as they are.)
    await fixture.aws.ec2.send(new StartInstancesCommand({ InstanceIds: sick }));
    await platform.stop('green', { graceMs: 1000 });
    assert.deepEqual(await fixture.liveTagged('green'), []);
    assert.deepEqual(await fixture.members('InService'), blue);
    assert.deepEqual(await fixture.balancer.healthyInstances(), blue);
    const group = await fixture.group();
    assert.equal(group.DesiredCapacity, 2);
    assert.equal(group.MaxSize, maxBefore, 'MaxSize back to what it was before cutover');
    await platform.close();
  });

  void it('KillNineBetweenEveryTwoAwsCalls_RerunCompletes_NothingDuplicated_BlueServesThroughout', async () => {
    const settings = fixture.settings();
    const probe = await fixture.aws.provisionInChild('green', 'r0', { kill: true, overrides: settings });
    const points = (JSON.parse(probe!) as { crashPoints: number }).crashPoints;
    assert.ok(points >= 10, `provision passes ${points} crash points`);
    const blue = [...fixture.original].sort();
    for (let crashAt = 1; crashAt <= points; crashAt += 1) {
      const release = `r${crashAt}`;
      const line = await fixture.aws.provisionInChild('green', release, { crashAt, overrides: settings });
      assert.equal(line, undefined, `the child died at crash point ${crashAt}`);
      // Blue serves whatever the instant (new instances attached before the kill serve beside it).
      const serving = await fixture.balancer.healthyInstances();
      assert.ok(
        blue.every((id) => serving.includes(id)),
        `blue serves after crash point ${crashAt}`,
      );
      const rerun = await fixture.platform().provision('green', release);
      assert.equal(rerun.length, 2, `crash point ${crashAt}`);
      assert.deepEqual(
        await countTagged(release),
        { instances: 2, images: 1, versions: 1 },
        `crash point ${crashAt}`,
      );
      assert.deepEqual(await fixture.members('InService'), blue, `crash point ${crashAt}`);
      assert.deepEqual(await fixture.balancer.healthyInstances(), blue, `crash point ${crashAt}`);
      assert.equal((await fixture.group()).DesiredCapacity, 2, `crash point ${crashAt}`);
    }
    // keepImages (2): the images of older releases were pruned as the loop went.
    assert.ok((await fixture.bakedImages()).length <= 2);
  });

  void it('TheApiFailingMidWay_FailsTheProvisionNamingTheCall_ARerunCompletesWithoutDuplicates', async () => {
    // A loopback proxy in front of moto that, once told to, resets every connection: the AWS
    // endpoint going away in the middle of a provision, just as AttachInstances is sent.
    const proxy = await resettingProxy(new URL(fixture.aws.moto.endpoint).port);
    try {
      const platform = fixture.platform({ endpoint: proxy.endpoint });
      const error = await platform
        .provision('green', 'flaky', {
          onProgress: (line) => {
            if (line.startsWith('AttachInstances')) proxy.fail();
          },
        })
        .then(
          () => assert.fail('provision succeeded'),
          (failure: unknown) => failure,
        );
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match((error as Error).message, /^AttachInstances failed: /);
      const blue = [...fixture.original].sort();
      const serving = await fixture.balancer.healthyInstances();
      assert.ok(
        blue.every((id) => serving.includes(id)),
        'blue serves',
      );

      proxy.heal();
      const rerun = await platform.provision('green', 'flaky');
      assert.equal(rerun.length, 2);
      assert.deepEqual(await countTagged('flaky'), { instances: 2, images: 1, versions: 1 });
      assert.deepEqual(await fixture.members('InService'), blue);
      await platform.close();
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP proxy to moto's port on loopback; fail() resets every connection until heal(). */
async function resettingProxy(port: string): Promise<{
  endpoint: string;
  fail(): void;
  heal(): void;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let failing = false;
  const server = createServer((client) => {
    if (failing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: own } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${own}`,
    fail: () => {
      failing = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    heal: () => {
      failing = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
