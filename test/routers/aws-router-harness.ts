/**
 * The endpoint contract's harness for the AWS group routers: one moto server for the file, a
 * fresh layout per case (moto reset, then a launch template, two groups and the balancer, made
 * with the SDK: the aws-asg platform lives on another branch), and the router built from its
 * config through its descriptor, exactly as cutover builds it.
 */
import { awsAlbRouter } from '../../src/routers/aws-alb/index.js';
import { awsElbRouter } from '../../src/routers/aws-elb/index.js';
import { awsTargetGroupRouter } from '../../src/routers/aws-target-group/index.js';
import type { RouterDeps } from '../../src/routers/descriptor.js';
import { Logger } from '../../src/shared/logger.js';
import type { Router } from '../../src/shared/router.js';
import type { Slot } from '../../src/shared/slot.js';
import {
  attachByHand,
  awsTestClients,
  createAwsGroups,
  groupAttachments,
  groupInstanceIds,
  instanceStates,
  markGroupUnhealthy,
  stopGroupInstances,
  targetStates,
  TEST_REGION,
  type AwsTestClients,
} from '../support/aws-groups.js';
import { freePort } from '../support/daemons/common.js';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/daemons/moto.js';
import type { EndpointRouterCase, EndpointRouterHarness } from './endpoint-contract.js';

export type AwsRouterKind = 'aws-elb' | 'aws-target-group';
/** Every AWS router kind, the weighted ALB one included (it has its own test layout). */
export type AnyAwsRouterKind = AwsRouterKind | 'aws-alb';

/** The SDK's default chain reads these: the routers never take credentials from config. */
export function useMotoCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
}

const QUIET_DEPS: RouterDeps = {
  logger: new Logger(() => {}),
  previewToken: 'preview-token-of-the-aws-router-tests',
  baseDir: '/nonexistent',
  stateDir: '/nonexistent',
};

export async function createAwsRouter(
  kind: AnyAwsRouterKind,
  balancer: string,
  endpoint: string,
  settleTimeout = '10s',
  callTimeout = '10s',
  /** aws-alb: the slots' target groups (default: named after `balancer`). */
  targetGroups?: { blue: string; green: string },
): Promise<Router> {
  const common = { region: TEST_REGION, endpoint, maxAttempts: 1, settleTimeout, callTimeout };
  if (kind === 'aws-alb') {
    // `balancer` is the listener's ARN, or a name its ARN and target groups are made up from.
    const config = awsAlbRouter.configSchema.parse({
      kind,
      listenerArn: balancer.startsWith('arn:')
        ? balancer
        : `arn:aws:elasticloadbalancing:${TEST_REGION}:123456789012:listener/app/${balancer}/0123456789abcdef/0123456789abcdef`,
      targetGroups: targetGroups ?? { blue: `${balancer}-blue`, green: `${balancer}-green` },
      ...common,
    });
    return (await awsAlbRouter.create(config, QUIET_DEPS)).router;
  }
  if (kind === 'aws-elb') {
    const config = awsElbRouter.configSchema.parse({ kind, loadBalancer: balancer, ...common });
    return (await awsElbRouter.create(config, QUIET_DEPS)).router;
  }
  const config = awsTargetGroupRouter.configSchema.parse({ kind, targetGroup: balancer, ...common });
  return (await awsTargetGroupRouter.create(config, QUIET_DEPS)).router;
}

export async function startAwsRouterHarness(
  kind: AwsRouterKind,
): Promise<EndpointRouterHarness & { moto: MotoServer }> {
  useMotoCredentials();
  const moto = await startMoto();
  let clients: AwsTestClients | undefined;
  let serial = 0;
  const deadPort = await freePort();
  return {
    moto,
    motoEndpoint: moto.endpoint,
    healthyState: kind === 'aws-elb' ? 'InService' : 'healthy',
    attachAction: kind === 'aws-elb' ? 'AttachLoadBalancers' : 'AttachLoadBalancerTargetGroups',
    detachAction: kind === 'aws-elb' ? 'DetachLoadBalancers' : 'DetachLoadBalancerTargetGroups',
    attachReplacesInstances: kind === 'aws-elb',
    fresh: async (options) => {
      clients?.destroy();
      await moto.reset();
      clients = awsTestClients(moto.endpoint);
      const c = clients;
      const layout = await createAwsGroups(c, `c${++serial}`);
      const groups: Record<Slot, string> = { blue: layout.blueGroup, green: layout.greenGroup };
      // The target group by name in one case in two, by ARN in the other: both must resolve.
      const balancer =
        kind === 'aws-elb'
          ? layout.loadBalancerName
          : serial % 2 === 0
            ? layout.targetGroupName
            : layout.targetGroupArn;
      const makeRouter = (): Promise<Router> =>
        createAwsRouter(kind, balancer, moto.endpoint, options?.settleTimeout);
      const kase: EndpointRouterCase = {
        router: await makeRouter(),
        anotherRouter: makeRouter,
        endpoints: layout.endpoints,
        groups,
        attachedGroups: async () => {
          const attached: string[] = [];
          for (const group of Object.values(groups)) {
            const found = await groupAttachments(c, group);
            const list = kind === 'aws-elb' ? found.loadBalancers : found.targetGroups;
            if (list.includes(kind === 'aws-elb' ? layout.loadBalancerName : layout.targetGroupArn))
              attached.push(group);
          }
          return attached.sort();
        },
        registered: () =>
          kind === 'aws-elb'
            ? instanceStates(c, layout.loadBalancerName)
            : targetStates(c, layout.targetGroupArn),
        groupInstances: (slot) => groupInstanceIds(c, groups[slot]),
        attachByHand: (slot) =>
          attachByHand(
            c,
            groups[slot],
            kind === 'aws-elb'
              ? { loadBalancerName: layout.loadBalancerName }
              : { targetGroupArn: layout.targetGroupArn },
          ),
        makeUnhealthy: (slot) => stopGroupInstances(c, groups[slot]),
        markUnhealthyInGroup: (slot) => markGroupUnhealthy(c, groups[slot]),
      };
      return kase;
    },
    unreachableRouter: () =>
      createAwsRouter(
        kind,
        kind === 'aws-elb' ? 'nobody-answers' : 'nobody-answers',
        `http://127.0.0.1:${deadPort}`,
      ),
    teardown: async () => {
      clients?.destroy();
      await moto.stop();
    },
  };
}
