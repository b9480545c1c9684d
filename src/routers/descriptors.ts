/**
 * The list of routers: one line per folder. The registry, the `router:` part of the config
 * schema (and so the JSON Schema) and the capability table are all read from here.
 */
import { awsAlbRouter } from './aws-alb/index.js';
import { awsElbRouter } from './aws-elb/index.js';
import { awsTargetGroupRouter } from './aws-target-group/index.js';
import { builtinRouter } from './builtin/index.js';
import { caddyRouter } from './caddy/index.js';
import type { RouterDescriptor } from './descriptor.js';
import { haproxyRouter } from './haproxy/index.js';
import { nginxRouter } from './nginx/index.js';
import { route53Router } from './route53/index.js';
import { varnishRouter } from './varnish/index.js';

/** Each key must be its descriptor's kind: a typo fails to compile. */
function defineRouters<T extends { [K in keyof T]: RouterDescriptor<K & string> }>(routers: T): T {
  return routers;
}

export const ROUTER_DESCRIPTORS = defineRouters({
  builtin: builtinRouter,
  nginx: nginxRouter,
  haproxy: haproxyRouter,
  varnish: varnishRouter,
  caddy: caddyRouter,
  'aws-elb': awsElbRouter,
  'aws-target-group': awsTargetGroupRouter,
  route53: route53Router,
  'aws-alb': awsAlbRouter,
});

type Descriptors = typeof ROUTER_DESCRIPTORS;
export type RouterKind = keyof Descriptors;
type RouterConfigSchema = Descriptors[RouterKind]['configSchema'];

/** The options of the `router:` discriminated union, in the order of the list above. */
export const ROUTER_CONFIG_SCHEMAS = Object.values(ROUTER_DESCRIPTORS).map(
  (descriptor) => descriptor.configSchema,
) as [RouterConfigSchema, ...RouterConfigSchema[]];
