/**
 * A weighted ALB end to end against moto, in one-shot mode: platform aws-asg (a replica group
 * per release) and router aws-alb (the listener's default action forwards to one target group
 * per slot). A first deploy and a `switch` (one ModifyListener); a `shift` of 10/50 with
 * stickiness, the listener's weights read back from AWS at each step, stopped at a manual gate
 * at 50 % where `cutover abort` puts it back to 100/0; then a shift of 10/50/100 to the end. Each step is
 * asserted on what AWS holds: the forward action's weights and stickiness, and which group is
 * attached to which target group.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { groupName } from '../../src/platforms/aws-asg/group-naming.js';
import { listenerForward } from '../support/aws-alb.js';
import { waitFor } from '../support/load.js';
import { recordedCalls, startRecording } from '../support/moto-recorder.js';
import { albScenario } from './aws-alb-scenario.js';
import { attachedGroups, type DeploymentOutput } from './aws-scenario.js';

// Each step holds for a pause the test reads the listener in (a one-shot `cutover promote` at a
// shift step's gate races the run; see docs/aws-routers.md); the first shift stops at a gate at
// 50 % for the abort.
const STEP_PAUSE = '5s';
const SHIFT_TO_ABORT = [
  'strategy:',
  '  kind: shift',
  `  steps: [{ weight: 10, pause: ${STEP_PAUSE} }, { weight: 50, gate: manual }, { weight: 100 }]`,
];
const SHIFT_THROUGH = [
  'strategy:',
  '  kind: shift',
  `  steps: [{ weight: 10, pause: ${STEP_PAUSE} }, { weight: 50, pause: ${STEP_PAUSE} }, { weight: 100 }]`,
];
const SWITCH = ['strategy:', '  kind: switch'];

void describe('a weighted ALB through cutover deploy (aws-asg + aws-alb), against moto', () => {
  const aws = albScenario(SWITCH);

  const run = async (args: string[]): Promise<DeploymentOutput> => {
    const result = await aws.harness.cli([...args, '--json']);
    assert.equal(result.code, 0, `cutover ${args.join(' ')}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as DeploymentOutput;
  };
  /** The listener as AWS holds it: each slot's weight and the stickiness. */
  const listener = async (): Promise<{ blue: number; green: number; stickiness: number | 'off' }> => {
    const state = await listenerForward(aws.elbv2, aws.alb.listenerArn);
    return {
      blue: state.weights[aws.alb.targetGroups.blue] ?? 0,
      green: state.weights[aws.alb.targetGroups.green] ?? 0,
      stickiness: state.stickiness,
    };
  };
  const untilListener = (
    expected: { blue: number; green: number; stickiness: number | 'off' },
    what: string,
  ): Promise<void> =>
    waitFor(async () => isDeepStrictEqual(await listener(), expected), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the listener to show ${what}: ${JSON.stringify(expected)}`,
    });
  const attachedTo = async (slot: 'blue' | 'green'): Promise<string[]> =>
    attachedGroups(aws.fixture, {
      name: aws.alb.targetGroupNames[slot],
      healthyInstances: () => Promise.resolve([]),
      destroy: () => {},
    });

  void it('shift 10/50 with stickiness, abort at 50 back to 100/0, a shift to the end, then a switch', async () => {
    const first = await run(['deploy', 'v1']);
    assert.equal(first.deployment.toSlot, 'blue');
    assert.deepEqual(await listener(), { blue: 100, green: 0, stickiness: 'off' }, 'v1 takes everything');
    assert.deepEqual(await attachedTo('blue'), [groupName(aws.fixture.app, 'blue', 'v1')]);

    // v2: the 10 % step (read while it pauses), then the gate at 50 %, where deploy stops.
    aws.writeConfig(SHIFT_TO_ABORT);
    const shifting = run(['deploy', 'v2']);
    await untilListener({ blue: 90, green: 10, stickiness: 3600 }, 'the 10 % step');
    const fifty = await shifting;
    assert.equal(fifty.deployment.phase, 'shifting');
    assert.deepEqual(await listener(), { blue: 50, green: 50, stickiness: 3600 }, 'the 50 % step');
    assert.deepEqual(await attachedTo('green'), [groupName(aws.fixture.app, 'green', 'v2')]);

    const aborted = await run(['abort', fifty.deployment.id]);
    assert.equal(aborted.deployment.phase, 'aborted');
    assert.deepEqual(await listener(), { blue: 100, green: 0, stickiness: 'off' }, 'after the abort');
    assert.deepEqual(
      await attachedTo('blue'),
      [groupName(aws.fixture.app, 'blue', 'v1')],
      'blue kept serving',
    );

    // The same release again, through every step to the end.
    aws.writeConfig(SHIFT_THROUGH);
    const through = run(['deploy', 'v2']);
    await untilListener({ blue: 90, green: 10, stickiness: 3600 }, 'the 10 % step');
    await untilListener({ blue: 50, green: 50, stickiness: 3600 }, 'the 50 % step');
    const promoted = await through;
    assert.equal(promoted.deployment.phase, 'standby');
    assert.deepEqual(await listener(), { blue: 0, green: 100, stickiness: 'off' }, 'v2 takes everything');
    // The old group stays attached behind a weight of 0: warm for a rollback.
    assert.deepEqual(await attachedTo('blue'), [groupName(aws.fixture.app, 'blue', 'v1')]);

    // A switch: the standby v1 is retired (its group detached), v3 takes blue, one ModifyListener.
    aws.writeConfig(SWITCH);
    await startRecording(aws.fixture.moto.endpoint);
    const switched = await run(['deploy', 'v3']);
    assert.equal(switched.deployment.phase, 'standby');
    assert.equal(switched.deployment.toSlot, 'blue');
    assert.deepEqual(await listener(), { blue: 100, green: 0, stickiness: 'off' }, 'after the switch');
    const moves = (await recordedCalls(aws.fixture.moto.endpoint)).filter(
      (call) => call.action === 'ModifyListener',
    );
    assert.equal(moves.length, 1, 'the switch is one ModifyListener');
    assert.deepEqual(await attachedTo('blue'), [groupName(aws.fixture.app, 'blue', 'v3')]);
    assert.deepEqual(await attachedTo('green'), [groupName(aws.fixture.app, 'green', 'v2')]);
  });
});
