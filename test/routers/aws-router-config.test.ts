/**
 * The aws-elb and aws-target-group `router:` sections through the real config loader: sane
 * defaults, and every hostile value refused with the file, line and key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { isCutoverError } from '../../src/shared/errors.js';

const BASE = `app: web
platform:
  kind: process
  command: node
router:
`;

function load(router: string) {
  return parseConfigText(`${BASE}${router}`, '/srv/web/cutover.yml');
}

function refusal(router: string): string {
  try {
    load(router);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
    return error.message;
  }
  assert.fail(`accepted:\n${router}`);
}

void test('a target group by name or ARN, with the SDK retry budget and a 5-minute settle timeout by default', () => {
  for (const targetGroup of [
    'web-blue-green',
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/50dc6c495c0c9188',
  ]) {
    const config = load(`  kind: aws-target-group\n  targetGroup: ${targetGroup}\n  region: eu-west-1\n`);
    assert.deepEqual(config.router, {
      kind: 'aws-target-group',
      targetGroup,
      region: 'eu-west-1',
      maxAttempts: 3,
      settleTimeout: 300_000,
      callTimeout: 30_000,
    });
  }
  const elb = load(`  kind: aws-elb\n  loadBalancer: web\n  region: us-east-1\n  settleTimeout: 90s\n`);
  assert.deepEqual(elb.router, {
    kind: 'aws-elb',
    loadBalancer: 'web',
    region: 'us-east-1',
    maxAttempts: 3,
    settleTimeout: 90_000,
    callTimeout: 30_000,
  });
});

void test('hostile router sections are refused naming file, line and key', () => {
  const cases: [string, RegExp][] = [
    [
      '  kind: aws-target-group\n  region: us-east-1\n',
      /cutover\.yml:5:\d+: router\.targetGroup: required key is missing/,
    ],
    [
      '  kind: aws-target-group\n  targetGroup: -web\n  region: us-east-1\n',
      /cutover\.yml:7:\d+: router\.targetGroup:/,
    ],
    [
      `  kind: aws-target-group\n  targetGroup: ${'t'.repeat(33)}\n  region: us-east-1\n`,
      /:7:\d+: router\.targetGroup:/,
    ],
    [
      '  kind: aws-target-group\n  targetGroup: "arn:aws:s3:::bucket"\n  region: us-east-1\n',
      /:7:\d+: router\.targetGroup:/,
    ],
    [
      '  kind: aws-elb\n  loadBalancer: "web; rm -rf /"\n  region: us-east-1\n',
      /:7:\d+: router\.loadBalancer:/,
    ],
    ['  kind: aws-elb\n  loadBalancer: web\n  region: Mars\n', /:8:\d+: router\.region:/],
    [
      '  kind: aws-elb\n  loadBalancer: web\n  region: us-east-1\n  settleTimeout: soon\n',
      /:9:\d+: router\.settleTimeout:/,
    ],
    [
      '  kind: aws-elb\n  loadBalancer: web\n  region: us-east-1\n  secretAccessKey: abc\n',
      /:9:\d+: router\.secretAccessKey: unknown key/,
    ],
    ['  kind: aws-elb\n  loadBalancer: [web]\n  region: us-east-1\n', /:7:\d+: router\.loadBalancer:/],
  ];
  const wrong = cases
    .map(([router, expected]) => ({ router, expected, message: refusal(router) }))
    .filter(({ expected, message }) => !expected.test(message));
  assert.deepEqual(wrong, []);
});
