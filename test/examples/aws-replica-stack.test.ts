/**
 * examples/aws-replica-stack: its cutover.yml loads as recipe 3 says (aws-asg in mode
 * replica-stack copying an ALB and a group's scaling policies, router route53 with an alias).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { awsAsgEndpointKind } from '../../src/platforms/aws-asg/endpoint-kind.js';

const EXAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/aws-replica-stack',
);

void test('ExampleConfig_LoadsAsTheReplicaStackRecipe', () => {
  const config = loadConfig(path.join(EXAMPLE, 'cutover.yml'));
  assert.ok(config.platform.kind === 'aws-asg');
  assert.equal(config.platform.mode, 'replica-stack');
  assert.equal(config.platform.replicate?.group, 'shop-web');
  assert.match(JSON.stringify(config.platform.replicate?.loadBalancer), /loadbalancer\/app\/shop-web\//);
  assert.equal(awsAsgEndpointKind(config.platform), 'aws-load-balancer');
  assert.equal(config.router.kind, 'route53');
});
