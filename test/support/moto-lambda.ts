/**
 * A Lambda function in moto for a custom resource's ServiceToken to name: moto's CloudFormation
 * refuses a `Custom::` resource whose function does not exist (it cannot run one without
 * Docker, so the function is never invoked; the test hands the request to the handler itself).
 * There is no Lambda or IAM client among the project's dependencies, so this speaks the two
 * calls' wire formats directly; moto does not check signatures, only reads region and account.
 */
import assert from 'node:assert/strict';

function authorization(service: string, region: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  return `AWS4-HMAC-SHA256 Credential=testing/${day}/${region}/${service}/aws4_request, SignedHeaders=host, Signature=moto-does-not-check`;
}

/** Creates an IAM role and a function named `name`; returns the function's ARN. */
export async function createMotoFunction(endpoint: string, region: string, name: string): Promise<string> {
  const role = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: authorization('iam', 'us-east-1'),
    },
    body: new URLSearchParams({
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: `${name}-role`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  });
  const roleXml = await role.text();
  assert.ok(role.ok, `moto CreateRole answered ${role.status}: ${roleXml.slice(0, 300)}`);
  const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(roleXml)?.[1];
  assert.ok(roleArn, 'CreateRole returned an ARN');
  const created = await fetch(`${endpoint}/2015-03-31/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: authorization('lambda', region) },
    body: JSON.stringify({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: roleArn,
      Handler: 'index.handler',
      Code: { ZipFile: Buffer.from('never run: moto cannot invoke without Docker').toString('base64') },
    }),
  });
  const answer = (await created.json()) as { FunctionArn?: string; message?: string };
  assert.ok(
    created.ok && answer.FunctionArn,
    `moto CreateFunction answered ${created.status}: ${JSON.stringify(answer)}`,
  );
  return answer.FunctionArn;
}
