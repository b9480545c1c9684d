/**
 * What the AWS end-to-end tests share: moto with one image per release (the aws-asg fixture), a
 * balancer (a target group or a Classic ELB) made with the SDK, a cutover project whose config
 * names both, and reads of what AWS holds — which groups the balancer has attached, which
 * instances it counts healthy, which instances each group has in service.
 * moto's instances run nothing, so the health check is the group's view of each instance
 * (test/support/apps/asg-instance-health.ts; the `aws` CLI call in docs/aws.md does the same).
 */
import { fileURLToPath } from 'node:url';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand as CreateClassicLoadBalancer,
  DescribeInstanceHealthCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { AWS_TEST_REGION, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';

const HEALTH_SCRIPT = fileURLToPath(new URL('../support/apps/asg-instance-health.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export type AwsRouterKind = 'aws-target-group' | 'aws-elb';

export interface DeploymentOutput {
  ok: boolean;
  deployment: { id: string; phase: string; fromSlot: string | null; toSlot: string; release: string };
}

export interface HealthSettings {
  readonly healthyThreshold?: number;
  readonly interval?: string;
  readonly deadline?: string;
}

export function configYaml(
  fixture: AwsAsgFixture,
  kind: AwsRouterKind,
  balancer: string,
  health: HealthSettings = {},
): string {
  const connection = awsConnection(fixture);
  const router =
    kind === 'aws-elb'
      ? { kind, loadBalancer: balancer, ...connection, settleTimeout: '20s' }
      : { kind, targetGroup: balancer, ...connection, settleTimeout: '20s' };
  return configYamlWithRouter(fixture, router, { health });
}

/** How the tests' cutover reaches moto: its endpoint, and one attempt per call so a gap fails fast. */
export function awsConnection(fixture: AwsAsgFixture): {
  region: string;
  endpoint: string;
  maxAttempts: number;
} {
  return { region: AWS_TEST_REGION, endpoint: fixture.moto.endpoint, maxAttempts: 1 };
}

export interface ConfigOptions {
  readonly health?: HealthSettings;
  /** Settings added to the platform's (a mode and what it replicates, say). */
  readonly platform?: Record<string, unknown>;
  readonly drainTimeout?: string;
  /** Lines added at the end (a strategy, an analysis section). */
  readonly extraYaml?: readonly string[];
}

/** The project's cutover.yml with the aws-asg platform on moto and any `router:` section. */
export function configYamlWithRouter(
  fixture: AwsAsgFixture,
  router: Record<string, unknown>,
  { health = {}, platform: platformSettings = {}, drainTimeout = '1s', extraYaml = [] }: ConfigOptions = {},
): string {
  const connection = awsConnection(fixture);
  const platform = {
    kind: 'aws-asg',
    ...platformSettings,
    ...connection,
    image: { name: `${fixture.app}-\${RELEASE}` },
    availabilityZones: [`${AWS_TEST_REGION}a`],
    instances: 2,
    port: 8000,
    pollInterval: '50ms',
    readyTimeout: '20s',
    stopGrace: '1s',
  };
  const probe = [process.execPath, '--import', TSX, HEALTH_SCRIPT, fixture.moto.endpoint, AWS_TEST_REGION];
  return [
    `app: ${fixture.app}`,
    `platform: ${JSON.stringify(platform)}`,
    `router: ${JSON.stringify(router)}`,
    'health:',
    `  exec: { command: ${JSON.stringify(probe)} }`,
    `  interval: ${health.interval ?? '100ms'}`,
    '  timeout: 20s',
    `  healthyThreshold: ${health.healthyThreshold ?? 1}`,
    '  unhealthyThreshold: 1',
    `  deadline: ${health.deadline ?? '60s'}`,
    `drain: { timeout: ${drainTimeout} }`,
    'rollbackWindow: 10m',
    ...extraYaml,
    '',
  ].join('\n');
}

export interface Balancer {
  readonly name: string;
  /** The target group's ARN (target groups only). */
  readonly arn?: string;
  /** Instance ids the balancer counts healthy, sorted. */
  healthyInstances(): Promise<string[]>;
  destroy(): void;
}

export async function createBalancer(kind: AwsRouterKind, fixture: AwsAsgFixture): Promise<Balancer> {
  const client = {
    region: AWS_TEST_REGION,
    endpoint: fixture.moto.endpoint,
    maxAttempts: 1,
    credentials: MOTO_CREDENTIALS,
  };
  const name = `${fixture.app}-lb`;
  if (kind === 'aws-elb') {
    const elb = new ElasticLoadBalancingClient(client);
    await elb.send(
      new CreateClassicLoadBalancer({
        LoadBalancerName: name,
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8000 }],
        AvailabilityZones: [`${AWS_TEST_REGION}a`],
      }),
    );
    return {
      name,
      async healthyInstances() {
        const answer = await elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: name }));
        return (answer.InstanceStates ?? [])
          .filter((state) => state.State === 'InService')
          .map((state) => state.InstanceId!)
          .sort();
      },
      destroy: () => elb.destroy(),
    };
  }
  const vpc = (await fixture.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.find((found) => found.IsDefault);
  const elbv2 = new ElasticLoadBalancingV2Client(client);
  const created = await elbv2.send(
    new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8000, VpcId: vpc!.VpcId! }),
  );
  const arn = created.TargetGroups![0]!.TargetGroupArn!;
  return {
    name,
    arn,
    async healthyInstances() {
      const answer = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      return (answer.TargetHealthDescriptions ?? [])
        .filter((target) => target.TargetHealth?.State === 'healthy')
        .map((target) => target.Target!.Id!)
        .sort();
    },
    destroy: () => elbv2.destroy(),
  };
}

/** The cutover groups the balancer has attached, read from each group. */
export async function attachedGroups(fixture: AwsAsgFixture, balancer: Balancer): Promise<string[]> {
  const answer = await fixture.asg.send(new DescribeAutoScalingGroupsCommand({}));
  return (answer.AutoScalingGroups ?? [])
    .filter(
      (group) =>
        (group.LoadBalancerNames ?? []).includes(balancer.name) ||
        (group.TargetGroupARNs ?? []).some((arn) => arn.includes(`:targetgroup/${balancer.name}/`)),
    )
    .map((group) => group.AutoScalingGroupName!)
    .sort();
}

/** The InService instance ids of a group, sorted. */
export async function groupInstances(fixture: AwsAsgFixture, name: string): Promise<string[]> {
  const answer = await fixture.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return (answer.AutoScalingGroups?.[0]?.Instances ?? [])
    .filter((instance) => instance.LifecycleState === 'InService')
    .map((instance) => instance.InstanceId!)
    .sort();
}
