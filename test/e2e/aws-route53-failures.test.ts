/**
 * Recipe 3 (replica stack + route53 alias) failing in the middle of the switch, one-shot, against
 * moto: a change batch answered with an API error (by the Route 53 stand-in), and `kill -9` of
 * the CLI between the submitted change and its INSYNC (crash point route53.after-submit). Each
 * leaves the record on a stack that serves (every instance InService, counted by its load
 * balancer), and the rerun that follows makes nothing twice: groups, templates, load
 * balancers, target groups and copied alarms counted by tag and name.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { startRoute53StandIn, type Route53StandIn } from '../support/route53-stand-in.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from '../platforms/aws-asg-fixture.js';
import { createReplicaSource, type ReplicaSource } from '../platforms/aws-replica-source.js';
import { CutoverHarness, type CliResult } from './harness.js';
import type { DeploymentOutput } from './aws-scenario.js';
import { createStackZone, replicaStackConfig, type StackZone } from './aws-stack-scenario.js';

void describe('recipe 3 failing mid-switch (route53 alias), against moto', () => {
  let fixture: AwsAsgFixture;
  let source: ReplicaSource;
  let harness: CutoverHarness;
  let zone: StackZone;
  const standIns: Route53StandIn[] = [];

  function writeConfig(routerEndpoint: string): void {
    const router = { ttl: '1s', dnsMargin: '1s', settleTimeout: '2s', endpoint: routerEndpoint };
    writeFileSync(harness.configFile, replicaStackConfig(fixture, source, zone.zoneId, router, '2s'));
  }

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2', 'v3']);
    source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
    zone = await createStackZone(fixture);
    harness = await CutoverHarness.create({ releases: {} });
    writeConfig(fixture.moto.endpoint);
    const first = await cli(['deploy', 'v1']);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      for (const standIn of standIns) await standIn.stop();
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
    try {
      return { ...(JSON.parse(result.stdout) as DeploymentOutput), result };
    } catch {
      return { result } as DeploymentOutput & { result: CliResult };
    }
  };

  const recordTarget = (): Promise<string | undefined> => zone.recordTarget();

  /** The slot whose stack the record names, asserted to serve: its group full and counted healthy. */
  async function recordOnServingStack(slot: 'blue' | 'green', release: string): Promise<void> {
    const name = replicaName(fixture.app, slot, release);
    const lb = (await source.clients.elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] })))
      .LoadBalancers![0]!;
    assert.equal(await recordTarget(), lb.DNSName!.toLowerCase(), `the record names ${slot}'s stack`);
    const group = (
      await fixture.asg.send(
        new DescribeAutoScalingGroupsCommand({
          AutoScalingGroupNames: [groupName(fixture.app, slot, release)],
        }),
      )
    ).AutoScalingGroups![0]!;
    const inService = (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService');
    assert.equal(inService.length, 2, `${slot} has its 2 instances InService`);
    const tg = (await source.clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] })))
      .TargetGroups![0]!;
    const health = await source.clients.elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }),
    );
    // Of the group's instances: moto leaves an instance a group scaled in registered (and
    // `healthy`) in the group's target group, where AWS deregisters it.
    const healthy = new Set(
      (health.TargetHealthDescriptions ?? [])
        .filter((t) => t.TargetHealth?.State === 'healthy')
        .map((t) => t.Target?.Id),
    );
    assert.equal(
      inService.filter((i) => healthy.has(i.InstanceId)).length,
      2,
      `${slot}'s load balancer counts both instances healthy`,
    );
  }

  /** A stack's group: its min and desired capacity, and whether its alarms may scale it. */
  async function capacity(
    slot: 'blue' | 'green',
    release: string,
  ): Promise<{ min: number; desired: number; alarmScaling: boolean }> {
    const group = (
      await fixture.asg.send(
        new DescribeAutoScalingGroupsCommand({
          AutoScalingGroupNames: [groupName(fixture.app, slot, release)],
        }),
      )
    ).AutoScalingGroups![0]!;
    return {
      min: group.MinSize!,
      desired: group.DesiredCapacity!,
      alarmScaling: !(group.SuspendedProcesses ?? []).some((p) => p.ProcessName === 'AlarmNotification'),
    };
  }

  /** One of everything per slot beside the source's stack. */
  async function nothingTwice(
    stacks: readonly (readonly ['blue' | 'green', string])[] = [
      ['blue', 'v1'],
      ['green', 'v2'],
    ],
  ): Promise<void> {
    const balancers =
      (await source.clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    assert.equal(balancers.length, 3, balancers.map((lb) => lb.LoadBalancerName).join(', '));
    const targetGroups =
      (await source.clients.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    assert.equal(targetGroups.length, 3, targetGroups.map((tg) => tg.TargetGroupName).join(', '));
    assert.equal(await fixture.countGroups(), 2);
    assert.equal(await fixture.countTemplates(), 2);
    for (const [slot, release] of stacks) {
      const prefix = `${groupName(fixture.app, slot, release)}/`;
      const copies = await source.clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: prefix }),
      );
      assert.equal(copies.MetricAlarms?.length, 3, `${slot}'s copied alarms`);
    }
  }

  void it('ApiErrorOnTheChangeBatch_AbortsOntoBlue_AndTheRerunMakesNothingTwice', async () => {
    const standIn = await startRoute53StandIn(fixture.moto.endpoint, { pendingPolls: 0, failedChanges: 1 });
    standIns.push(standIn);
    writeConfig(standIn.endpoint);
    const failed = await cli(['deploy', 'v2']);
    assert.notEqual(failed.result.code, 0, failed.result.stdout);
    assert.equal(failed.deployment?.phase, 'aborted', failed.result.stdout + failed.result.stderr);
    assert.match(
      failed.result.stdout + failed.result.stderr,
      /InternalError|stand-in failure|ChangeResourceRecordSets/,
    );
    await recordOnServingStack('blue', 'v1');
    await nothingTwice();
  });

  void it('KillNineBetweenTheChangeAndItsInSync_LeavesTheRecordOnAServingStack_AndTheResumedRunMakesNothingTwice', async () => {
    writeConfig(fixture.moto.endpoint);
    const killed = await cli(['deploy', 'v2'], { CUTOVER_TEST_CRASH_AT_POINT: 'route53.after-submit' });
    assert.equal(killed.result.code, -1, `killed by SIGKILL: ${killed.result.stdout}${killed.result.stderr}`);
    // The change was submitted: the record names green, which passed its checks before the move.
    await recordOnServingStack('green', 'v2');
    const resumed = await harness.cli(['retire', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    const waiting = (JSON.parse(resumed.stdout) as { waiting: DeploymentOutput['deployment'][] }).waiting;
    assert.deepEqual(
      waiting.map((deployment) => [deployment.release, deployment.toSlot, deployment.phase]),
      [['v2', 'green', 'standby']],
    );
    await recordOnServingStack('green', 'v2');
    await nothingTwice();
  });

  void it('ChangeNeverInSync_FailsNamingTheChangeAndItsDeadline_RecordOnAServingStack_TheLiveStackNotParked_AndTheRerunMakesNothingTwice', async () => {
    // Every change stays PENDING, as when Route 53 stops propagating: the move to blue (v3) and
    // the abort's move back to green both fail at settleTimeout.
    const standIn = await startRoute53StandIn(fixture.moto.endpoint, {
      pendingPolls: Number.POSITIVE_INFINITY,
    });
    standIns.push(standIn);
    writeConfig(standIn.endpoint);
    const failed = await harness.cli(['deploy', 'v3', '--json'], {}, { killAfterMs: 45_000 });
    assert.equal(failed.killedAfterMs, undefined, `the CLI returned: ${failed.stdout}${failed.stderr}`);
    assert.equal(failed.code, 4, failed.stdout + failed.stderr);
    const [toBlue, backToGreen] = standIn.changes;
    assert.ok(toBlue !== undefined && backToGreen !== undefined, standIn.changes.join(', '));
    const { error } = JSON.parse(failed.stdout) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    assert.equal(error.code, 'CUTOVER_E_ROUTER');
    assert.match(
      error.message,
      new RegExp(
        `is still aborting \\(it failed: Route 53 change ${toBlue} .*still PENDING after settleTimeout \\(2s\\)`,
      ),
    );
    assert.match(
      error.message,
      new RegExp(
        `moving traffic back to green failed: Route 53 change ${backToGreen} .*still PENDING after settleTimeout \\(2s\\)`,
      ),
    );
    assert.equal(error.details.change, backToGreen);
    assert.equal(error.details.settleTimeoutMs, 2000);
    assert.equal(error.details.phase, 'aborting');
    // The record as read back names green's stack, which serves; green was never drained, so
    // it is not parked; blue's new stack still serves the resolvers that got its answer.
    await recordOnServingStack('green', 'v2');
    assert.deepEqual(await capacity('green', 'v2'), { min: 2, desired: 2, alarmScaling: true });
    assert.deepEqual(await capacity('blue', 'v3'), { min: 2, desired: 2, alarmScaling: true });

    // Route 53 syncs again: the rerun finishes the abort, then deploys v3 with what exists.
    writeConfig(fixture.moto.endpoint);
    const rerun = await harness.cli(['deploy', 'v3', '--json'], {}, { killAfterMs: 45_000 });
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.equal((JSON.parse(rerun.stdout) as DeploymentOutput).deployment.phase, 'standby');
    await recordOnServingStack('blue', 'v3');
    await nothingTwice([
      ['blue', 'v3'],
      ['green', 'v2'],
    ]);
  });
});
