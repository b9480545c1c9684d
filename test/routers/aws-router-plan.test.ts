/**
 * Router.planMove / planDrain of the AWS group routers, through the guard, against moto: the
 * plan of a switch lists exactly the calls the switch then makes (no more once it is done),
 * planning changes nothing, and a move the router would refuse is refused by its plan too.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { isCutoverError, type ErrorCode } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { PlannedStep } from '../../src/shared/plan.js';
import { weightsAllOn, type Weights } from '../../src/shared/slot.js';
import { changes, recordedCalls, startRecording } from '../support/moto-recorder.js';
import { startAwsRouterHarness, type AwsRouterKind } from './aws-router-harness.js';

/** `Operation group` of each planned call, as moto-recorder's changes() writes a recorded one. */
function plannedChanges(steps: readonly PlannedStep[]): string[] {
  return steps.flatMap((step) =>
    step.kind === 'call'
      ? [`${step.operation} ${JSON.stringify(step.input.AutoScalingGroupName).slice(1, -1)}`]
      : [],
  );
}

async function refusedWith(code: ErrorCode, work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    assert.ok(isCutoverError(error), String(error));
    assert.equal(error.code, code, error.message);
    return error.message;
  }
  assert.fail(`expected ${code}`);
}

for (const kind of ['aws-target-group', 'aws-elb'] as AwsRouterKind[]) {
  void describe(`${kind} router plans`, () => {
    const harness = startAwsRouterHarness(kind);
    after(async () => (await harness).teardown());

    void it('the plan of a switch is the calls the switch makes; once done, it plans none', async () => {
      const h = await harness;
      const c = await h.fresh();
      const router = guardRouter(c.router);
      await router.open();
      try {
        await router.prepare({ blue: [], green: [] }, c.endpoints);
        await router.setWeights(weightsAllOn('blue'));
        await startRecording(h.motoEndpoint);
        const move = { from: 'blue' as const, to: 'green' as const, endpoints: c.endpoints };
        const plan = await router.planMove!({ ...move, weights: weightsAllOn('green') });
        assert.deepEqual(changes(await recordedCalls(h.motoEndpoint)), [], 'planning changed nothing');
        assert.ok(plan.some((step) => step.kind === 'wait'));
        await router.setWeights(weightsAllOn('green'));
        const made = changes(await recordedCalls(h.motoEndpoint));
        assert.deepEqual(plannedChanges(plan), made);
        assert.equal(made.length, 2, made.join(', '));

        const again = await router.planMove!({ ...move, weights: weightsAllOn('green') });
        assert.deepEqual(plannedChanges(again), [], 'an idempotent switch plans no call');

        const drain = await router.planDrain!('blue', { deadlineMs: 1234, endpoints: c.endpoints });
        assert.equal(drain.length, 1);
        assert.equal(drain[0]!.kind, 'wait');
        assert.ok(drain[0]!.kind === 'wait' && drain[0]!.deadlineMs <= 1234);
      } finally {
        await router.close();
      }
    });

    void it('refuses in its plan what the move would refuse', async () => {
      const h = await harness;
      const c = await h.fresh();
      const router = guardRouter(c.router);
      await router.open();
      try {
        const move = { from: 'blue' as const, to: 'green' as const, endpoints: c.endpoints };
        const half: Weights = { blue: 50, green: 50 };
        assert.match(
          await refusedWith('CUTOVER_E_ROUTER', router.planMove!({ ...move, weights: half })),
          /whole groups only/,
        );
        await refusedWith(
          'CUTOVER_E_INVALID_WEIGHTS',
          router.planMove!({ ...move, weights: { blue: 101, green: -1 } }),
        );
        const gone = { ...c.endpoints, blue: { kind: 'aws-asg', id: 'no-such-group' } };
        assert.match(
          await refusedWith(
            'CUTOVER_E_ROUTER',
            router.planMove!({ ...move, endpoints: gone, weights: weightsAllOn('green') }),
          ),
          /no-such-group does not exist/,
        );
      } finally {
        await router.close();
      }
    });
  });
}

void describe('a router without a plan', () => {
  void it('has no plan methods behind the guard either', () => {
    const builtin = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0' }),
      {
        logger: silentLogger,
      },
    );
    const guarded = guardRouter(builtin);
    assert.equal(guarded.planMove, undefined);
    assert.equal(guarded.planDrain, undefined);
  });
});
