// Mode replica-stack of the aws-asg platform against a real moto server: each slot's load
// balancer compared field by field with the stack it replicates, the scaling policies and alarms
// copied with the slot's dimensions, stop keeping the stack at 0/0, teardown deleting only what
// cutover made, and kill -9 at every crash point converging with nothing duplicated (counted by
// tag in moto, outside the platform).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { DescribeAutoScalingGroupsCommand, DescribePoliciesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  PutMetricAlarmCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateLoadBalancerCommand as CreateClassic,
  DescribeLoadBalancerAttributesCommand as DescribeClassicAttributes,
  DescribeLoadBalancersCommand as DescribeClassic,
  DescribeTagsCommand as DescribeClassicTags,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  type Listener,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CUTOVER_TAG, tagValue } from '../../src/aws/cutover-tags.js';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { replicaName } from '../../src/platforms/aws-asg/replica-naming.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { makeAwsAsgFixture, type AwsAsgFixture } from './aws-asg-fixture.js';
import { createReplicaSource, type ReplicaSource } from './aws-replica-source.js';

void describe('aws-asg mode replica-stack against moto', { timeout: 600_000 }, () => {
  let fixture: AwsAsgFixture;
  let source: ReplicaSource;
  const classic = () => ({
    mode: 'replica-stack',
    replicate: { group: source.group, loadBalancer: { classic: source.classic } },
  });
  const application = () => ({
    mode: 'replica-stack',
    replicate: { group: source.group, loadBalancer: { application: source.albArn } },
  });

  before(async () => {
    fixture = await makeAwsAsgFixture(['v1', 'v2']);
    source = await createReplicaSource(fixture.moto.endpoint, fixture.ec2, fixture.images.v1!);
  });
  after(async () => {
    source?.clients.destroy();
    await fixture?.cleanup();
  });
  afterEach(async () => {
    await fixture.platform(classic()).reconcile(new Set());
    await fixture.platform(application()).reconcile(new Set());
  });

  void it('ClassicReplica_ListenersHealthCheckSubnetsSecurityGroupsAttributes_EqualTheSource', async () => {
    await fixture.platform(classic()).provision('green', 'v2', { deploymentId: 'd-7' });
    const name = replicaName(fixture.app, 'green', 'v2');
    const [original, replica] = await Promise.all([describeClassic(source.classic), describeClassic(name)]);
    assert.deepEqual(classicShape(replica), classicShape(original));
    assert.deepEqual(await classicAttributes(name), await classicAttributes(source.classic));
    const { ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing } = await classicAttributes(name);
    assert.deepEqual(
      [ConnectionDraining, ConnectionSettings, CrossZoneLoadBalancing],
      [{ Enabled: true, Timeout: 42 }, { IdleTimeout: 77 }, { Enabled: true }],
    );
    const tags = (await source.clients.elb.send(new DescribeClassicTags({ LoadBalancerNames: [name] })))
      .TagDescriptions?.[0]?.Tags;
    assert.deepEqual(tagsOf(tags), { app: fixture.app, slot: 'green', release: 'v2', deployment: 'd-7' });
    const group = await describeGroup(groupName(fixture.app, 'green', 'v2'));
    assert.deepEqual(group.LoadBalancerNames, [name], 'the slot group is attached to its own copy');
  });

  void it('ApplicationReplica_ListenersTargetGroupHealthCheckAndAttributes_EqualTheSource', async () => {
    await fixture.platform(application()).provision('green', 'v2', { deploymentId: 'd-8' });
    const name = replicaName(fixture.app, 'green', 'v2');
    const elbv2 = source.clients.elbv2;
    const [original, replica] = await Promise.all([
      describeAlb({ LoadBalancerArns: [source.albArn] }),
      describeAlb({ Names: [name] }),
    ]);
    assert.deepEqual(albShape(replica), albShape(original));
    const replicaGroup = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] })))
      .TargetGroups![0]!;
    const sourceGroup = (
      await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [source.targetGroupArn] }))
    ).TargetGroups![0]!;
    assert.deepEqual(targetGroupShape(replicaGroup), targetGroupShape(sourceGroup));
    assert.deepEqual(
      await targetGroupAttributes(replicaGroup.TargetGroupArn!),
      await targetGroupAttributes(source.targetGroupArn),
    );
    assert.equal(
      (await targetGroupAttributes(replicaGroup.TargetGroupArn!))['deregistration_delay.timeout_seconds'],
      '33',
    );
    assert.deepEqual(await albAttributes(replica.LoadBalancerArn!), await albAttributes(source.albArn));

    const listeners = async (arn: string, targetGroup: string) =>
      ((await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? [])
        .map((listener) => listenerShape(listener, targetGroup))
        .sort((a, b) => a.port - b.port);
    const copied = await listeners(replica.LoadBalancerArn!, replicaGroup.TargetGroupArn!);
    assert.deepEqual(copied, await listeners(source.albArn, source.targetGroupArn));
    assert.equal(copied.length, 2);

    const tags = (
      await elbv2.send(
        new DescribeTagsCommand({ ResourceArns: [replica.LoadBalancerArn!, replicaGroup.TargetGroupArn!] }),
      )
    ).TagDescriptions!;
    for (const described of tags) {
      assert.deepEqual(tagsOf(described.Tags), {
        app: fixture.app,
        slot: 'green',
        release: 'v2',
        deployment: 'd-8',
      });
    }
    const group = await describeGroup(groupName(fixture.app, 'green', 'v2'));
    assert.deepEqual(group.TargetGroupARNs, [replicaGroup.TargetGroupArn]);
  });

  void it('PoliciesAndAlarms_AreCopiedToTheSlotsGroup_WithItsOwnDimensionsAndPolicy', async () => {
    for (const [mode, settings] of [
      ['classic', classic()],
      ['application', application()],
    ] as const) {
      await fixture.platform(settings).provision('green', 'v2', { deploymentId: 'd-9' });
      const group = groupName(fixture.app, 'green', 'v2');
      const policies = (
        await source.clients.asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: group }))
      ).ScalingPolicies!;
      assert.deepEqual(
        policies.map((p) => [p.PolicyName, p.PolicyType]).sort(),
        [
          [`${group}/add-two`, 'SimpleScaling'],
          [`${group}/cpu-50`, 'TargetTrackingScaling'],
        ],
        mode,
      );
      const simple = policies.find((p) => p.PolicyName === `${group}/add-two`)!;
      assert.deepEqual(
        [simple.AdjustmentType, simple.ScalingAdjustment, simple.Cooldown],
        ['ChangeInCapacity', 2, 120],
      );
      const tracking = policies.find((p) => p.PolicyName === `${group}/cpu-50`)!;
      assert.equal(tracking.TargetTrackingConfiguration?.TargetValue, 50);

      const copies = await alarmsNamed(`${group}/`);
      const byOriginal = new Map(copies.map((alarm) => [alarm.AlarmName!.slice(group.length + 1), alarm]));
      assert.deepEqual(
        [...byOriginal.keys()].sort(),
        ['web-alb-5xx', 'web-cpu-high', 'web-latency-high'],
        mode,
      );
      const originals = new Map((await alarmsNamed('web-')).map((alarm) => [alarm.AlarmName!, alarm]));
      for (const [original, copy] of byOriginal) {
        const from = originals.get(original)!;
        assert.deepEqual(
          copy.AlarmActions,
          [simple.PolicyARN],
          `${mode} ${original} triggers the slot's own policy`,
        );
        for (const key of [
          'Namespace',
          'MetricName',
          'Statistic',
          'Period',
          'EvaluationPeriods',
          'Threshold',
          'ComparisonOperator',
        ] as const) {
          assert.deepEqual(copy[key], from[key], `${mode} ${original} ${key}`);
        }
        const tags = (
          await source.clients.cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: copy.AlarmArn }))
        ).Tags;
        assert.deepEqual(tagsOf(tags), { app: fixture.app, slot: 'green', release: 'v2', deployment: 'd-9' });
      }
      const replica = replicaName(fixture.app, 'green', 'v2');
      assert.deepEqual(byOriginal.get('web-cpu-high')!.Dimensions, [
        { Name: 'AutoScalingGroupName', Value: group },
      ]);
      if (mode === 'classic') {
        assert.deepEqual(byOriginal.get('web-latency-high')!.Dimensions, [
          { Name: 'LoadBalancerName', Value: replica },
        ]);
      } else {
        const arn = (await describeAlb({ Names: [replica] })).LoadBalancerArn!;
        assert.deepEqual(byOriginal.get('web-alb-5xx')!.Dimensions, [
          { Name: 'LoadBalancer', Value: arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length) },
        ]);
      }
      assert.equal((await alarmsNamed('unrelated')).length, 1, 'an alarm of no copied policy stays uncopied');
      await fixture.platform(settings).reconcile(new Set());
    }
  });

  void it('ACopiedAlarm_KeepsItsNotifications_ButNeverTriggersAnotherGroupsPolicy', async () => {
    const cloudwatch = source.clients.cloudwatch;
    const topic = 'arn:aws:sns:us-east-1:123456789012:web-pager';
    const otherGroupsPolicy = source.simplePolicyArn.replace(
      'autoScalingGroupName/web:',
      'autoScalingGroupName/api:',
    );
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'web-mixed-actions',
        Namespace: 'AWS/EC2',
        MetricName: 'NetworkIn',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: source.group }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1e9,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [source.simplePolicyArn, otherGroupsPolicy, topic],
        OKActions: [topic],
      }),
    );
    try {
      await fixture.platform(classic()).provision('green', 'v2');
      const group = groupName(fixture.app, 'green', 'v2');
      const [copy] = await alarmsNamed(`${group}/web-mixed-actions`);
      const copiedPolicy = (
        await source.clients.asg.send(
          new DescribePoliciesCommand({ AutoScalingGroupName: group, PolicyNames: [`${group}/add-two`] }),
        )
      ).ScalingPolicies![0]!.PolicyARN;
      assert.deepEqual(copy?.AlarmActions, [copiedPolicy, topic]);
      assert.deepEqual(copy?.OKActions, [topic]);
    } finally {
      await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['web-mixed-actions'] }));
    }
  });

  void it('Endpoint_IsTheSlotsOwnLoadBalancer_FromProvisionAndFromRunning', async () => {
    for (const [type, settings] of [
      ['classic', classic()],
      ['application', application()],
    ] as const) {
      const platform = fixture.platform(settings);
      assert.equal(platform.describe().endpointKind, 'aws-load-balancer');
      const instances = await platform.provision('blue', 'v1');
      const endpoint = platform.endpoint!('blue', instances);
      const name = replicaName(fixture.app, 'blue', 'v1');
      const expected =
        type === 'classic'
          ? await describeClassic(name).then((lb) => ({
              id: name,
              dnsName: lb.DNSName!,
              // moto leaves the Classic ELB's zone id out (AWS always answers it)
              canonicalHostedZoneId: lb.CanonicalHostedZoneNameID ?? '',
            }))
          : await describeAlb({ Names: [name] }).then((lb) => ({
              id: lb.LoadBalancerArn!,
              dnsName: lb.DNSName!,
              canonicalHostedZoneId: lb.CanonicalHostedZoneId!,
            }));
      assert.ok(expected.dnsName.length > 0, type);
      assert.deepEqual(endpoint, {
        kind: 'aws-load-balancer',
        id: expected.id,
        details: {
          region: 'us-east-1',
          dnsName: expected.dnsName,
          canonicalHostedZoneId: expected.canonicalHostedZoneId,
          type,
        },
      });
      // A fresh process (rollback after a restart) finds the same endpoint from AWS alone.
      const fresh = fixture.platform(settings);
      assert.deepEqual(fresh.endpoint!('blue', await fresh.running('blue')), endpoint);
      assert.equal(fresh.endpoint!('blue', []), undefined);
      // The source may be gone by the time of a rollback: the slot's own balancer is found without it.
      const sourceGone = fixture.platform({
        mode: 'replica-stack',
        replicate: {
          loadBalancer: type === 'classic' ? { classic: 'gone-elb' } : { application: 'gone-alb' },
        },
      });
      assert.deepEqual(sourceGone.endpoint!('blue', await sourceGone.running('blue')), endpoint);
      await platform.reconcile(new Set());
    }
    const withoutBalancer = fixture.platform({ mode: 'replica-stack', replicate: { group: source.group } });
    assert.equal(withoutBalancer.describe().endpointKind, 'aws-asg');
  });

  void it('WithoutALoadBalancer_TheSlotIsItsGroup_WithThePoliciesAndAlarmsCopied', async () => {
    const platform = fixture.platform({ mode: 'replica-stack', replicate: { group: source.group } });
    const instances = await platform.provision('green', 'v2');
    const group = groupName(fixture.app, 'green', 'v2');
    assert.deepEqual(platform.endpoint!('green', instances), {
      kind: 'aws-asg',
      id: group,
      details: { region: 'us-east-1' },
    });
    assert.deepEqual(await stackCounts(), { ...EMPTY, groups: 1, templates: 1, alarms: 3, policies: 2 });
    const copies = new Map((await alarmsNamed(`${group}/`)).map((alarm) => [alarm.AlarmName, alarm]));
    // No copy of the balancer: its alarm keeps naming the source's (the one the group does not sit behind).
    assert.deepEqual(copies.get(`${group}/web-latency-high`)?.Dimensions, [
      { Name: 'LoadBalancerName', Value: source.classic },
    ]);
    assert.deepEqual(copies.get(`${group}/web-cpu-high`)?.Dimensions, [
      { Name: 'AutoScalingGroupName', Value: group },
    ]);
  });

  void it('Stop_ScalesTheGroupToZero_KeepingGroupBalancerPoliciesAndAlarms_AndProvisionRestoresIt', async () => {
    const platform = fixture.platform(classic());
    await platform.provision('blue', 'v1');
    const group = groupName(fixture.app, 'blue', 'v1');
    const before = await stackCounts();
    await platform.stop('blue', { graceMs: 100 });
    const stopped = await describeGroup(group);
    assert.deepEqual([stopped.MinSize, stopped.DesiredCapacity], [0, 0]);
    assert.deepEqual(
      stopped.SuspendedProcesses?.map((p) => p.ProcessName),
      ['AlarmNotification'],
      'a copied policy cannot scale the stopped group back up',
    );
    assert.equal(await fixture.countRunning(), 0);
    assert.deepEqual(await stackCounts(), before, 'group, balancer, policies and alarms are kept');
    assert.equal(
      platform.endpoint!('blue', await platform.running('blue')),
      undefined,
      'no instance serves it',
    );

    const again = await platform.provision('blue', 'v1');
    assert.equal(again.length, 2, 'the kept stack is brought back to its capacity');
    assert.deepEqual(
      (await describeGroup(group)).SuspendedProcesses ?? [],
      [],
      'and scales on its alarms again',
    );
    assert.deepEqual(await stackCounts(), before, 'and nothing is made twice');
    assert.equal(platform.endpoint!('blue', again)?.id, replicaName(fixture.app, 'blue', 'v1'));
  });

  void it('DestroyAndANewRelease_DeleteOnlyWhatCutoverMadeForThatSlot', async () => {
    const platform = fixture.platform(application());
    await platform.provision('blue', 'v1');
    await platform.provision('green', 'v1');
    const both = await stackCounts();
    await platform.provision('green', 'v2');
    assert.deepEqual(
      await stackCounts(),
      both,
      'the slot’s stack of v1 is replaced by one of v2, not added to',
    );
    assert.equal(
      await describeAlb({ Names: [replicaName(fixture.app, 'green', 'v1')] }).catch(() => undefined),
      undefined,
    );
    await platform.destroy('green');
    const left = await stackCounts();
    assert.deepEqual(left, {
      groups: 1,
      templates: 1,
      classics: 0,
      albs: 1,
      targetGroups: 1,
      alarms: 3,
      policies: 2,
    });
    // The source stack is untouched.
    assert.ok(await describeAlb({ LoadBalancerArns: [source.albArn] }));
    assert.ok(await describeClassic(source.classic));
    assert.equal((await alarmsNamed('web-')).length, 3);
    assert.equal(
      (await source.clients.asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: source.group })))
        .ScalingPolicies?.length,
      2,
    );
    assert.equal((await platform.running('blue')).length, 2);
  });

  void it('ANameClashWithABalancerCutoverDidNotMake_IsRefused_AndLeftAlone', async () => {
    const name = replicaName(fixture.app, 'green', 'v2');
    await source.clients.elb.send(
      new CreateClassic({
        LoadBalancerName: name,
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 81, InstanceProtocol: 'HTTP', InstancePort: 81 }],
        AvailabilityZones: ['us-east-1a'],
      }),
    );
    await assert.rejects(fixture.platform(classic()).provision('green', 'v2'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /not cutover's for app ctest; cutover leaves it alone/);
      return true;
    });
    await fixture.platform(classic()).reconcile(new Set());
    const still = await describeClassic(name);
    assert.equal(still.ListenerDescriptions?.[0]?.Listener?.LoadBalancerPort, 81, 'untouched, not deleted');
    await source.clients.elb.send(
      new (await import('@aws-sdk/client-elastic-load-balancing')).DeleteLoadBalancerCommand({
        LoadBalancerName: name,
      }),
    );
  });

  void it('ASourceWhoseListenersForwardToTwoTargetGroups_IsRefusedNamingThem', async () => {
    const elbv2 = source.clients.elbv2;
    const second = await elbv2.send(
      new CreateTargetGroupCommand({
        Name: 'web-tg-2',
        Protocol: 'HTTP',
        Port: 8001,
        VpcId: source.vpcId,
        TargetType: 'instance',
      }),
    );
    const other = second.TargetGroups![0]!.TargetGroupArn!;
    const listener = (
      (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: source.albArn }))).Listeners ?? []
    ).find((l) => l.Port === 8080)!;
    await elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: listener.ListenerArn,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: other }],
      }),
    );
    try {
      await assert.rejects(fixture.platform(application()).provision('green', 'v2'), (error: unknown) => {
        assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
        assert.match(error.message, /forward to 2 target groups/);
        return true;
      });
    } finally {
      await elbv2.send(
        new ModifyListenerCommand({
          ListenerArn: listener.ListenerArn,
          DefaultActions: listener.DefaultActions,
        }),
      );
    }
  });

  void it('AnApiErrorMidway_FailsWithAStableCode_AndARerunWithTheFixCreatesNoDuplicate', async () => {
    const broken = fixture.platform({
      mode: 'replica-stack',
      replicate: { group: source.group, loadBalancer: { classic: 'no-such-elb' } },
    });
    await assert.rejects(broken.provision('green', 'v2'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(error.message, /the Classic ELB no-such-elb to replicate does not exist/);
      return true;
    });
    assert.deepEqual(await stackCounts(), { ...EMPTY, groups: 1, templates: 1 }, 'the group came first');
    await fixture.platform(classic()).provision('green', 'v2');
    assert.deepEqual(await stackCounts(), {
      groups: 1,
      templates: 1,
      classics: 1,
      albs: 0,
      targetGroups: 0,
      alarms: 3,
      policies: 2,
    });
  });

  void it('AMisspeltSourceGroup_FailsTheProvision_InsteadOfCopyingNothing', async () => {
    const platform = fixture.platform({ mode: 'replica-stack', replicate: { group: 'wbe' } });
    await assert.rejects(platform.provision('green', 'v2'), (error: unknown) => {
      assert.ok(isCutoverError(error, 'CUTOVER_E_PROVISION'), String(error));
      assert.match(
        error.message,
        /the Auto Scaling group wbe whose scaling policies replicate\.group copies does not exist/,
      );
      return true;
    });
  });

  void it('KillNineBetweenAnyTwoAwsCalls_ARerunConverges_NoDuplicatesByTag', async () => {
    for (const settings of [classic(), application()]) {
      const done = await fixture.provisionInChild('green', 'v2', {
        deploymentId: 'd-1',
        overrides: settings,
      });
      const points = (JSON.parse(done!) as { crashPoints: number }).crashPoints;
      assert.ok(points >= 8, `provision passes ${points} crash points`);
      const complete = await stackCounts();
      await fixture.platform(settings).reconcile(new Set());
      for (let crashAt = 1; crashAt <= points; crashAt += 1) {
        const line = await fixture.provisionInChild('green', 'v2', {
          crashAt,
          deploymentId: 'd-2',
          overrides: settings,
        });
        assert.equal(line, undefined, `the child died at crash point ${crashAt}`);
        const rerun = await fixture.platform(settings).provision('green', 'v2', { deploymentId: 'd-2' });
        assert.equal(rerun.length, 2, `crash point ${crashAt}`);
        assert.deepEqual(await stackCounts(), complete, `one of each after crash point ${crashAt}`);
        await fixture.platform(settings).reconcile(new Set());
        assert.deepEqual(await stackCounts(), EMPTY, `all gone after crash point ${crashAt}`);
      }
    }
  });

  const EMPTY = { groups: 0, templates: 0, classics: 0, albs: 0, targetGroups: 0, alarms: 0, policies: 0 };

  /** What cutover holds for the app, each counted by its tag (policies: on cutover's groups). */
  async function stackCounts() {
    const { elb, elbv2, asg, cloudwatch } = source.clients;
    const ours = (tags: { Key?: string; Value?: string }[] | undefined) =>
      tagValue(tags, CUTOVER_TAG.app) === fixture.app;
    const classicNames = ((await elb.send(new DescribeClassic({}))).LoadBalancerDescriptions ?? []).map(
      (lb) => lb.LoadBalancerName!,
    );
    const classicTags =
      classicNames.length === 0
        ? []
        : ((await elb.send(new DescribeClassicTags({ LoadBalancerNames: classicNames }))).TagDescriptions ??
          []);
    const albArns = ((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).map(
      (lb) => lb.LoadBalancerArn!,
    );
    const tgArns = ((await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? []).map(
      (tg) => tg.TargetGroupArn!,
    );
    const v2Tags = async (arns: string[]) =>
      arns.length === 0
        ? []
        : ((await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns }))).TagDescriptions ?? []);
    let alarms = 0;
    for (const alarm of (await cloudwatch.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? []) {
      if (ours((await cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }))).Tags))
        alarms += 1;
    }
    let policies = 0;
    for (const group of (await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []) {
      if (!ours(group.Tags)) continue;
      policies +=
        (await asg.send(new DescribePoliciesCommand({ AutoScalingGroupName: group.AutoScalingGroupName })))
          .ScalingPolicies?.length ?? 0;
    }
    return {
      groups: await fixture.countGroups(),
      templates: await fixture.countTemplates(),
      classics: classicTags.filter((d) => ours(d.Tags)).length,
      albs: (await v2Tags(albArns)).filter((d) => ours(d.Tags)).length,
      targetGroups: (await v2Tags(tgArns)).filter((d) => ours(d.Tags)).length,
      alarms,
      policies,
    };
  }

  async function describeGroup(name: string) {
    return (
      await source.clients.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
    ).AutoScalingGroups![0]!;
  }

  async function describeClassic(name: string) {
    return (await source.clients.elb.send(new DescribeClassic({ LoadBalancerNames: [name] })))
      .LoadBalancerDescriptions![0]!;
  }

  async function classicAttributes(name: string) {
    const answer = await source.clients.elb.send(new DescribeClassicAttributes({ LoadBalancerName: name }));
    const { CrossZoneLoadBalancing, ConnectionDraining, ConnectionSettings } = answer.LoadBalancerAttributes!;
    return { CrossZoneLoadBalancing, ConnectionDraining, ConnectionSettings };
  }

  async function describeAlb(which: { Names: string[] } | { LoadBalancerArns: string[] }) {
    return (await source.clients.elbv2.send(new DescribeLoadBalancersCommand(which))).LoadBalancers![0]!;
  }

  async function albAttributes(arn: string) {
    const answer = await source.clients.elbv2.send(
      new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }),
    );
    return attributeMap(answer.Attributes);
  }

  async function targetGroupAttributes(arn: string) {
    const answer = await source.clients.elbv2.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }),
    );
    return attributeMap(answer.Attributes);
  }

  async function alarmsNamed(prefix: string): Promise<MetricAlarm[]> {
    return (
      (await source.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix })))
        .MetricAlarms ?? []
    );
  }
});

function classicShape(lb: object) {
  const described = lb as {
    ListenerDescriptions?: { Listener?: object }[];
    Subnets?: string[];
    SecurityGroups?: string[];
    AvailabilityZones?: string[];
    HealthCheck?: object;
    Scheme?: string;
  };
  return {
    listeners: (described.ListenerDescriptions ?? []).map((d) => d.Listener),
    subnets: [...(described.Subnets ?? [])].sort(),
    securityGroups: [...(described.SecurityGroups ?? [])].sort(),
    zones: [...(described.AvailabilityZones ?? [])].sort(),
    healthCheck: described.HealthCheck,
    scheme: described.Scheme,
  };
}

function albShape(lb: {
  AvailabilityZones?: { SubnetId?: string }[];
  SecurityGroups?: string[];
  Scheme?: string;
  Type?: string;
  IpAddressType?: string;
  VpcId?: string;
}) {
  return {
    subnets: (lb.AvailabilityZones ?? []).map((zone) => zone.SubnetId).sort(),
    securityGroups: [...(lb.SecurityGroups ?? [])].sort(),
    scheme: lb.Scheme,
    type: lb.Type,
    ipAddressType: lb.IpAddressType,
    vpc: lb.VpcId,
  };
}

function targetGroupShape(group: object) {
  const tg = group as Record<string, unknown>;
  const keys = [
    'Protocol',
    'Port',
    'VpcId',
    'TargetType',
    'HealthCheckEnabled',
    'HealthCheckProtocol',
    'HealthCheckPort',
    'HealthCheckPath',
    'HealthCheckIntervalSeconds',
    'HealthCheckTimeoutSeconds',
    'HealthyThresholdCount',
    'UnhealthyThresholdCount',
    'Matcher',
  ];
  return Object.fromEntries(keys.map((key) => [key, tg[key]]));
}

/** A listener as compared: its own target group written as TG, so the source's and the copy's match. */
function listenerShape(listener: Listener, targetGroup: string) {
  return {
    port: listener.Port ?? 0,
    protocol: listener.Protocol,
    certificates: listener.Certificates ?? [],
    sslPolicy: listener.SslPolicy,
    actions: JSON.parse(
      JSON.stringify(listener.DefaultActions ?? []).replaceAll(targetGroup, 'TG'),
    ) as unknown,
  };
}

function attributeMap(attributes: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.Key ?? '', a.Value ?? '']));
}

function tagsOf(tags: readonly { Key?: string; Value?: string }[] | undefined) {
  return {
    app: tagValue(tags, CUTOVER_TAG.app),
    slot: tagValue(tags, CUTOVER_TAG.slot),
    release: tagValue(tags, CUTOVER_TAG.release),
    deployment: tagValue(tags, CUTOVER_TAG.deployment),
  };
}
