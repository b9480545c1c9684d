// The aws-asg platform (mode replica-group) against a real moto server, beyond the Platform
// contract: what it creates and how it is tagged, capacity, the endpoint routers get, and the
// failures a rerun must recover from without duplicating anything (counted by tag in moto).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  DescribeAutoScalingGroupsCommand as DescribeGroups,
  SetInstanceHealthCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { CUTOVER_TAG, tagValue } from '../../src/aws/cutover-tags.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from './aws-asg-fixture.js';

void describe('aws-asg platform against moto', { timeout: 300_000 }, () => {
  let fixture: AwsAsgFixture;
  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
  });
  after(async () => {
    await fixture?.cleanup();
  });
  afterEach(async () => {
    await fixture.platform().reconcile(new Set());
  });

  void it('ProvisionedGroup_TemplateAndInstances_CarryAppSlotReleaseAndDeploymentTags', async () => {
    const instances = await fixture.platform().provision('green', 'v2', { deploymentId: 'd-42' });
    const name = groupName(fixture.app, 'green', 'v2');
    const expected = { app: fixture.app, slot: 'green', release: 'v2', deployment: 'd-42' };

    const group = (await fixture.asg.send(new DescribeGroups({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups![0]!;
    assert.deepEqual(tagsOf(group.Tags), expected);
    assert.equal(group.LaunchTemplate?.Version, '1', 'the group names an explicit template version');

    const versions = await fixture.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name }),
    );
    const data = versions.LaunchTemplateVersions![0]!.LaunchTemplateData!;
    assert.equal(data.ImageId, fixture.images.v2);
    assert.equal(
      Buffer.from(data.UserData ?? '', 'base64').toString(),
      '#!/bin/sh\necho "installing v2 in green"\n',
    );

    for (const instance of await fixture.instances()) {
      if (instance.State?.Name !== 'running') continue;
      assert.deepEqual(tagsOf(instance.Tags), expected, instance.InstanceId);
    }
    assert.equal(instances.length, 2);
    assert.ok(
      instances.every((instance) => /^\d+\.\d+\.\d+\.\d+$/.test(instance.host) && instance.port === 8000),
    );
  });

  void it('EndpointOfASlot_IsItsGroupByName_WithTheRegion', async () => {
    const platform = fixture.platform();
    const instances = await platform.provision('blue', 'v1');
    assert.deepEqual(platform.endpoint!('blue', instances), {
      kind: 'aws-asg',
      id: groupName(fixture.app, 'blue', 'v1'),
      details: { region: 'us-east-1' },
    });
    assert.equal(platform.endpoint!('blue', []), undefined);
    assert.equal(platform.describe().endpointKind, 'aws-asg');
  });

  void it('NewGroup_TakesTheLiveGroupsCapacity_NotTheConfigured', async () => {
    const platform = fixture.platform();
    await platform.provision('blue', 'v1');
    await fixture.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName(fixture.app, 'blue', 'v1'),
        MinSize: 1,
        MaxSize: 5,
        DesiredCapacity: 3,
      }),
    );
    const green = await platform.provision('green', 'v2');
    assert.equal(green.length, 3);
    const group = (
      await fixture.asg.send(
        new DescribeGroups({ AutoScalingGroupNames: [groupName(fixture.app, 'green', 'v2')] }),
      )
    ).AutoScalingGroups![0]!;
    assert.deepEqual([group.MinSize, group.MaxSize, group.DesiredCapacity], [1, 5, 3]);
  });

  void it('AStoppedGroup_IsScaledBackUp_ByTheNextProvisionOfItsRelease', async () => {
    const platform = fixture.platform();
    await platform.provision('blue', 'v1');
    await platform.stop('blue', { graceMs: 100 });
    assert.equal(await fixture.countRunning(), 0);
    const again = await platform.provision('blue', 'v1');
    assert.equal(again.length, 2);
    assert.equal(await fixture.countGroups(), 1);
    assert.equal(await fixture.countTemplates(), 1);
  });

  void it('InstancesThatNeverTurnHealthy_FailProvisionAtTheReadyTimeout_NamingThem', async () => {
    const platform = fixture.platform({ readyTimeout: '300ms' });
    const [first] = await platform.provision('blue', 'v1');
    await fixture.asg.send(
      new SetInstanceHealthCommand({ InstanceId: first!.id, HealthStatus: 'Unhealthy' }),
    );
    await assert.rejects(platform.provision('blue', 'v1'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /1\/2 instances InService and Healthy after 300ms/);
      assert.match(error.message, new RegExp(`${first!.id} InService/Unhealthy`));
      return true;
    });
  });

  void it('AnApiErrorMidway_FailsWithAStableCode_AndARerunWithTheFixCreatesNoDuplicate', async () => {
    // moto knows no such subnet: the template is created, the group is refused.
    const broken = fixture.platform({ availabilityZones: undefined, subnets: ['subnet-0badbad0'] });
    await assert.rejects(broken.provision('green', 'v1'), (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_PROVISION'),
    );
    assert.equal(await fixture.countGroups(), 0);
    assert.equal(await fixture.countTemplates(), 1, 'the template made before the refusal');

    const fixed = await fixture.platform().provision('green', 'v1');
    assert.equal(fixed.length, 2);
    assert.equal(await fixture.countGroups(), 1);
    assert.equal(await fixture.countTemplates(), 1);
    assert.equal(await fixture.countRunning(), 2);
  });

  void it('KillNineBetweenAnyTwoAwsCalls_ARerunAdoptsWhatWasMade_NoDuplicates', async () => {
    const done = await fixture.provisionInChild('blue', 'v1', { deploymentId: 'd-1' });
    const points = (JSON.parse(done!) as { crashPoints: number }).crashPoints;
    assert.ok(points >= 3, `provision passes ${points} crash points`);
    await fixture.platform().reconcile(new Set());
    for (let crashAt = 1; crashAt <= points; crashAt += 1) {
      const line = await fixture.provisionInChild('green', 'v2', { crashAt, deploymentId: 'd-2' });
      assert.equal(line, undefined, `the child died at crash point ${crashAt}`);
      const rerun = await fixture.platform().provision('green', 'v2', { deploymentId: 'd-2' });
      assert.equal(rerun.length, 2, `crash point ${crashAt}`);
      assert.equal(await fixture.countGroups(), 1, `one group after crash point ${crashAt}`);
      assert.equal(await fixture.countTemplates(), 1, `one template after crash point ${crashAt}`);
      assert.equal(await fixture.countRunning(), 2, `two instances after crash point ${crashAt}`);
      await fixture.platform().reconcile(new Set());
      assert.equal(await fixture.countGroups(), 0);
      assert.equal(await fixture.countTemplates(), 0);
    }
  });

  void it('Destroy_DeletesTheGroupsAndTemplatesOfTheSlotOnly', async () => {
    const platform = fixture.platform();
    await platform.provision('blue', 'v1');
    await platform.provision('green', 'v2');
    await platform.destroy('green');
    assert.equal(await fixture.countGroups(), 1);
    assert.equal(await fixture.countTemplates(), 1);
    assert.equal((await platform.running('blue')).length, 2);
    assert.deepEqual(await platform.running('green'), []);
    await platform.destroy('green');
  });

  void it('AReleaseWithoutImage_IsNotFound_ForEachWayOfNamingImages', async () => {
    const byId = fixture.platform({ image: 'ami-${RELEASE}' });
    for (const release of ['deadbeef', 'not-hex', '../../x']) {
      await assert.rejects(byId.checkRelease!(release), (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
      );
    }
    const byMap = fixture.platform({ image: { byRelease: { v1: fixture.images.v1 } } });
    await byMap.checkRelease!('v1');
    await assert.rejects(byMap.checkRelease!('v2'), /has no image in platform\.image\.byRelease/);
    assert.equal(await fixture.countTemplates(), 0);
  });
});

function tagsOf(tags: readonly { Key?: string; Value?: string }[] | undefined) {
  return {
    app: tagValue(tags, CUTOVER_TAG.app),
    slot: tagValue(tags, CUTOVER_TAG.slot),
    release: tagValue(tags, CUTOVER_TAG.release),
    deployment: tagValue(tags, CUTOVER_TAG.deployment),
  };
}
