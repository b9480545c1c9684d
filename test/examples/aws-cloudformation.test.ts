/**
 * The CloudFormation example stays true to the handler: its Custom::CutoverSwitch properties
 * are ones the handler accepts, the function runs the bundle the script writes, and its IAM
 * policy allows every call the switch makes on a target group (read from moto's recording of a
 * real switch by the handler, not from a list kept by hand).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, type ScalarTag } from 'yaml';
import { createSwitchHandler } from '../../src/cloudformation/switch-handler.js';
import { switchProperties } from '../../src/cloudformation/switch-event.js';
import { startResponseCatcher, type ResponseCatcher } from '../cloudformation/response-catcher.js';
import { useMotoCredentials } from '../routers/aws-router-harness.js';
import {
  attachByHand,
  awsTestClients,
  createAwsGroups,
  TEST_REGION,
  type AwsTestClients,
} from '../support/aws-groups.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import { recordedCalls, startRecording } from '../support/moto-recorder.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** CloudFormation's short-form intrinsics, read as the long form. */
const INTRINSICS: ScalarTag[] = ['Ref', 'Sub', 'GetAtt'].map((name) => ({
  tag: `!${name}`,
  resolve: (value: string) => ({ [name === 'Ref' ? 'Ref' : `Fn::${name}`]: value }),
}));

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

let template: Template;
let moto: MotoServer;
let clients: AwsTestClients;
let catcher: ResponseCatcher;

before(async () => {
  const text = await readFile(path.join(ROOT, 'examples/aws-cloudformation/template.yaml'), 'utf8');
  template = parse(text, { customTags: INTRINSICS }) as Template;
  useMotoCredentials();
  moto = await startMoto();
  clients = awsTestClients(moto.endpoint);
  catcher = await startResponseCatcher();
});
after(async () => {
  clients?.destroy();
  await catcher?.close();
  await moto?.stop();
});

it('the switch resource uses only properties the handler accepts', () => {
  const switches = Object.values(template.Resources).filter(
    (resource) => resource.Type === 'Custom::CutoverSwitch',
  );
  assert.equal(switches.length, 1);
  // Intrinsics resolve to strings at deploy time: stand in a valid value for each.
  const resolved = {
    ...switches[0]!.Properties,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef',
    AutoScalingGroupName: 'web-r1',
  };
  const parsed = switchProperties.safeParse(resolved);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  assert.deepEqual(Object.keys(switches[0]!.Properties).sort(), Object.keys(resolved).sort());
});

it('the function runs the one-file bundle the script writes', async () => {
  const fn = template.Resources.SwitchFunction?.Properties;
  assert.equal(fn?.Runtime, 'nodejs20.x');
  assert.equal(fn?.Handler, 'index.handler');
  const script = await readFile(path.join(ROOT, 'scripts/bundle-cfn-handler.ts'), 'utf8');
  assert.match(script, /dist\/cfn-switch\/index\.mjs/, 'the bundle is index.mjs, exporting handler');
});

it('the role allows every call a target-group switch makes, and nothing is left out', async () => {
  const layout = await createAwsGroups(clients, 'example');
  await attachByHand(clients, layout.blueGroup, { targetGroupArn: layout.targetGroupArn });
  const handler = createSwitchHandler({
    connection: { region: TEST_REGION, endpoint: moto.endpoint, maxAttempts: 1 },
  });
  await startRecording(moto.endpoint);
  await handler(
    {
      RequestType: 'Create',
      ResponseURL: catcher.url('example'),
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/web/1',
      RequestId: 'r1',
      LogicalResourceId: 'Switch',
      ResourceProperties: { TargetGroupArn: layout.targetGroupArn, AutoScalingGroupName: layout.greenGroup },
    },
    { getRemainingTimeInMillis: () => 60_000 },
  );
  assert.equal(catcher.received.at(-1)?.body.Status, 'SUCCESS', catcher.received.at(-1)?.body.Reason);
  const service = (action: string) =>
    /TargetHealth|TargetGroups?Attributes|DescribeTargetGroups/.test(action)
      ? 'elasticloadbalancing'
      : 'autoscaling';
  const made = new Set(
    (await recordedCalls(moto.endpoint)).map((call) => `${service(call.action)}:${call.action}`),
  );
  const policy = (
    template.Resources.SwitchRole?.Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[] }[] };
    }[]
  )[0]!;
  const allowed = new Set(policy.PolicyDocument.Statement.flatMap((statement) => statement.Action));
  assert.deepEqual(
    [...made].filter((action) => !allowed.has(action)),
    [],
    'calls the policy does not allow',
  );
  assert.deepEqual(
    [...allowed].filter((action) => !made.has(action)),
    [],
    'allowed calls the switch never makes',
  );
});
