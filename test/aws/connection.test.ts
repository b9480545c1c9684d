import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { z } from 'zod';
import { AWS_CONNECTION_SETTINGS, awsClientConfig } from '../../src/aws/connection.js';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/daemons/moto.js';

const schema = z.object(AWS_CONNECTION_SETTINGS).strict();

describe('AWS connection settings', () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto.stop();
  });

  it('an endpoint and a region reach moto through a real SDK client', async () => {
    const connection = schema.parse({ region: 'us-east-1', endpoint: moto.endpoint, maxAttempts: 1 });
    const client = new AutoScalingClient({ ...awsClientConfig(connection), credentials: MOTO_CREDENTIALS });
    try {
      const answer = await client.send(new DescribeAutoScalingGroupsCommand({}));
      assert.deepEqual(answer.AutoScalingGroups, []);
    } finally {
      client.destroy();
    }
  });

  it('defaults to the SDK retry budget and leaves the endpoint out when none is set', () => {
    const connection = schema.parse({ region: 'eu-west-3' });
    assert.deepEqual(awsClientConfig(connection), { region: 'eu-west-3', maxAttempts: 3 });
  });

  it('refuses a region, an endpoint and a retry budget that cannot be right', () => {
    for (const bad of [
      { region: 'US-EAST-1' },
      { region: 'us-east-1; rm -rf /' },
      { region: 'us-east-1', endpoint: 'http://127.0.0.1:5000/path?x=1' },
      { region: 'us-east-1', endpoint: 'file:///etc/passwd' },
      { region: 'us-east-1', maxAttempts: 0 },
      { region: 'us-east-1', maxAttempts: 1.5 },
      { region: 'us-east-1', accessKeyId: 'AKIA…' },
    ]) {
      assert.equal(schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
