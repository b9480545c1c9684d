import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routerConfig } from '../../src/config/schema.js';
import { ROUTER_KIND_CAPABILITIES, ROUTER_KIND_LIMITS } from '../../src/routers/capabilities.js';

void test('every router kind in the config schema has one row of capabilities', () => {
  const kinds = routerConfig.options.map((option) => option.shape.kind.value);
  assert.deepEqual(Object.keys(ROUTER_KIND_CAPABILITIES).sort(), [...kinds].sort());
});

void test('every router can switch atomically; caddy cannot weigh traffic and says why', () => {
  for (const [kind, capabilities] of Object.entries(ROUTER_KIND_CAPABILITIES)) {
    assert.equal(capabilities.atomic, true, kind);
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
});
