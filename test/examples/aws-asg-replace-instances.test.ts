/**
 * examples/aws-asg/replace-instances.yml loads as recipe 1 says: the aws-asg platform in mode
 * replace-instances on the production group, behind an aws-target-group router.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/aws-asg');

void test('ExampleConfig_LoadsAsTheReplaceInstancesRecipe', () => {
  const config = loadConfig(path.join(EXAMPLE, 'replace-instances.yml'));
  assert.ok(config.platform.kind === 'aws-asg');
  assert.equal(config.platform.mode, 'replace-instances');
  assert.equal(config.platform.group, 'shop-production');
  assert.equal(config.platform.keepImages, 3);
  assert.equal(config.platform.userData?.includes('${RELEASE}'), true);
  assert.equal(config.router.kind, 'aws-target-group');
});
