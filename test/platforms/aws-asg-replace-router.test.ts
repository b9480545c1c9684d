// The aws-elb router over the slots of aws-asg mode replace-instances (two sets of instances of
// ONE group), against moto: verify() reads which set serves, a switch brings the new set out of
// Standby before the old one goes into it, and a set that never turns healthy goes back into
// Standby with the old set still serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StopInstancesCommand } from '@aws-sdk/client-ec2';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { isCutoverError } from '../../src/shared/errors.js';
import type { Platform } from '../../src/shared/platform.js';
import type { Router } from '../../src/shared/router.js';
import { weightsAllOn } from '../../src/shared/slot.js';
import { createAwsRouter } from '../routers/aws-router-harness.js';
import { makeReplaceFixture, type ReplaceFixture } from './aws-asg-replace-fixture.js';

void describe('aws-elb router over replace-instances slots, against moto', () => {
  let fixture: ReplaceFixture;
  let platform: Platform;
  before(async () => {
    fixture = await makeReplaceFixture('aws-elb');
    platform = fixture.platform();
  });
  after(async () => {
    await platform?.close();
    await fixture?.cleanup();
  });

  async function preparedRouter(settleTimeout: string): Promise<Router> {
    const router = guardRouter(
      await createAwsRouter('aws-elb', fixture.balancer.name, fixture.aws.moto.endpoint, settleTimeout),
    );
    await router.open();
    const blue = await platform.running('blue');
    const green = await platform.running('green');
    await router.prepare(
      { blue: platform.healthTargets(blue), green: platform.healthTargets(green) },
      { blue: platform.endpoint!('blue', blue)!, green: platform.endpoint!('green', green)! },
    );
    return router;
  }

  void it('Verify_SeesTheServingSet_AndASwitchMovesEveryRequestToTheOtherSet', async () => {
    await platform.provision('green', 'v2');
    const blue = [...fixture.original].sort();
    const green = await fixture.liveTagged('green');
    const router = await preparedRouter('10s');
    try {
      await router.setWeights(weightsAllOn('blue'));
      assert.deepEqual(await router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      await router.setWeights(weightsAllOn('green'));
      assert.deepEqual(await router.verify(), { kind: 'observed', weights: weightsAllOn('green') });
      assert.deepEqual(await fixture.members('InService'), green);
      assert.deepEqual(await fixture.members('Standby'), blue);
      assert.deepEqual(await fixture.balancer.healthyInstances(), green);
      assert.equal((await fixture.group()).DesiredCapacity, 2, 'Standby instances are not counted');
      await router.setWeights(weightsAllOn('blue'));
      assert.deepEqual(await fixture.balancer.healthyInstances(), blue);
      assert.deepEqual(await fixture.members('Standby'), green);
    } finally {
      await router.close();
    }
  });

  void it('ASetThatNeverTurnsHealthy_GoesBackIntoStandby_TheOldSetServesOn', async () => {
    const blue = [...fixture.original].sort();
    const green = await fixture.liveTagged('green');
    // Stopped instances are OutOfService at a Classic ELB in moto: never healthy.
    await fixture.aws.ec2.send(new StopInstancesCommand({ InstanceIds: green }));
    const router = await preparedRouter('1s');
    try {
      await assert.rejects(router.setWeights(weightsAllOn('green')), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_ROUTER'), String(error));
        assert.match(error.message, /did not become healthy/);
        return true;
      });
      assert.deepEqual(await fixture.members('InService'), blue);
      assert.deepEqual(await fixture.members('Standby'), green);
      assert.deepEqual(await fixture.balancer.healthyInstances(), blue);
      assert.deepEqual(await router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    } finally {
      await router.close();
    }
  });
});
