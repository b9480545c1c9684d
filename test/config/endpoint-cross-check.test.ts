/**
 * A platform whose slot is a group (an Auto Scaling group …) paired with a router that cannot
 * route to that kind of endpoint is a config error naming both keys; platforms of host:port
 * instances work with every router. No endpoint platform ships in this tree yet, so the
 * refusal is checked with the platform table as a parameter; the instance side with the real one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEndpointFitsRouter } from '../../src/config/cross-checks.js';
import { ROUTER_KIND_CAPABILITIES } from '../../src/routers/capabilities.js';
import { PLATFORM_KIND_ENDPOINTS } from '../../src/platforms/endpoint-kinds.js';

/** The two keys the check reads (each router's own required keys do not matter to it). */
function parse(router: string): Parameters<typeof checkEndpointFitsRouter>[0] {
  return { platform: { kind: 'process' }, router: { kind: router } } as unknown as Parameters<
    typeof checkEndpointFitsRouter
  >[0];
}

/** The real routers plus one that takes `aws-asg` endpoints (as the AWS load balancer routers do). */
const WITH_AN_ENDPOINT_ROUTER = {
  ...ROUTER_KIND_CAPABILITIES,
  'aws-alb': { ...ROUTER_KIND_CAPABILITIES.builtin, endpointKinds: ['aws-asg'] },
};

void describe('endpoint platforms and routers', () => {
  void it('EndpointPlatformWithARouterThatDoesNotTakeIt_IsAConfigErrorNamingBothKeys', () => {
    const issues = checkEndpointFitsRouter(parse('haproxy'), { process: 'aws-asg' }, WITH_AN_ENDPOINT_ROUTER);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]!.path, ['router', 'kind']);
    assert.match(issues[0]!.message, /each slot of platform\.kind "process" is an endpoint of kind aws-asg/);
    assert.match(
      issues[0]!.message,
      /which router\.kind "haproxy" cannot route to; use router kind "aws-elb" or "aws-target-group"/,
    );
  });

  void it('EndpointPlatformWithARouterThatTakesIt_IsAccepted', () => {
    const config = { ...parse('builtin'), router: { kind: 'aws-alb' } } as unknown as ReturnType<
      typeof parse
    >;
    assert.deepEqual(checkEndpointFitsRouter(config, { process: 'aws-asg' }, WITH_AN_ENDPOINT_ROUTER), []);
  });

  void it('InstancePlatforms_WorkWithEveryRouter', () => {
    for (const kind of Object.keys(ROUTER_KIND_CAPABILITIES)) {
      for (const platform of ['process', 'docker'] as const) {
        assert.equal(PLATFORM_KIND_ENDPOINTS[platform], undefined, `${platform} runs host:port instances`);
      }
      assert.deepEqual(checkEndpointFitsRouter(parse(kind)), [], kind);
    }
  });
});
