import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPlan, renderStep, renderValue } from '../../src/cli/plan-renderer.js';
import { deployCalls, isPlaceholder, placeholder, type DeployPlan } from '../../src/shared/plan.js';

const PLAN: DeployPlan = {
  app: 'shop',
  release: 'v2',
  platform: 'aws-asg',
  router: 'aws-target-group',
  fromSlot: 'blue',
  toSlot: 'green',
  phases: [
    {
      phase: 'provision',
      title: 'provision green with v2',
      later: false,
      steps: [
        {
          kind: 'call',
          service: 'autoscaling',
          operation: 'CreateAutoScalingGroup',
          input: {
            AutoScalingGroupName: 'cutover-shop-green-v2',
            LaunchTemplate: { LaunchTemplateId: placeholder('id of launch template t'), Version: '1' },
            MinSize: 2,
            Tags: [{ Key: 'cutover:app', Value: 'shop', PropagateAtLaunch: true }],
          },
        },
        { kind: 'wait', until: '2 instances InService', deadlineMs: 600_000 },
      ],
    },
    { phase: 'drain', title: 'drain blue', later: false, steps: [] },
    {
      phase: 'retire',
      title: 'later stop blue',
      later: true,
      steps: [
        {
          kind: 'call',
          service: 'ec2',
          operation: 'TerminateInstances',
          input: { InstanceIds: placeholder('instances left') },
          condition: 'only if any is left',
        },
      ],
    },
  ],
};

void describe('plan renderer', () => {
  void it('prints phases in order, each call with one line per input key, waits with deadlines', () => {
    assert.equal(
      renderPlan(PLAN),
      [
        'plan: deploy v2 of shop to green (platform aws-asg, router aws-target-group); live now: blue',
        'nothing has been changed; reads of the current state are not listed',
        '',
        '1. provision green with v2',
        '   autoscaling CreateAutoScalingGroup',
        '     AutoScalingGroupName: "cutover-shop-green-v2"',
        '     LaunchTemplate: { LaunchTemplateId: <id of launch template t>, Version: "1" }',
        '     MinSize: 2',
        '     Tags: [{ Key: "cutover:app", Value: "shop", PropagateAtLaunch: true }]',
        '   wait until 2 instances InService (deadline 10m0s)',
        '',
        '2. drain blue',
        '   (no call)',
        '',
        'later: later stop blue',
        '   ec2 TerminateInstances (only if any is left)',
        '     InstanceIds: <instances left>',
        '',
      ].join('\n'),
    );
  });

  void it('a first deploy says nothing is live; notes print as notes', () => {
    const text = renderPlan({ ...PLAN, fromSlot: null, phases: [] });
    assert.match(text, /live now: nothing\n/);
    assert.deepEqual(renderStep({ kind: 'note', text: 'runs the smoke hook' }), [
      'note: runs the smoke hook',
    ]);
  });

  void it('hostile values: control characters and newlines show escaped, never as raw lines', () => {
    const evil = 'a\nb\u001b[2Jc';
    assert.equal(renderValue(evil), '"a\\nb\\u001b[2Jc"');
    assert.equal(renderValue(placeholder(evil)), '<a\\nb\\u001b[2Jc>');
    const lines = renderStep({
      kind: 'call',
      service: 's',
      operation: 'Op',
      input: { K: [evil, { X: evil }] },
    });
    assert.equal(lines.length, 2);
    assert.ok(lines.every((line) => !/[\n\u001b]/.test(line)));
    assert.equal(renderValue({}), '{}');
    assert.equal(renderValue([]), '[]');
  });

  void it('a real value shaped like a placeholder but with more keys is a value, not a placeholder', () => {
    assert.equal(isPlaceholder({ placeholder: 'x', Other: 'y' }), false);
    assert.equal(isPlaceholder({ placeholder: 3 }), false);
    assert.equal(isPlaceholder(['x']), false);
    assert.equal(isPlaceholder(placeholder('x')), true);
  });

  void it('deployCalls lists the deploy’s calls in order, without what retire does later', () => {
    assert.deepEqual(
      deployCalls(PLAN).map((call) => call.operation),
      ['CreateAutoScalingGroup'],
    );
  });
});
