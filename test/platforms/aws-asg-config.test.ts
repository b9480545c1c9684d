// The `platform:` section with `kind: aws-asg`: what it accepts, and each mistake reported with
// the file, line and key (through the real loader), before anything reaches AWS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { awsAsgPlatformConfig } from '../../src/platforms/aws-asg/config.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { isCutoverError } from '../../src/shared/errors.js';

const MINIMAL = { kind: 'aws-asg', region: 'eu-west-1', image: 'ami-0abc1234', subnets: ['subnet-0abc1234'] };

void test('AMinimalSection_GetsItsDefaults', () => {
  const config = awsAsgPlatformConfig.parse(MINIMAL);
  assert.equal(config.mode, 'replica-group');
  assert.equal(config.instanceType, 't3.micro');
  assert.equal(config.port, 80);
  assert.equal(config.instances, 1);
  assert.equal(config.readyTimeout, 600_000);
  assert.equal(config.pollInterval, 5_000);
  assert.equal(config.maxAttempts, 3);
  assert.equal(config.stopGrace, 10_000);
  assert.deepEqual(config.securityGroups, []);
});

void test('HostileOrWrongValues_AreRefused_NamingTheKey', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...MINIMAL, image: 'shop:v1' }, 'image'],
    [{ ...MINIMAL, image: { byRelease: { v1: 'ami-../../x' } } }, 'image'],
    [{ ...MINIMAL, image: { name: '' } }, 'image'],
    [{ ...MINIMAL, subnets: ['subnet-0abc1234,subnet-evil'] }, 'subnets'],
    [{ ...MINIMAL, availabilityZones: ['eu-west-1a'] }, 'subnets'],
    [{ kind: 'aws-asg', region: 'eu-west-1', image: 'ami-0abc1234' }, 'subnets'],
    [{ ...MINIMAL, securityGroups: ['default'] }, 'securityGroups'],
    [{ ...MINIMAL, instances: 0 }, 'instances'],
    [{ ...MINIMAL, instances: 1e9 }, 'instances'],
    [{ ...MINIMAL, port: 70000 }, 'port'],
    [{ ...MINIMAL, mode: 'replace-everything' }, 'mode'],
    [{ ...MINIMAL, readyTimeout: 'soon' }, 'readyTimeout'],
    [{ ...MINIMAL, region: 'us-east-1\nx' }, 'region'],
    [{ ...MINIMAL, accessKeyId: 'AKIA…' }, ''],
  ];
  for (const [input, key] of cases) {
    const parsed = awsAsgPlatformConfig.safeParse(input);
    assert.equal(parsed.success, false, JSON.stringify(input));
    if (key !== '') {
      assert.ok(
        parsed.error.issues.some((issue) => issue.path[0] === key),
        `${JSON.stringify(input)}: ${JSON.stringify(parsed.error.issues)}`,
      );
    }
  }
});

void test('AMistakeInTheFile_IsReportedWithFileLineAndKey', () => {
  const text = [
    'app: shop',
    'platform:',
    '  kind: aws-asg',
    '  region: eu-west-1',
    '  image: ami-0abc1234',
    '  subnets: [subnet-0abc1234]',
    '  instances: -2',
    '',
  ].join('\n');
  assert.throws(
    () => parseConfigText(text, '/tmp/shop/cutover.yml'),
    (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'));
      assert.match(error.message, /cutover\.yml:7:\d+: platform\.instances/);
      return true;
    },
  );
});

void test('AnAutoScalingGroupPlatform_WithTheBuiltinProxy_IsAConfigError', () => {
  const text = [
    'app: shop',
    'router:',
    '  kind: builtin',
    'platform:',
    '  kind: aws-asg',
    '  region: eu-west-1',
    '  image: ami-0abc1234',
    '  subnets: [subnet-0abc1234]',
    '',
  ].join('\n');
  assert.throws(
    () => parseConfigText(text, '/tmp/shop/cutover.yml'),
    (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_CONFIG') &&
      /platform\.kind "aws-asg" is an endpoint of kind aws-asg, which router\.kind "builtin" cannot route to/.test(
        error.message,
      ),
  );
});

void test('GroupNames_AreStable_Safe_AndDistinctForReleasesThatCleanUpAlike', () => {
  assert.equal(groupName('shop', 'green', 'v42'), 'cutover-shop-green-v42');
  assert.equal(groupName('shop', 'green', 'v42'), groupName('shop', 'green', 'v42'));
  const slashed = groupName('shop', 'blue', 'feature/x');
  const underscored = groupName('shop', 'blue', 'feature_x');
  assert.notEqual(slashed, underscored);
  assert.match(slashed, /^[A-Za-z0-9._-]{3,128}$/);
  const long = groupName('shop', 'blue', 'r'.repeat(500));
  assert.ok(long.length <= 128, `${long.length}`);
  assert.notEqual(long, groupName('shop', 'blue', 'r'.repeat(501)));
});
