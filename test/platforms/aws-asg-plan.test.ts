/**
 * Platform.planProvision / planStop of aws-asg (replica-group) against moto: planning makes no
 * call that changes anything, and provision()/stop() then make the planned calls — also for a
 * provision resumed after a crash between the launch template and the group, where the plan
 * names the existing template instead of a placeholder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import type { PlannedStep } from '../../src/shared/plan.js';
import type { Platform } from '../../src/shared/platform.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { recordedRequests, startRecording, type AwsRequest } from '../support/moto-recorder.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from './aws-asg-fixture.js';

const mutating = (requests: readonly AwsRequest[]) =>
  requests.filter((request) => !/^(Describe|Get|List)/.test(request.action));

const operations = (steps: readonly PlannedStep[]) =>
  steps.flatMap((step) => (step.kind === 'call' ? [step.operation] : []));

void describe('aws-asg plans (replica-group), against moto', () => {
  let fixture: AwsAsgFixture;
  let platform: Platform;

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    platform = fixture.platform();
    await platform.provision('blue', 'v1', { deploymentId: 'd-1' });
  });
  after(async () => {
    await platform?.close();
    await fixture?.cleanup();
  });

  void it('a provision resumed after the template was made: the plan reuses it, and provision makes just the group', async () => {
    // The first attempt dies right after CreateLaunchTemplate (crash point 2).
    assert.equal(
      await fixture.provisionInChild('green', 'v2', { crashAt: 2, deploymentId: 'd-2' }),
      undefined,
    );
    await startRecording(fixture.moto.endpoint);
    const plan = await platform.planProvision!('green', 'v2', { deploymentId: 'd-2' });
    assert.deepEqual(mutating(await recordedRequests(fixture.moto.endpoint)), []);
    assert.deepEqual(operations(plan.steps), ['CreateAutoScalingGroup']);
    assert.deepEqual(plan.endpoint, {
      kind: 'aws-asg',
      id: groupName(fixture.app, 'green', 'v2'),
      details: { region: 'us-east-1' },
    });
    const create = plan.steps[0]!;
    assert.ok(create.kind === 'call');
    const template = (create.input.LaunchTemplate as { LaunchTemplateId: unknown }).LaunchTemplateId;
    assert.ok(typeof template === 'string' && template.startsWith('lt-'), JSON.stringify(create.input));

    await startRecording(fixture.moto.endpoint);
    await platform.provision('green', 'v2', { deploymentId: 'd-2' });
    const made = mutating(await recordedRequests(fixture.moto.endpoint));
    assert.deepEqual(
      made.map((request) => request.action),
      ['CreateAutoScalingGroup'],
    );
    assert.equal(made[0]!.params['LaunchTemplate.LaunchTemplateId'], template);
    assert.equal(made[0]!.params.DesiredCapacity, JSON.stringify(create.input.DesiredCapacity));
    assert.equal(await fixture.countTemplates(), 2, 'no second template');
  });

  void it('a release with no image: the plan fails as provision does, before anything', async () => {
    await startRecording(fixture.moto.endpoint);
    await assert.rejects(platform.planProvision!('green', 'v9'), (error: unknown) => {
      assert.ok(isCutoverError(error));
      assert.equal(error.code, 'CUTOVER_E_NOT_FOUND');
      return true;
    });
    assert.deepEqual(mutating(await recordedRequests(fixture.moto.endpoint)), []);
  });

  void it('the plan of a stop is the calls stop makes (TerminateInstances only if something is left)', async () => {
    await startRecording(fixture.moto.endpoint);
    const plan = await platform.planStop!('blue', { graceMs: 1000 });
    assert.deepEqual(mutating(await recordedRequests(fixture.moto.endpoint)), []);
    assert.deepEqual(operations(plan), ['UpdateAutoScalingGroup', 'TerminateInstances']);
    const last = plan[plan.length - 1]!;
    assert.ok(last.kind === 'call' && last.condition !== undefined);

    await platform.stop('blue', { graceMs: 1000 });
    const made = mutating(await recordedRequests(fixture.moto.endpoint)).map((request) => request.action);
    assert.equal(made[0], 'UpdateAutoScalingGroup');
    assert.ok(
      made.length <= 2 && (made[1] === undefined || made[1] === 'TerminateInstances'),
      made.join(', '),
    );
    const scaled = mutating(await recordedRequests(fixture.moto.endpoint))[0]!;
    assert.equal(scaled.params.AutoScalingGroupName, groupName(fixture.app, 'blue', 'v1'));
    assert.equal(scaled.params.DesiredCapacity, '0');

    const stopped = await platform.planStop!('blue', { graceMs: 1000 });
    assert.deepEqual(operations(stopped), [], 'a stopped slot plans no call');
  });
});
