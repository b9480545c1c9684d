import { CutoverError } from '../../shared/errors.js';
import { defineRouter } from '../descriptor.js';
import { ROUTE53_ALIAS_CAPABILITIES, route53Capabilities } from './capabilities.js';
import { route53RouterConfig } from './config.js';

export const route53Router = defineRouter({
  kind: 'route53',
  configSchema: route53RouterConfig,
  // What any route53 router can do; mode weighted adds weighted steps (configuredCapabilities).
  capabilities: ROUTE53_ALIAS_CAPABILITIES,
  configuredCapabilities: (config) => route53Capabilities(config.mode),
  limits: {
    atomic:
      'Route 53 applies a change all at once, but resolvers and clients keep the old answer for its TTL (some longer): both slots serve for a while',
    weighted: 'mode alias names one load balancer at a time; set router.mode: weighted for shift steps',
    preview: 'every resolver gets the same answers; smoke-test the idle load balancer by its own DNS name',
    drainCounts:
      'DNS cannot count clients holding a cached answer; drain holds the old slot for TTL + dnsMargin',
  },
  create: async (config, deps) => {
    const app = deps.app;
    if (app === undefined) {
      throw new CutoverError(
        'CUTOVER_E_INTERNAL',
        'the route53 router needs the app name for its set identifiers',
      );
    }
    const { createRoute53Router } = await import('./create-route53-router.js');
    return { router: createRoute53Router(config, { app, logger: deps.logger }) };
  },
});
