/**
 * The aws-alb router against moto: an ALB listener's default action (or one rule) as a weighted
 * forward to one target group per slot. Every case reads AWS's own state back (the forward
 * action's weights and stickiness, which groups are attached where, the preview rule) rather
 * than the router's word, and counts the changing calls moto recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { parseConfigText } from '../../src/config/load.js';
import { awsAlbRouter } from '../../src/routers/aws-alb/index.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { Logger } from '../../src/shared/logger.js';
import type { Router } from '../../src/shared/router.js';
import { weightsAllOn, type Slot, type Weights } from '../../src/shared/slot.js';
import {
  createAlb,
  createAppRule,
  listenerForward,
  listenerRules,
  ruleForward,
  setDeregistrationDelay,
  type AlbLayout,
  type ForwardState,
} from '../support/aws-alb.js';
import {
  awsTestClients,
  createAwsGroups,
  groupAttachments,
  markGroupUnhealthy,
  targetStates,
  groupInstanceIds,
  TEST_REGION,
  type AwsGroupsLayout,
  type AwsTestClients,
} from '../support/aws-groups.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import { changes, recordedCalls, startRecording } from '../support/moto-recorder.js';
import { useMotoCredentials } from './aws-router-harness.js';

const PREVIEW_TOKEN = 'alb-preview-token-0123456789abcdefXYZ';
const CASE_TIMEOUT_MS = 60_000;

interface AlbCase {
  readonly router: Router;
  readonly groups: AwsGroupsLayout;
  readonly alb: AlbLayout;
  readonly clients: AwsTestClients;
  readonly ruleArn?: string;
  /** The forward action cutover owns, as AWS reports it. */
  forward(): Promise<ForwardState>;
  /** The share of each slot in that action, in AWS's own weights. */
  weights(): Promise<{ blue: number; green: number; stickiness: number | 'off' }>;
}

void describe('aws-alb router against moto', () => {
  let moto: MotoServer;
  let clients: AwsTestClients | undefined;
  let serial = 0;
  const opened: Router[] = [];

  before(async () => {
    useMotoCredentials();
    moto = await startMoto();
  });
  after(async () => {
    for (const router of opened) await router.close();
    clients?.destroy();
    await moto?.stop();
  });

  const fresh = async (
    options: { rule?: boolean; stickiness?: string; settleTimeout?: string } = {},
  ): Promise<AlbCase> => {
    clients?.destroy();
    await moto.reset();
    clients = awsTestClients(moto.endpoint);
    const c = clients;
    const tag = `c${++serial}`;
    const groups = await createAwsGroups(c, tag);
    const alb = await createAlb(c, `alb-${tag}`);
    const ruleArn = options.rule === true ? await createAppRule(c.elbv2, alb, 10) : undefined;
    const config = awsAlbRouter.configSchema.parse({
      kind: 'aws-alb',
      ...(ruleArn === undefined ? { listenerArn: alb.listenerArn } : { ruleArn }),
      // One by name, one by ARN: both resolve.
      targetGroups: { blue: alb.targetGroupNames.blue, green: alb.targetGroups.green },
      ...(options.stickiness === undefined ? {} : { stickiness: options.stickiness }),
      region: TEST_REGION,
      endpoint: moto.endpoint,
      maxAttempts: 1,
      settleTimeout: options.settleTimeout ?? '10s',
      callTimeout: '10s',
    });
    const created = await awsAlbRouter.create(config, {
      logger: new Logger(() => {}),
      previewToken: PREVIEW_TOKEN,
      baseDir: '/nonexistent',
      stateDir: '/nonexistent',
    });
    const router = guardRouter(created.router);
    opened.push(router);
    await router.open();
    const forward = () =>
      ruleArn === undefined ? listenerForward(c.elbv2, alb.listenerArn) : ruleForward(c.elbv2, ruleArn);
    return {
      router,
      groups,
      alb,
      clients: c,
      ...(ruleArn === undefined ? {} : { ruleArn }),
      forward,
      weights: async () => {
        const state = await forward();
        return {
          blue: state.weights[alb.targetGroups.blue] ?? 0,
          green: state.weights[alb.targetGroups.green] ?? 0,
          stickiness: state.stickiness,
        };
      },
    };
  };

  /** Both slots prepared, blue 100 %. */
  const blueLive = async (options: Parameters<typeof fresh>[0] = {}): Promise<AlbCase> => {
    const c = await fresh(options);
    await c.router.prepare({ blue: [], green: [] }, c.groups.endpoints);
    await c.router.setWeights(weightsAllOn('blue'));
    return c;
  };

  const attachedTo = async (c: AlbCase, slot: Slot): Promise<string[]> =>
    (await groupAttachments(c.clients, slot === 'blue' ? c.groups.blueGroup : c.groups.greenGroup))
      .targetGroups;

  const moveAndRead = async (
    c: AlbCase,
    weights: Weights,
    expected: { blue: number; green: number; stickiness: number | 'off' },
  ) => {
    await c.router.setWeights(weights);
    assert.deepEqual(
      await c.weights(),
      expected,
      `the forward action after blue ${weights.blue} / green ${weights.green}`,
    );
    assert.deepEqual(await c.router.verify(), { kind: 'observed', weights }, 'verify reads the same back');
  };

  void it(
    'prepare attaches each slot’s group to its own target group, waits until healthy, and leaves the listener alone',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await fresh();
      const before = await c.forward();
      await startRecording(moto.endpoint);
      await c.router.prepare({ blue: [], green: [] }, c.groups.endpoints);
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), [
        `AttachLoadBalancerTargetGroups ${c.groups.blueGroup}`,
        `AttachLoadBalancerTargetGroups ${c.groups.greenGroup}`,
      ]);
      assert.deepEqual(await attachedTo(c, 'blue'), [c.alb.targetGroups.blue]);
      assert.deepEqual(await attachedTo(c, 'green'), [c.alb.targetGroups.green]);
      for (const slot of ['blue', 'green'] as const) {
        const states = await targetStates(c.clients, c.alb.targetGroups[slot]);
        const ids = await groupInstanceIds(
          c.clients,
          slot === 'blue' ? c.groups.blueGroup : c.groups.greenGroup,
        );
        assert.deepEqual(
          Object.keys(states).sort(),
          ids,
          `${slot}'s instances are ${slot}'s target group's targets`,
        );
        assert.ok(
          Object.values(states).every((state) => state === 'healthy'),
          JSON.stringify(states),
        );
      }
      assert.deepEqual(await c.forward(), before, 'prepare does not touch the listener');
      await startRecording(moto.endpoint);
      await c.router.prepare({ blue: [], green: [] }, c.groups.endpoints);
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), [], 'a second prepare changes nothing');
    },
  );

  void it(
    'a switch is one ModifyListener, read back; both groups stay attached (the old one warm)',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ stickiness: '1h' });
      assert.deepEqual(await c.weights(), { blue: 100, green: 0, stickiness: 'off' });
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
      for (const next of ['green', 'blue'] as const) {
        await startRecording(moto.endpoint);
        await moveAndRead(c, weightsAllOn(next), {
          blue: next === 'blue' ? 100 : 0,
          green: next === 'green' ? 100 : 0,
          stickiness: 'off',
        });
        assert.deepEqual(
          changes(await recordedCalls(moto.endpoint)),
          ['ModifyListener'],
          `switch to ${next}`,
        );
        assert.deepEqual(await attachedTo(c, 'blue'), [c.alb.targetGroups.blue]);
        assert.deepEqual(await attachedTo(c, 'green'), [c.alb.targetGroups.green]);
      }
      await startRecording(moto.endpoint);
      await c.router.setWeights(weightsAllOn('blue'));
      assert.deepEqual(
        changes(await recordedCalls(moto.endpoint)),
        [],
        'the same move again changes nothing',
      );
    },
  );

  void it(
    'a shift of 10/50/100 keeps clients sticky during the shift; an abort at 50 returns to 100/0 without stickiness',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ stickiness: '1h' });
      await moveAndRead(c, { blue: 90, green: 10 }, { blue: 90, green: 10, stickiness: 3600 });
      await moveAndRead(c, { blue: 50, green: 50 }, { blue: 50, green: 50, stickiness: 3600 });
      // The abort: every client back on blue at once, sticky cookies ignored.
      await moveAndRead(c, weightsAllOn('blue'), { blue: 100, green: 0, stickiness: 'off' });
      await moveAndRead(c, { blue: 90, green: 10 }, { blue: 90, green: 10, stickiness: 3600 });
      await moveAndRead(c, { blue: 50, green: 50 }, { blue: 50, green: 50, stickiness: 3600 });
      await moveAndRead(c, weightsAllOn('green'), { blue: 0, green: 100, stickiness: 'off' });
    },
  );

  void it(
    'rule mode: the named rule carries the weights, the listener’s default action is left alone',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ rule: true, stickiness: '90s' });
      const defaultAction = await listenerForward(c.clients.elbv2, c.alb.listenerArn);
      await startRecording(moto.endpoint);
      await moveAndRead(c, { blue: 50, green: 50 }, { blue: 50, green: 50, stickiness: 90 });
      await moveAndRead(c, weightsAllOn('green'), { blue: 0, green: 100, stickiness: 'off' });
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), ['ModifyRule', 'ModifyRule']);
      assert.deepEqual(await listenerForward(c.clients.elbv2, c.alb.listenerArn), defaultAction);
      // The preview rule goes ahead of the named rule (priority 1 < 10).
      const preview = await c.router.preview('blue');
      assert.equal(preview.headers['x-cutover-preview'], PREVIEW_TOKEN);
    },
  );

  void it(
    'verify reads back what AWS holds, not what was last asked',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ stickiness: '1h' });
      await c.router.setWeights({ blue: 50, green: 50 });
      const edit = (targetGroups: { arn: string; weight: number }[], sticky: boolean) =>
        c.clients.elbv2.send(
          new ModifyListenerCommand({
            ListenerArn: c.alb.listenerArn,
            DefaultActions: [
              {
                Type: 'forward',
                ForwardConfig: {
                  TargetGroups: targetGroups.map(({ arn, weight }) => ({
                    TargetGroupArn: arn,
                    Weight: weight,
                  })),
                  TargetGroupStickinessConfig: sticky
                    ? { Enabled: true, DurationSeconds: 3600 }
                    : { Enabled: false },
                },
              },
            ],
          }),
        );
      const { blue, green } = c.alb.targetGroups;
      // An operator writes AWS weights 700/300: read back as 70/30.
      await edit(
        [
          { arn: blue, weight: 700 },
          { arn: green, weight: 300 },
        ],
        true,
      );
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: { blue: 70, green: 30 } });
      // Stickiness turned off by hand during a shift: not what cutover set.
      await edit(
        [
          { arn: blue, weight: 50 },
          { arn: green, weight: 50 },
        ],
        false,
      );
      const unsticky = await c.router.verify();
      assert.equal(unsticky.kind, 'converging', JSON.stringify(unsticky));
      assert.match(unsticky.kind === 'converging' ? unsticky.seen : '', /stickiness off, not 3600s/);
      // A third target group gets a share.
      await edit(
        [
          { arn: blue, weight: 50 },
          { arn: c.groups.targetGroupArn, weight: 50 },
        ],
        false,
      );
      const foreign = await c.router.verify();
      assert.equal(foreign.kind, 'converging', JSON.stringify(foreign));
      assert.match(foreign.kind === 'converging' ? foreign.seen : '', /also forwards to/);
      // The next move undoes the hand edits.
      await moveAndRead(c, { blue: 50, green: 50 }, { blue: 50, green: 50, stickiness: 3600 });
      assert.equal((await c.forward()).weights[c.groups.targetGroupArn], undefined);
    },
  );

  void it(
    'no weight moves onto a group that is not healthy: the move fails and the listener is unchanged',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ settleTimeout: '1500ms' });
      await markGroupUnhealthy(c.clients, c.groups.greenGroup);
      await startRecording(moto.endpoint);
      await assert.rejects(c.router.setWeights({ blue: 90, green: 10 }), (error: unknown) => {
        assert.ok(
          isCutoverError(error, 'CUTOVER_E_ROUTER'),
          `expected CUTOVER_E_ROUTER, got ${String(error)}`,
        );
        assert.match((error as Error).message, new RegExp(`${c.groups.greenGroup}.*did not become healthy`));
        return true;
      });
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), []);
      assert.deepEqual(await c.weights(), { blue: 100, green: 0, stickiness: 'off' });
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  void it(
    'an abort away from a slot that went unhealthy is not held up by it',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive({ settleTimeout: '3s', stickiness: '1h' });
      await c.router.setWeights({ blue: 50, green: 50 });
      await markGroupUnhealthy(c.clients, c.groups.greenGroup);
      const unhealthy = await c.router.verify();
      assert.equal(unhealthy.kind, 'converging', JSON.stringify(unhealthy));
      // What the engine's abort does: prepare with both slots, then all on blue.
      await c.router.prepare({ blue: [], green: [] }, c.groups.endpoints);
      await c.router.setWeights(weightsAllOn('blue'));
      assert.deepEqual(await c.weights(), { blue: 100, green: 0, stickiness: 'off' });
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  void it(
    'preview: one rule matching the preview header with the token forwards to the idle target group only',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive();
      const before = await c.forward();
      const route = await c.router.preview('green');
      assert.equal(route.slot, 'green');
      assert.equal(route.url, `http://${c.alb.dnsName}:80/`);
      assert.deepEqual(route.headers, { 'x-cutover-preview': PREVIEW_TOKEN });
      const rules = async () => await listenerRules(c.clients.elbv2, c.alb.listenerArn);
      const [rule, ...more] = await rules();
      assert.deepEqual(more, [], 'one preview rule');
      assert.deepEqual(
        rule?.Conditions?.map((condition) => condition.HttpHeaderConfig),
        [{ HttpHeaderName: 'x-cutover-preview', Values: [PREVIEW_TOKEN] }],
      );
      assert.equal(rule?.Actions?.[0]?.TargetGroupArn, c.alb.targetGroups.green);
      assert.deepEqual(await c.forward(), before, 'live traffic is not touched');
      // Again (a restarted process): the same rule, nothing created.
      await startRecording(moto.endpoint);
      await c.router.preview('green');
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), []);
      await c.router.preview('blue');
      assert.deepEqual(changes(await recordedCalls(moto.endpoint)), ['ModifyRule']);
      const [moved, ...none] = await rules();
      assert.deepEqual(none, []);
      assert.equal(moved?.Actions?.[0]?.TargetGroupArn, c.alb.targetGroups.blue);
    },
  );

  void it(
    'cleanup detaches the retired slot’s group and its preview rule; the live slot is refused',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive();
      await c.router.preview('green');
      await c.router.cleanup('green');
      assert.deepEqual(await attachedTo(c, 'green'), []);
      assert.deepEqual(await attachedTo(c, 'blue'), [c.alb.targetGroups.blue]);
      assert.deepEqual(await listenerRules(c.clients.elbv2, c.alb.listenerArn), []);
      await c.router.cleanup('green');
      await assert.rejects(c.router.cleanup('blue'), (error: unknown) =>
        isCutoverError(error, 'CUTOVER_E_SLOT_LIVE'),
      );
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  void it(
    'drain waits the old target group’s deregistration delay, never past the deadline; a weighted slot is refused',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive();
      await setDeregistrationDelay(c.clients.elbv2, c.alb.targetGroups.blue, 1);
      await c.router.setWeights(weightsAllOn('green'));
      let started = Date.now();
      await c.router.drain('blue', { deadline: new Date(Date.now() + 10_000) });
      assert.ok(Date.now() - started >= 900, `drain waited ${Date.now() - started} ms of a 1 s delay`);
      await setDeregistrationDelay(c.clients.elbv2, c.alb.targetGroups.blue, 300);
      started = Date.now();
      await c.router.drain('blue', { deadline: new Date(Date.now() + 200) });
      assert.ok(Date.now() - started < 5_000, 'the deadline, not the 300 s delay, ends the drain');
      await assert.rejects(
        c.router.drain('green', { deadline: new Date(Date.now() + 1000) }),
        (error: unknown) => isCutoverError(error, 'CUTOVER_E_ROUTER'),
      );
      assert.deepEqual(
        await attachedTo(c, 'blue'),
        [c.alb.targetGroups.blue],
        'the drained group stays attached (warm)',
      );
      const status = await c.router.drainStatus('blue');
      assert.equal(status.kind, 'unknown');
    },
  );

  void it(
    'prepare refuses host:port instances, a group that does not exist and one in another region',
    { timeout: CASE_TIMEOUT_MS },
    async () => {
      const c = await blueLive();
      const endpoints = c.groups.endpoints;
      const cases: Parameters<Router['prepare']>[] = [
        [{ blue: [], green: [{ id: 'i-1', host: '127.0.0.1', port: 8080 }] }, { blue: endpoints.blue }],
        [
          { blue: [], green: [] },
          { ...endpoints, green: { ...endpoints.green, id: 'no-such-group' } },
        ],
        [
          { blue: [], green: [] },
          { ...endpoints, green: { ...endpoints.green, details: { region: 'eu-west-1' } } },
        ],
      ];
      for (const args of cases) {
        await assert.rejects(c.router.prepare(...args), (error: unknown) =>
          isCutoverError(error, 'CUTOVER_E_ROUTER'),
        );
      }
      assert.deepEqual(await c.router.verify(), { kind: 'observed', weights: weightsAllOn('blue') });
    },
  );

  void it('a listener or target group that does not exist fails open() with CUTOVER_E_ROUTER', async () => {
    const c = await fresh();
    const base = {
      kind: 'aws-alb',
      targetGroups: { blue: c.alb.targetGroups.blue, green: c.alb.targetGroups.green },
      region: TEST_REGION,
      endpoint: moto.endpoint,
      maxAttempts: 1,
    };
    const deps = { logger: new Logger(() => {}), previewToken: PREVIEW_TOKEN, baseDir: '/', stateDir: '/' };
    for (const config of [
      { ...base, listenerArn: c.alb.listenerArn.replace(/\/[0-9a-f]+$/, '/0123456789abcdef') },
      {
        ...base,
        listenerArn: c.alb.listenerArn,
        targetGroups: { blue: 'no-such-group', green: c.alb.targetGroups.green },
      },
    ]) {
      const created = await awsAlbRouter.create(awsAlbRouter.configSchema.parse(config), deps);
      const router = guardRouter(created.router);
      await assert.rejects(router.open(), (error: unknown) => isCutoverError(error, 'CUTOVER_E_ROUTER'));
      await router.close();
    }
  });
});

void describe('aws-alb router config', () => {
  const load = (router: string) =>
    parseConfigText(
      `app: web\nplatform:\n  kind: process\n  command: node\nrouter:\n${router}`,
      '/srv/web/cutover.yml',
    );
  const listener =
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2';
  const rule = `${listener.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;

  void it('defaults: no stickiness, preview rule priority 1, a 5-minute settle timeout', () => {
    const config = load(
      `  kind: aws-alb\n  listenerArn: ${listener}\n  targetGroups: { blue: web-blue, green: web-green }\n  region: us-east-1\n`,
    );
    assert.deepEqual(config.router, {
      kind: 'aws-alb',
      listenerArn: listener,
      targetGroups: { blue: 'web-blue', green: 'web-green' },
      previewPriority: 1,
      region: 'us-east-1',
      maxAttempts: 3,
      settleTimeout: 300_000,
      callTimeout: 30_000,
    });
  });

  void it('hostile sections are refused naming file, line and key', () => {
    const tgs = '  targetGroups: { blue: web-blue, green: web-green }\n  region: us-east-1\n';
    const cases: [string, RegExp][] = [
      [
        `  kind: aws-alb\n${tgs}`,
        /cutover\.yml:\d+:\d+: router\.listenerArn: give exactly one of listenerArn/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: ${listener}\n  ruleArn: ${rule}\n${tgs}`,
        /cutover\.yml:8:\d+: router\.ruleArn: give exactly one/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: "arn:aws:s3:::bucket"\n${tgs}`,
        /cutover\.yml:7:\d+: router\.listenerArn:/,
      ],
      [
        `  kind: aws-alb\n  ruleArn: ${rule}\n  targetGroups: { blue: web, green: web }\n  region: us-east-1\n`,
        /cutover\.yml:8:\d+: router\.targetGroups\.green: each slot needs its own target group/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: ${listener}\n  stickiness: 500ms\n${tgs}`,
        /cutover\.yml:8:\d+: router\.stickiness: AWS takes/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: ${listener}\n  stickiness: 8d\n${tgs}`,
        /:8:\d+: router\.stickiness:/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: ${listener}\n  previewPriority: 0\n${tgs}`,
        /:8:\d+: router\.previewPriority:/,
      ],
      [
        `  kind: aws-alb\n  listenerArn: ${listener}\n  targetGroups: { blue: "-x", green: y }\n  region: us-east-1\n`,
        /router\.targetGroups\.blue:/,
      ],
    ];
    for (const [section, expected] of cases) {
      assert.throws(
        () => load(section),
        (error: unknown) => {
          assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
          assert.match((error as Error).message, expected);
          return true;
        },
        section,
      );
    }
  });
});
