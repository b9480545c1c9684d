/**
 * examples/aws-asg: its cutover.yml loads as recipe 2 says (aws-asg platform in replica-group
 * mode behind an aws-target-group router, an exec check asking Auto Scaling for each instance).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/aws-asg');

void test('ExampleConfig_LoadsAsTheReplicaGroupRecipe', () => {
  const config = loadConfig(path.join(EXAMPLE, 'cutover.yml'));
  assert.equal(config.platform.kind, 'aws-asg');
  assert.ok(config.platform.kind === 'aws-asg');
  assert.equal(config.platform.mode, 'replica-group');
  assert.deepEqual(config.platform.image, { name: 'shop-${RELEASE}' });
  assert.equal(config.platform.userData?.includes('${RELEASE}'), true);
  assert.equal(config.router.kind, 'aws-target-group');
  assert.match(String(config.health.exec?.command), /describe-auto-scaling-instances .*"\$TARGET_ID"/);
});
