/**
 * Recipe 2 (a replica group on the same load balancer) end to end against moto, in one-shot
 * mode: `cutover deploy v1`, `cutover deploy v2`, `cutover rollback`, with platform aws-asg and
 * router aws-target-group, then aws-elb (Classic ELB). Each step is asserted on what AWS holds:
 * which group the balancer has attached, which instances it sees healthy, which groups and
 * launch templates exist (counted by tag: no duplicate), and the warm old group.
 * moto's instances run nothing, so the health check is the group's view of each instance
 * (test/support/apps/asg-instance-health.ts; the `aws` CLI call in docs/aws.md does the same).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
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
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { MOTO_CREDENTIALS } from '../support/daemons/moto.js';
import { AWS_TEST_REGION, makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { CutoverHarness, type CliResult } from './harness.js';

const HEALTH_SCRIPT = fileURLToPath(new URL('../support/apps/asg-instance-health.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

type RouterKind = 'aws-target-group' | 'aws-elb';

interface DeploymentOutput {
  ok: boolean;
  deployment: { id: string; phase: string; fromSlot: string | null; toSlot: string; release: string };
}

for (const kind of ['aws-target-group', 'aws-elb'] as const) {
  void describe(`recipe 2 (replica group) through cutover deploy, router ${kind}, against moto`, () => {
    let fixture: AwsAsgFixture;
    let harness: CutoverHarness;
    let balancer: Balancer;

    before(async () => {
      fixture = await makeAwsAsgFixture(['v1', 'v2']);
      balancer = await createBalancer(kind, fixture);
      harness = await CutoverHarness.create({ releases: {} });
      writeFileSync(harness.configFile, configYaml(fixture, kind, balancer.name));
    });
    after(async () => {
      try {
        await harness?.teardown();
      } finally {
        balancer?.destroy();
        await fixture?.cleanup();
      }
    });

    const deploy = async (args: string[]): Promise<DeploymentOutput & { result: CliResult }> => {
      const result = await harness.cli([...args, '--json']);
      try {
        return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
      } catch {
        assert.fail(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
      }
    };
    const blue = () => groupName(fixture.app, 'blue', 'v1');
    const green = () => groupName(fixture.app, 'green', 'v2');

    void it('deploy v1, deploy v2, rollback: the balancer serves one group at a time, the old one stays warm', async () => {
      const first = await deploy(['deploy', 'v1']);
      assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
      assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, blue()));

      const second = await deploy(['deploy', 'v2']);
      assert.equal(second.result.code, 0, second.result.stderr + second.result.stdout);
      assert.equal(second.deployment.phase, 'standby');
      assert.equal(second.deployment.toSlot, 'green');
      assert.deepEqual(await attachedGroups(fixture, balancer), [green()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, green()));
      // The old group stays warm for an instant rollback: same capacity, instances up.
      assert.equal((await groupInstances(fixture, blue())).length, 2);
      assert.equal(await fixture.countGroups(), 2);
      assert.equal(await fixture.countTemplates(), 2);

      const rolledBack = await deploy(['rollback']);
      assert.equal(rolledBack.result.code, 0, rolledBack.result.stderr + rolledBack.result.stdout);
      assert.equal(rolledBack.deployment.phase, 'rolled-back');
      assert.deepEqual(await attachedGroups(fixture, balancer), [blue()]);
      assert.deepEqual(await balancer.healthyInstances(), await groupInstances(fixture, blue()));
      // The rolled-back group is stopped (no instances), not duplicated.
      assert.deepEqual(await groupInstances(fixture, green()), []);
      assert.equal(await fixture.countRunning(), 2);
      assert.equal(await fixture.countGroups(), 2);
      assert.equal(await fixture.countTemplates(), 2);
    });
  });
}

function configYaml(fixture: AwsAsgFixture, kind: RouterKind, balancer: string): string {
  const connection = { region: AWS_TEST_REGION, endpoint: fixture.moto.endpoint, maxAttempts: 1 };
  const platform = {
    kind: 'aws-asg',
    ...connection,
    image: { name: `${fixture.app}-\${RELEASE}` },
    availabilityZones: [`${AWS_TEST_REGION}a`],
    instances: 2,
    port: 8000,
    pollInterval: '50ms',
    readyTimeout: '20s',
    stopGrace: '1s',
  };
  const router =
    kind === 'aws-elb'
      ? { kind, loadBalancer: balancer, ...connection, settleTimeout: '20s' }
      : { kind, targetGroup: balancer, ...connection, settleTimeout: '20s' };
  const probe = [process.execPath, '--import', TSX, HEALTH_SCRIPT, fixture.moto.endpoint, AWS_TEST_REGION];
  return [
    `app: ${fixture.app}`,
    `platform: ${JSON.stringify(platform)}`,
    `router: ${JSON.stringify(router)}`,
    'health:',
    `  exec: { command: ${JSON.stringify(probe)} }`,
    '  interval: 100ms',
    '  timeout: 20s',
    '  healthyThreshold: 1',
    '  unhealthyThreshold: 1',
    '  deadline: 60s',
    'drain: { timeout: 1s }',
    'rollbackWindow: 10m',
    '',
  ].join('\n');
}

interface Balancer {
  readonly name: string;
  /** Instance ids the balancer counts healthy, sorted. */
  healthyInstances(): Promise<string[]>;
  destroy(): void;
}

async function createBalancer(kind: RouterKind, fixture: AwsAsgFixture): Promise<Balancer> {
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
async function attachedGroups(fixture: AwsAsgFixture, balancer: Balancer): Promise<string[]> {
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
async function groupInstances(fixture: AwsAsgFixture, name: string): Promise<string[]> {
  const answer = await fixture.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return (answer.AutoScalingGroups?.[0]?.Instances ?? [])
    .filter((instance) => instance.LifecycleState === 'InService')
    .map((instance) => instance.InstanceId!)
    .sort();
}
