/** Which engine events become which notification, and what each one says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationOf, type NotificationContext } from '../../src/notifications/notification.js';
import type { DeploymentEvent } from '../../src/shared/events.js';

const context: NotificationContext = {
  app: 'web',
  gateWeightAt: (step) => (step === 0 ? 10 : undefined),
  releaseOf: (id) => (id === 'd1' ? 'v7' : ''),
};
const at = '2026-12-05T10:00:00.000Z';
const phase = (name: string, reason?: { code: string; message: string }): DeploymentEvent =>
  ({
    type: 'phase',
    deploymentId: 'd1',
    phase: name,
    release: 'v7',
    at,
    ...(reason ? { reason } : {}),
  }) as DeploymentEvent;

describe('notificationOf', () => {
  it('maps the phases people are told about, and no other', () => {
    const named = [
      'pending',
      'provisioning',
      'verifying',
      'awaiting-promotion',
      'shifting',
      'promoted',
      'draining',
      'standby',
      'retired',
      'rolling-back',
      'rolled-back',
      'aborting',
    ].map((name) => [name, notificationOf(phase(name), context)?.event]);
    assert.deepEqual(
      named.filter(([, event]) => event !== undefined),
      [
        ['provisioning', 'started'],
        ['awaiting-promotion', 'gate'],
        ['promoted', 'promoted'],
        ['rolled-back', 'rolled-back'],
      ],
    );
  });

  it('an abort by a person is `aborted`, any other is `failed`, with the reason', () => {
    const byUser = notificationOf(
      phase('aborted', { code: 'CUTOVER_E_ABORTED', message: 'aborted by ana' }),
      context,
    );
    assert.equal(byUser?.event, 'aborted');
    const failed = notificationOf(
      phase('aborted', { code: 'CUTOVER_E_HEALTH', message: 'never healthy' }),
      context,
    );
    assert.equal(failed?.event, 'failed');
    assert.deepEqual(failed?.reason, { code: 'CUTOVER_E_HEALTH', message: 'never healthy' });
    assert.equal(failed?.summary, 'web: deployment of v7 failed: never healthy');
  });

  it('a shift step with a manual gate is a gate, with the weights and the remembered release', () => {
    const weights = (step: number, green: number): DeploymentEvent => ({
      type: 'weights',
      deploymentId: 'd1',
      at,
      step,
      weights: { blue: 100 - green, green },
    });
    const gate = notificationOf(weights(0, 10), context);
    assert.equal(gate?.event, 'gate');
    assert.deepEqual(gate?.weights, { blue: 90, green: 10 });
    assert.equal(gate?.summary, 'web: v7 takes 10% and waits for `cutover promote`');
    assert.equal(notificationOf(weights(1, 50), context), undefined, 'a step without a gate');
    assert.equal(notificationOf(weights(0, 100), context), undefined, "a first deploy's single step");
  });

  it('health, message and read-back events are not notifications', () => {
    assert.equal(
      notificationOf({ type: 'health', deploymentId: 'd1', at, healthy: 1, total: 2, detail: '' }, context),
      undefined,
    );
    assert.equal(
      notificationOf({ type: 'message', deploymentId: 'd1', at, level: 'error', message: 'x' }, context),
      undefined,
    );
  });
});
