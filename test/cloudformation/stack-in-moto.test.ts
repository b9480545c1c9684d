/**
 * One CloudFormation stack in moto (us-east-1) reaches CREATE_COMPLETE through the bundled
 * handler: scripts/bundle-cfn-handler.ts builds the one-file Lambda, the test loads that file
 * (not the sources), hands it the Create request CloudFormation would send (moto cannot invoke
 * a Lambda without Docker), and the handler's PUT to moto's response URL completes the stack.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { bundleCfnHandler } from '../../scripts/bundle-cfn-handler.js';
import { useMotoCredentials } from '../routers/aws-router-harness.js';
import {
  attachByHand,
  awsTestClients,
  createAwsGroups,
  groupAttachments,
  TEST_REGION,
  type AwsTestClients,
} from '../support/aws-groups.js';
import { makeTempDir, removeTempDir } from '../support/daemons/common.js';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/daemons/moto.js';
import { waitFor } from '../support/load.js';
import { createMotoFunction } from '../support/moto-lambda.js';

let moto: MotoServer;
let clients: AwsTestClients;
let dir: string;

before(async () => {
  useMotoCredentials();
  moto = await startMoto();
  clients = awsTestClients(moto.endpoint);
  dir = await makeTempDir('cfn-bundle');
});
after(async () => {
  clients?.destroy();
  await moto?.stop();
  if (dir !== undefined) await removeTempDir(dir);
});

it('a stack with Custom::CutoverSwitch reaches CREATE_COMPLETE through the bundled handler', async () => {
  const layout = await createAwsGroups(clients, 'stack');
  await attachByHand(clients, layout.blueGroup, { targetGroupArn: layout.targetGroupArn });
  const properties = {
    ServiceToken: await createMotoFunction(moto.endpoint, TEST_REGION, 'cutover-switch'),
    TargetGroupArn: layout.targetGroupArn,
    AutoScalingGroupName: layout.greenGroup,
  };
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: { Switch: { Type: 'Custom::CutoverSwitch', Properties: properties } },
  };
  const cloudFormation = new CloudFormationClient({
    region: TEST_REGION,
    endpoint: moto.endpoint,
    maxAttempts: 1,
    credentials: MOTO_CREDENTIALS,
  });
  try {
    const created = await cloudFormation.send(
      new CreateStackCommand({ StackName: 'web-switch', TemplateBody: JSON.stringify(template) }),
    );
    const stackId = created.StackId;
    assert.ok(stackId);
    const status = async () =>
      (await cloudFormation.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0]?.StackStatus;
    assert.equal(await status(), 'CREATE_IN_PROGRESS', 'the stack waits for the custom resource');

    const outfile = path.join(dir, 'index.mjs');
    await bundleCfnHandler(outfile);
    process.env.AWS_REGION = TEST_REGION;
    process.env.CUTOVER_AWS_ENDPOINT = moto.endpoint;
    const bundled = (await import(pathToFileURL(outfile).href)) as {
      handler: (event: unknown, context: unknown) => Promise<void>;
    };
    await bundled.handler(
      {
        RequestType: 'Create',
        ResponseURL: `${moto.endpoint}/cloudformation_${TEST_REGION}/cfnresponse?stack=${encodeURIComponent(stackId)}`,
        StackId: stackId,
        RequestId: 'req-create-1',
        ResourceType: 'Custom::CutoverSwitch',
        LogicalResourceId: 'Switch',
        ResourceProperties: properties,
      },
      { getRemainingTimeInMillis: () => 60_000 },
    );
    await waitFor(async () => (await status()) === 'CREATE_COMPLETE', {
      timeoutMs: 20_000,
      what: 'the stack to reach CREATE_COMPLETE',
    });
    assert.deepEqual((await groupAttachments(clients, layout.greenGroup)).targetGroups, [
      layout.targetGroupArn,
    ]);
    assert.deepEqual((await groupAttachments(clients, layout.blueGroup)).targetGroups, []);
  } finally {
    cloudFormation.destroy();
    delete process.env.CUTOVER_AWS_ENDPOINT;
  }
});
