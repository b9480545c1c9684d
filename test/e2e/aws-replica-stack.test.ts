/**
 * Recipe 3 (a replica stack per slot, users moved by a Route 53 alias) end to end against moto,
 * in one-shot mode: `cutover deploy v1`, `cutover deploy v2`, `cutover rollback`, with platform
 * aws-asg in mode replica-stack (an ALB copied per slot) and router route53. Asserted on what
 * AWS holds: green's balancer and target group compared with blue's and the source's, the
 * scaling policies and alarms copied with green's dimensions, the record (the router waits for
 * INSYNC, which moto answers at once), and — watched while the deploy and the rollback run —
 * blue parked at min 0 / desired 0 only once the record's TTL + dnsMargin have passed after the
 * move (a cold standby, kept), blue's capacity restored and serving before the record names it
 * again, green kept at capacity until the TTL + dnsMargin have passed after the move back.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DescribeAutoScalingGroupsCommand, DescribePoliciesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { albStackShape, createReplicaSource, type ReplicaSource } from '../platforms/aws-replica-source.js';
import { CutoverHarness, type CliResult } from './harness.js';
import type { DeploymentOutput } from './aws-scenario.js';
import { createStackZone, replicaStackConfig, type StackZone } from './aws-stack-scenario.js';

const TTL_S = 1;
const MARGIN_S = 2;
const HOLD_MS = (TTL_S + MARGIN_S) * 1000;

void describe('recipe 3 (replica stack) through cutover deploy and rollback, router route53, against moto', () => {
  let fixture: AwsAsgFixture;
  let source: ReplicaSource;
  let harness: CutoverHarness;
  let zone: StackZone;

  beforeEach(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
    zone = await createStackZone(fixture);
    harness = await CutoverHarness.create({ releases: {} });
    const router = { ttl: `${TTL_S}s`, dnsMargin: `${MARGIN_S}s`, settleTimeout: '20s' };
    writeFileSync(harness.configFile, replicaStackConfig(fixture, source, zone.zoneId, router, '10s'));
  });
  afterEach(async () => {
    try {
      await harness?.teardown();
    } finally {
      zone?.route53.destroy();
      source?.clients.destroy();
      await fixture?.cleanup();
    }
  });

  const cli = async (
    args: string[],
    env: Record<string, string> = {},
  ): Promise<DeploymentOutput & { result: CliResult }> => {
    const result = await harness.cli([...args, '--json'], env);
    if (result.code === -1) return { result } as DeploymentOutput & { result: CliResult };
    try {
      return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
    } catch {
      assert.fail(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
    }
  };

  const recordTarget = (): Promise<string | undefined> => zone.recordTarget();

  async function balancerOf(slot: 'blue' | 'green', release: string) {
    return (
      await source.clients.elbv2.send(
        new DescribeLoadBalancersCommand({ Names: [replicaName(fixture.app, slot, release)] }),
      )
    ).LoadBalancers![0]!;
  }

  interface Observation {
    readonly at: number;
    readonly record: string | undefined;
    readonly blue: number;
    readonly blueDesired: number;
    readonly green: number;
  }

  /** What the record names and each group's capacity, observation by observation, while `run` runs. */
  async function watched<T>(blueGroup: string, greenGroup: string, run: () => Promise<T>) {
    const observations: Observation[] = [];
    let done = false;
    const watching = (async () => {
      while (!done) {
        const [record, blue, green] = await Promise.all([
          recordTarget(),
          capacity(blueGroup),
          capacity(greenGroup),
        ]);
        observations.push({
          at: Date.now(),
          record,
          blue: blue.inService,
          blueDesired: blue.desired,
          green: green.desired,
        });
        await sleep(50);
      }
    })();
    try {
      return { result: await run(), observations };
    } finally {
      done = true;
      await watching;
    }
  }

  async function groupSizes(name: string): Promise<[number, number, number]> {
    const group = (
      await fixture.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
    ).AutoScalingGroups![0]!;
    return [group.MinSize!, group.MaxSize!, group.DesiredCapacity!];
  }

  async function capacity(name: string): Promise<{ desired: number; inService: number }> {
    const group = (
      await fixture.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
    ).AutoScalingGroups?.[0];
    return {
      desired: group?.DesiredCapacity ?? -1,
      inService: (group?.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    };
  }

  void it('deploy v1, deploy v2, rollback: each slot its own replica, the record moved, blue serving whenever named', async () => {
    const first = await cli(['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    const blueLb = await balancerOf('blue', 'v1');
    assert.equal(await recordTarget(), blueLb.DNSName!.toLowerCase());

    const blueGroup = groupName(fixture.app, 'blue', 'v1');
    const greenGroup = groupName(fixture.app, 'green', 'v2');
    const blueSizes = await groupSizes(blueGroup);
    assert.deepEqual(blueSizes, [2, 2, 2]);
    const deploying = await watched(blueGroup, greenGroup, () => cli(['deploy', 'v2']));
    const second = deploying.result;
    assert.equal(second.result.code, 0, second.result.stderr + second.result.stdout);
    assert.equal(second.deployment.phase, 'standby');
    assert.equal(second.deployment.toSlot, 'green');
    const greenLb = await balancerOf('green', 'v2');
    assert.equal(await recordTarget(), greenLb.DNSName!.toLowerCase());

    // Blue parked (cold standby): 0/0, kept with its max, only once TTL + margin had passed.
    const movedToGreen = deploying.observations.find((o) => o.record === greenLb.DNSName!.toLowerCase())?.at;
    assert.ok(movedToGreen !== undefined, 'the record was seen naming green');
    const parkedAt = deploying.observations.find((o) => o.blueDesired === 0)?.at;
    assert.ok(parkedAt !== undefined, 'blue was seen parked');
    assert.ok(
      parkedAt - movedToGreen >= HOLD_MS * 0.8,
      `blue was parked ${parkedAt - movedToGreen} ms after the record moved; the hold is ${HOLD_MS} ms`,
    );
    for (const seen of deploying.observations.filter((o) => o.at < movedToGreen))
      assert.equal(seen.blueDesired, 2, `blue at capacity until the move: ${JSON.stringify(seen)}`);
    assert.deepEqual(await groupSizes(blueGroup), [0, 2, 0], 'blue parked: min 0, max kept, desired 0');
    assert.ok(await balancerOf('blue', 'v1'), 'blue keeps its load balancer while parked');

    // Green's stack is a replica of blue's, and both of the source's.
    const sourceShape = await albStackShape(source.clients.elbv2, source.albArn);
    assert.deepEqual(await albStackShape(source.clients.elbv2, greenLb.LoadBalancerArn!), sourceShape);
    assert.deepEqual(await albStackShape(source.clients.elbv2, blueLb.LoadBalancerArn!), sourceShape);
    assert.notEqual(greenLb.LoadBalancerArn, blueLb.LoadBalancerArn);

    // Policies and alarms copied onto green's group, with green's dimensions.
    const policies = (
      await source.clients.asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: greenGroup }))
    ).ScalingPolicies!;
    assert.deepEqual(policies.map((p) => p.PolicyName).sort(), [
      `${greenGroup}/add-two`,
      `${greenGroup}/cpu-50`,
    ]);
    const alarms = new Map(
      (
        (
          await source.clients.cloudwatch.send(
            new DescribeAlarmsCommand({ AlarmNamePrefix: `${greenGroup}/` }),
          )
        ).MetricAlarms ?? []
      ).map((alarm) => [alarm.AlarmName!.slice(greenGroup.length + 1), alarm]),
    );
    assert.deepEqual([...alarms.keys()].sort(), ['web-alb-5xx', 'web-cpu-high', 'web-latency-high']);
    assert.deepEqual(alarms.get('web-cpu-high')!.Dimensions, [
      { Name: 'AutoScalingGroupName', Value: greenGroup },
    ]);
    const arn = greenLb.LoadBalancerArn!;
    assert.deepEqual(alarms.get('web-alb-5xx')!.Dimensions, [
      { Name: 'LoadBalancer', Value: arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length) },
    ]);
    const addTwo = policies.find((p) => p.PolicyName === `${greenGroup}/add-two`)!;
    assert.deepEqual(alarms.get('web-cpu-high')!.AlarmActions, [addTwo.PolicyARN]);

    // Rollback, watched: blue's capacity comes back before the record names blue again.
    const { result: rolledBack, observations } = await watched(blueGroup, greenGroup, () =>
      cli(['rollback']),
    );
    assert.equal(rolledBack.result.code, 0, rolledBack.result.stderr + rolledBack.result.stdout);
    assert.equal(rolledBack.deployment.phase, 'rolled-back');
    assert.equal(await recordTarget(), blueLb.DNSName!.toLowerCase());

    const onBlue = observations.filter((o) => o.record === blueLb.DNSName!.toLowerCase());
    assert.ok(onBlue.length > 0, 'the record was seen naming blue');
    for (const seen of onBlue)
      assert.equal(seen.blue, 2, `blue serving whenever the record names it: ${JSON.stringify(seen)}`);
    assert.ok(
      observations.some((o) => o.record === greenLb.DNSName!.toLowerCase() && o.blue === 2),
      'blue was restored while the record still named green',
    );
    assert.deepEqual(await groupSizes(blueGroup), blueSizes, 'blue’s min/max/desired as before the park');
    // Green kept its capacity for the record's TTL + dnsMargin after the record moved back.
    const movedBy = onBlue[0]!.at;
    const lastGreenUp = Math.max(...observations.filter((o) => o.green > 0).map((o) => o.at));
    assert.ok(
      lastGreenUp - movedBy >= HOLD_MS * 0.8,
      `green was scaled in ${lastGreenUp - movedBy} ms after the record moved; the hold is ${HOLD_MS} ms`,
    );

    // Green is stopped and kept (0/0), nothing made twice.
    const green = (
      await fixture.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [greenGroup] }))
    ).AutoScalingGroups![0]!;
    assert.deepEqual([green.MinSize, green.DesiredCapacity], [0, 0]);
    assert.ok(await balancerOf('green', 'v2'), 'green keeps its load balancer');
    assert.deepEqual(await capacity(blueGroup), { desired: 2, inService: 2 });
    assert.equal(await fixture.countGroups(), 2);
    assert.equal(await fixture.countTemplates(), 2);
    assert.equal(await fixture.countRunning(), 2);
  });
  void it('KillNineMidProvision_LeavesTheRecordOnBlue_AndTheResumedRunMakesNothingTwice', async () => {
    const first = await cli(['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    const blueLb = await balancerOf('blue', 'v1');

    // Crash point 9: green's group, target group and load balancer exist with one of two listeners; not attached.
    const killed = await cli(['deploy', 'v2'], { CUTOVER_TEST_AWS_CRASH_AT: '9' });
    assert.equal(killed.result.code, -1, `killed by SIGKILL: ${killed.result.stdout}${killed.result.stderr}`);
    assert.equal(await recordTarget(), blueLb.DNSName!.toLowerCase(), 'the record stays on blue');
    assert.deepEqual(await capacity(groupName(fixture.app, 'blue', 'v1')), { desired: 2, inService: 2 });

    // `retire` does nothing of its own before the window ends: it shows the resumed run alone.
    const resumed = await harness.cli(['retire', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const waiting = (JSON.parse(resumed.stdout) as { waiting: DeploymentOutput['deployment'][] }).waiting;
    assert.deepEqual(
      waiting.map((deployment) => [deployment.release, deployment.toSlot, deployment.phase]),
      [['v2', 'green', 'standby']],
    );
    const greenLb = await balancerOf('green', 'v2');
    assert.equal(await recordTarget(), greenLb.DNSName!.toLowerCase());
    assert.deepEqual(
      await albStackShape(source.clients.elbv2, greenLb.LoadBalancerArn!),
      await albStackShape(source.clients.elbv2, source.albArn),
      'the resumed run completed the copy',
    );
    // One of each per slot, beside the source's: counted in moto.
    const balancers =
      (await source.clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    assert.equal(balancers.length, 3, balancers.map((lb) => lb.LoadBalancerName).join(', '));
    const targetGroups =
      (await source.clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    assert.equal(targetGroups.length, 3, targetGroups.map((tg) => tg.TargetGroupName).join(', '));
    const greenGroup = groupName(fixture.app, 'green', 'v2');
    const copies = await source.clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: `${greenGroup}/` }),
    );
    assert.equal(copies.MetricAlarms?.length, 3);
    assert.equal(await fixture.countGroups(), 2);
    assert.equal(await fixture.countTemplates(), 2);
    assert.equal(await fixture.countRunning(), 2, 'green serving, blue parked by the resumed run');
    assert.deepEqual(await groupSizes(groupName(fixture.app, 'blue', 'v1')), [0, 2, 0]);
  });
});
