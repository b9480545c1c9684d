// The `platform:` section of aws-asg in mode replace-instances: what it needs and what it
// defaults, and each mistake reported with the file, line and key, before anything reaches AWS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { AWS_ASG_KEEP_IMAGES, awsAsgPlatformConfig } from '../../src/platforms/aws-asg/config.js';
import { isCutoverError } from '../../src/shared/errors.js';

const MINIMAL = { kind: 'aws-asg', mode: 'replace-instances', region: 'eu-west-1', group: 'shop-production' };

void test('AMinimalSection_NeedsNoImageNorSubnets_AndKeepsThreeImages', () => {
  const config = awsAsgPlatformConfig.parse(MINIMAL);
  assert.equal(config.mode, 'replace-instances');
  assert.equal(config.group, 'shop-production');
  assert.equal(config.keepImages, AWS_ASG_KEEP_IMAGES);
  assert.equal(config.image, undefined);
});

void test('HostileOrWrongValues_AreRefused_NamingTheKey', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ kind: 'aws-asg', mode: 'replace-instances', region: 'eu-west-1' }, 'group'],
    [{ ...MINIMAL, group: '' }, 'group'],
    [{ ...MINIMAL, group: 'g'.repeat(256) }, 'group'],
    [{ ...MINIMAL, keepImages: 0 }, 'keepImages'],
    [{ ...MINIMAL, keepImages: 1e6 }, 'keepImages'],
    [{ ...MINIMAL, keepImages: '3' }, 'keepImages'],
    // replica-group still needs its image.
    [{ kind: 'aws-asg', region: 'eu-west-1', subnets: ['subnet-0abc1234'] }, 'image'],
  ];
  for (const [input, key] of cases) {
    const parsed = awsAsgPlatformConfig.safeParse(input);
    assert.equal(parsed.success, false, JSON.stringify(input));
    assert.ok(
      parsed.error.issues.some((issue) => issue.path[0] === key),
      `${JSON.stringify(input)}: ${JSON.stringify(parsed.error.issues)}`,
    );
  }
});

void test('AMissingGroup_IsReportedWithFileLineAndKey', () => {
  const text = [
    'app: shop',
    'router: { kind: aws-target-group, targetGroup: shop-web, region: eu-west-1 }',
    'platform:',
    '  kind: aws-asg',
    '  mode: replace-instances',
    '  region: eu-west-1',
    '',
  ].join('\n');
  assert.throws(
    () => parseConfigText(text, '/tmp/shop/cutover.yml'),
    (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'));
      assert.match(error.message, /cutover\.yml:\d+:\d+: platform\.group/);
      return true;
    },
  );
});
