/**
 * Custom::CutoverSwitch with crafted Create / Update / Delete events (moto never sends Update or
 * Delete), answered to a local stand-in for the pre-signed URL, switching real groups in moto.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createSwitchHandler, type SwitchHandler } from '../../src/cloudformation/switch-handler.js';
import {
  attachByHand,
  awsTestClients,
  createAwsGroups,
  groupAttachments,
  markGroupUnhealthy,
  TEST_REGION,
  type AwsGroupsLayout,
  type AwsTestClients,
} from '../support/aws-groups.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import { useMotoCredentials } from '../routers/aws-router-harness.js';
import { startResponseCatcher, type CaughtResponse, type ResponseCatcher } from './response-catcher.js';

const STACK_ID =
  'arn:aws:cloudformation:us-east-1:123456789012:stack/web/0f0e0d0c-0000-1111-2222-333344445555';

describe('Custom::CutoverSwitch handler', () => {
  let moto: MotoServer;
  let catcher: ResponseCatcher;
  let clients: AwsTestClients;
  let layout: AwsGroupsLayout;
  let handler: SwitchHandler;
  let serial = 0;
  const logged: string[] = [];

  before(async () => {
    useMotoCredentials();
    moto = await startMoto();
    catcher = await startResponseCatcher();
    handler = createSwitchHandler({
      connection: { region: TEST_REGION, endpoint: moto.endpoint, maxAttempts: 1 },
      reserveMs: 500,
      firstPollMs: 100,
      log: (event, fields) => logged.push(JSON.stringify({ event, ...fields })),
    });
  });
  after(async () => {
    clients?.destroy();
    await catcher?.close();
    await moto?.stop();
  });
  beforeEach(async () => {
    clients?.destroy();
    await moto.reset();
    clients = awsTestClients(moto.endpoint);
    layout = await createAwsGroups(clients, `cfn${++serial}`);
    await attachByHand(clients, layout.blueGroup, {
      targetGroupArn: layout.targetGroupArn,
      loadBalancerName: layout.loadBalancerName,
    });
  });

  /** A request as CloudFormation sends it; `extra` overrides any field. */
  const event = (requestType: string, properties: unknown, extra: Record<string, unknown> = {}) => ({
    RequestType: requestType,
    ResponseURL: catcher.url(`r${serial}-${requestType}`),
    StackId: STACK_ID,
    RequestId: `req-${serial}-${requestType}`,
    ResourceType: 'Custom::CutoverSwitch',
    LogicalResourceId: 'Switch',
    ResourceProperties: properties,
    ...extra,
  });
  const lambdaTime = (ms: number) => ({ getRemainingTimeInMillis: () => ms });
  const last = (): CaughtResponse => {
    const response = catcher.received.at(-1);
    assert.ok(response, 'the handler answered');
    return response;
  };
  const tgProps = (group: string, more: Record<string, string> = {}) => ({
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:cutover-switch',
    TargetGroupArn: layout.targetGroupArn,
    AutoScalingGroupName: group,
    ...more,
  });

  it('Create switches the target group to the group, PUTs SUCCESS with an empty Content-Type', async () => {
    await handler(event('Create', tgProps(layout.greenGroup)), lambdaTime(60_000));
    const response = last();
    assert.equal(response.method, 'PUT');
    assert.equal(response.contentType, '', 'an empty Content-Type, as the pre-signed URL was signed');
    assert.equal(response.body.Status, 'SUCCESS', response.body.Reason);
    assert.equal(response.body.StackId, STACK_ID);
    assert.equal(response.body.LogicalResourceId, 'Switch');
    assert.match(response.body.PhysicalResourceId, /^cutover-switch-Switch-[0-9a-f]{12}$/);
    assert.deepEqual(response.body.Data, {
      AutoScalingGroupName: layout.greenGroup,
      Attached: 'true',
      Detached: layout.blueGroup,
    });
    assert.deepEqual((await groupAttachments(clients, layout.greenGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, []);
    assert.ok(
      !logged.join('\n').includes('not-a-real-signature'),
      'the response URL signature is never logged',
    );
  });

  it('Update switches a Classic ELB back and keeps the physical resource id', async () => {
    const props = { LoadBalancerName: layout.loadBalancerName, AutoScalingGroupName: layout.greenGroup };
    await handler(event('Create', props), lambdaTime(60_000));
    const created = last().body;
    assert.equal(created.Status, 'SUCCESS', created.Reason);
    await handler(
      event(
        'Update',
        { ...props, AutoScalingGroupName: layout.blueGroup },
        {
          PhysicalResourceId: created.PhysicalResourceId,
          OldResourceProperties: props,
        },
      ),
      lambdaTime(60_000),
    );
    const updated = last().body;
    assert.equal(updated.Status, 'SUCCESS', updated.Reason);
    assert.equal(updated.PhysicalResourceId, created.PhysicalResourceId, 'stable across updates');
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).loadBalancers, [
      layout.loadBalancerName,
    ]);
    assert.deepEqual((await groupAttachments(clients, layout.greenGroup)).loadBalancers, []);
  });

  it('Delete leaves the live group attached unless DetachOnDelete is "true"', async () => {
    await handler(
      event('Delete', tgProps(layout.blueGroup), { PhysicalResourceId: 'p-1' }),
      lambdaTime(60_000),
    );
    assert.equal(last().body.Status, 'SUCCESS');
    assert.equal(last().body.PhysicalResourceId, 'p-1');
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
    await handler(
      event('Delete', tgProps(layout.blueGroup, { DetachOnDelete: 'true' }), { PhysicalResourceId: 'p-1' }),
      lambdaTime(60_000),
    );
    assert.equal(last().body.Status, 'SUCCESS', last().body.Reason);
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, []);
  });

  it('a group that does not exist answers FAILED naming it, and blue keeps serving', async () => {
    await handler(event('Create', tgProps('no-such-group')), lambdaTime(60_000));
    assert.equal(last().body.Status, 'FAILED');
    assert.match(last().body.Reason, /no-such-group does not exist/);
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
  });

  it('a group that never gets healthy answers FAILED before the Lambda runs out, and is withdrawn', async () => {
    await markGroupUnhealthy(clients, layout.greenGroup);
    await handler(event('Create', tgProps(layout.greenGroup)), lambdaTime(2_000));
    assert.equal(last().body.Status, 'FAILED');
    assert.match(last().body.Reason, /did not become healthy|outlive the Lambda/);
    assert.deepEqual((await groupAttachments(clients, layout.greenGroup)).targetGroups, []);
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
  });

  it('too little Lambda time left answers FAILED at once, touching nothing', async () => {
    await handler(event('Create', tgProps(layout.greenGroup)), lambdaTime(600));
    assert.equal(last().body.Status, 'FAILED');
    assert.match(last().body.Reason, /not enough Lambda time left/);
    assert.deepEqual((await groupAttachments(clients, layout.greenGroup)).targetGroups, []);
  });

  it('hostile properties answer FAILED with a reason; a Delete of them still succeeds', async () => {
    const hostile: [string, unknown][] = [
      ['missing', undefined],
      ['an array', [1, 2]],
      ['no group', { TargetGroupArn: layout.targetGroupArn }],
      ['a number for the group', { TargetGroupArn: layout.targetGroupArn, AutoScalingGroupName: 5 }],
      ['both balancers', tgProps(layout.greenGroup, { LoadBalancerName: layout.loadBalancerName })],
      ['no balancer', { AutoScalingGroupName: layout.greenGroup }],
      ['a huge name', tgProps('g'.repeat(1_000_000))],
      ['an unknown key', tgProps(layout.greenGroup, { Weight: '50' })],
      ['a bad ARN', { TargetGroupArn: 'arn:aws:s3:::bucket', AutoScalingGroupName: layout.greenGroup }],
      ['DetachOnDelete not a boolean string', tgProps(layout.greenGroup, { DetachOnDelete: 'yes' })],
    ];
    for (const [what, properties] of hostile) {
      const before = catcher.received.length;
      await handler(event('Create', properties), lambdaTime(60_000));
      assert.equal(catcher.received.length, before + 1, `${what}: answered once`);
      assert.equal(last().body.Status, 'FAILED', what);
      assert.match(last().body.Reason, /invalid properties/, what);
      assert.ok(
        JSON.stringify(last().body).length < 4096,
        `${what}: the response fits CloudFormation's limit`,
      );
      await handler(event('Delete', properties, { PhysicalResourceId: 'p-x' }), lambdaTime(60_000));
      assert.equal(last().body.Status, 'SUCCESS', `${what}: Delete of a failed Create succeeds`);
    }
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
  });

  it('events that cannot be answered, and a response URL that is down, never throw', async () => {
    const before = catcher.received.length;
    for (const bad of [
      null,
      'Create',
      42,
      {},
      event('Explode', tgProps(layout.greenGroup)),
      event('Create', tgProps(layout.greenGroup), { ResponseURL: 'file:///etc/passwd' }),
      event('Create', tgProps(layout.greenGroup), { StackId: 7 }),
      event('Create', tgProps(layout.greenGroup), { RequestId: 'x'.repeat(100_000) }),
    ]) {
      await handler(bad, lambdaTime(60_000));
    }
    await handler(event('Create', tgProps(layout.greenGroup)), {
      getRemainingTimeInMillis: () => Number.NaN,
    });
    assert.equal(
      catcher.received.length,
      before + 1,
      'only the well-formed request (with a NaN clock) was answered',
    );
    await handler(
      event('Delete', tgProps(layout.greenGroup), {
        ResponseURL: 'http://127.0.0.1:9/gone',
        PhysicalResourceId: 'p',
      }),
      lambdaTime(60_000),
    );
    assert.ok(logged.some((line) => line.includes('cfn.response-failed')));
  });
});
