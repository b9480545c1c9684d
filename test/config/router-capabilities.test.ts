import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routerConfig } from '../../src/config/schema.js';
import { ROUTER_KIND_CAPABILITIES, ROUTER_KIND_LIMITS } from '../../src/routers/capabilities.js';

void test('every router kind in the config schema has one row of capabilities', () => {
  const kinds = routerConfig.options.map((option) => option.shape.kind.value);
  assert.deepEqual(Object.keys(ROUTER_KIND_CAPABILITIES).sort(), [...kinds].sort());
});

/** Routers that move whole Auto Scaling groups: an attachment is not one instant. */
const GROUP_ATTACHMENT_ROUTERS = new Set(['aws-elb', 'aws-target-group']);
/** DNS: cached answers keep the old stack serving for the TTL after every move. */
const NOT_ATOMIC_ROUTERS = new Set([...GROUP_ATTACHMENT_ROUTERS, 'route53']);

void test('every router but the group-attachment ones and DNS can switch atomically; each exception says why', () => {
  for (const [kind, capabilities] of Object.entries(ROUTER_KIND_CAPABILITIES)) {
    const limits = ROUTER_KIND_LIMITS[kind as keyof typeof ROUTER_KIND_LIMITS];
    assert.equal(capabilities.atomic, !NOT_ATOMIC_ROUTERS.has(kind), kind);
    if (!capabilities.atomic) assert.ok(limits?.atomic, `${kind} says why it is not atomic`);
    if (GROUP_ATTACHMENT_ROUTERS.has(kind)) assert.deepEqual(capabilities.endpointKinds, ['aws-asg'], kind);
  }
  assert.equal(ROUTER_KIND_CAPABILITIES.caddy.weighted, false);
  assert.ok(ROUTER_KIND_LIMITS.caddy?.weighted);
});

void test("each router's describe() capabilities equal its row (docs/routers.md shows the same table)", async () => {
  const { NGINX_CAPABILITIES } = await import('../../src/routers/nginx/capabilities.js');
  const { HAPROXY_CAPABILITIES } = await import('../../src/routers/haproxy/capabilities.js');
  const { VARNISH_CAPABILITIES } = await import('../../src/routers/varnish/capabilities.js');
  const { CADDY_CAPABILITIES } = await import('../../src/routers/caddy/capabilities.js');
  assert.deepEqual(ROUTER_KIND_CAPABILITIES.nginx, NGINX_CAPABILITIES);
  assert.deepEqual(ROUTER_KIND_CAPABILITIES.haproxy, HAPROXY_CAPABILITIES);
  assert.deepEqual(ROUTER_KIND_CAPABILITIES.varnish, VARNISH_CAPABILITIES);
  assert.deepEqual(ROUTER_KIND_CAPABILITIES.caddy, CADDY_CAPABILITIES);
  const { AWS_ELB_CAPABILITIES } = await import('../../src/routers/aws-elb/capabilities.js');
  const { AWS_TARGET_GROUP_CAPABILITIES } =
    await import('../../src/routers/aws-target-group/capabilities.js');
  assert.deepEqual(ROUTER_KIND_CAPABILITIES['aws-elb'], AWS_ELB_CAPABILITIES);
  assert.deepEqual(ROUTER_KIND_CAPABILITIES['aws-target-group'], AWS_TARGET_GROUP_CAPABILITIES);
  const { ROUTE53_ALIAS_CAPABILITIES } = await import('../../src/routers/route53/capabilities.js');
  assert.deepEqual(ROUTER_KIND_CAPABILITIES.route53, ROUTE53_ALIAS_CAPABILITIES);
  const { AWS_ALB_CAPABILITIES } = await import('../../src/routers/aws-alb/capabilities.js');
  assert.deepEqual(ROUTER_KIND_CAPABILITIES['aws-alb'], AWS_ALB_CAPABILITIES);
  assert.deepEqual(ROUTER_KIND_CAPABILITIES['aws-alb'].endpointKinds, ['aws-asg']);
});
