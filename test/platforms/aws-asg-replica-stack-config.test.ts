// Mode replica-stack's keys: what `replicate` accepts, hostile values refused naming the key,
// the endpoint kind the mode gives (checked against the router before anything reaches AWS),
// and the replica names AWS will accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { awsAsgPlatformConfig } from '../../src/platforms/aws-asg/config.js';
import { awsAsgEndpointKind } from '../../src/platforms/aws-asg/endpoint-kind.js';
import { copiedName, replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { isCutoverError } from '../../src/shared/errors.js';

const BASE = { kind: 'aws-asg', region: 'eu-west-1', image: 'ami-0abc1234', subnets: ['subnet-0abc1234'] };
const ALB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';

void test('ReplicateSettings_AcceptAGroupAClassicElbOrAnAlb', () => {
  for (const replicate of [
    { group: 'web' },
    { loadBalancer: { classic: 'web-elb' } },
    { group: 'web', loadBalancer: { application: ALB } },
    { loadBalancer: { application: 'web-alb' } },
  ]) {
    const config = awsAsgPlatformConfig.parse({ ...BASE, mode: 'replica-stack', replicate });
    assert.deepEqual(config.replicate, replicate);
  }
});

void test('HostileOrWrongReplicateValues_AreRefused_NamingTheKey', () => {
  const cases: Record<string, unknown>[] = [
    { ...BASE, mode: 'replica-stack' },
    { ...BASE, replicate: { group: 'web' } },
    { ...BASE, mode: 'replica-stack', replicate: {} },
    { ...BASE, mode: 'replica-stack', replicate: { group: '' } },
    { ...BASE, mode: 'replica-stack', replicate: { group: 'g'.repeat(256) } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: { classic: 'web elb' } } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: { classic: 'x'.repeat(33) } } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: { classic: 'a', application: 'b' } } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: { application: `${ALB}\nx` } } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: { application: 'arn:aws:s3:::bucket' } } },
    { ...BASE, mode: 'replica-stack', replicate: { loadBalancer: 'web-elb' } },
    { ...BASE, mode: 'replica-stack', replicate: { group: 'web', extra: 1 } },
  ];
  for (const input of cases) {
    const parsed = awsAsgPlatformConfig.safeParse(input);
    assert.equal(parsed.success, false, JSON.stringify(input));
    assert.ok(
      parsed.error.issues.some((issue) => issue.path[0] === 'replicate'),
      `${JSON.stringify(input)}: ${JSON.stringify(parsed.error.issues)}`,
    );
  }
});

void test('TheEndpointKind_IsTheLoadBalancerOnlyWhenOneIsReplicated', () => {
  const kind = (extra: Record<string, unknown>) =>
    awsAsgEndpointKind(awsAsgPlatformConfig.parse({ ...BASE, ...extra }));
  assert.equal(kind({}), 'aws-asg');
  assert.equal(kind({ mode: 'replica-stack', replicate: { group: 'web' } }), 'aws-asg');
  assert.equal(
    kind({ mode: 'replica-stack', replicate: { loadBalancer: { classic: 'web-elb' } } }),
    'aws-load-balancer',
  );
});

void test('AReplicatedLoadBalancer_WithARouterThatCannotRouteToIt_IsAConfigErrorAtItsLine', () => {
  const text = [
    'app: shop',
    'router:',
    '  kind: aws-elb',
    '  region: eu-west-1',
    '  loadBalancer: web-elb',
    'platform:',
    '  kind: aws-asg',
    '  mode: replica-stack',
    '  region: eu-west-1',
    '  image: ami-0abc1234',
    '  subnets: [subnet-0abc1234]',
    '  replicate: { loadBalancer: { classic: web-elb } }',
    '',
  ].join('\n');
  assert.throws(
    () => parseConfigText(text, '/tmp/shop/cutover.yml'),
    (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
      assert.match(error.message, /cutover\.yml:3:\d+: router\.kind/);
      assert.match(
        error.message,
        /is an endpoint of kind aws-load-balancer, which router\.kind "aws-elb" cannot route to/,
      );
      return true;
    },
  );
});

void test('ReplicaNames_FitAwsRules_AreStable_AndKeepReleasesAndAppsApart', () => {
  const names = [
    replicaName('shop', 'green', 'v1'),
    replicaName('shop', 'green', 'v2'),
    replicaName('shop', 'blue', 'v1'),
    replicaName('a-very-long-application-name-indeed', 'green', 'v1'),
    replicaName('a-very-long-application-name-other', 'green', 'v1'),
    replicaName('--/x', 'blue', '../../etc'),
    replicaName('', 'blue', 'v1'),
  ];
  for (const name of names) assert.match(name, /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/, name);
  assert.equal(new Set(names).size, names.length);
  assert.equal(replicaName('shop', 'green', 'v1'), names[0]);
  assert.ok(copiedName('g'.repeat(200), 'a'.repeat(200)).length <= 255);
  assert.notEqual(
    copiedName('g'.repeat(200), 'a'.repeat(200)),
    copiedName('g'.repeat(200), `${'a'.repeat(199)}b`),
  );
});
