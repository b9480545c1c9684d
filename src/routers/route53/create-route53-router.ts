import { Route53Client } from '@aws-sdk/client-route-53';
import { withCallTimeout } from '../../aws/aws-call.js';
import { callTimeoutOptions } from '../../aws/call-timeout.js';
import { awsClientConfig } from '../../aws/connection.js';
import type { Logger } from '../../shared/logger.js';
import type { Route53RouterConfig } from './config.js';
import { Route53Router } from './route53-router.js';

/** The route53 router over its own Route 53 client, made when open() connects. */
export function createRoute53Router(
  config: Route53RouterConfig,
  deps: { readonly app: string; readonly logger: Logger },
): Route53Router {
  return new Route53Router({
    config,
    app: deps.app,
    logger: deps.logger,
    connect: () => {
      const client = withCallTimeout(
        new Route53Client({ ...awsClientConfig(config), ...callTimeoutOptions(config.callTimeout) }),
        config.callTimeout,
      );
      return { client, close: () => client.destroy() };
    },
  });
}
