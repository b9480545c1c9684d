/**
 * The least-privilege policy docs/aws-routers.md gives for each AWS router allows exactly the
 * calls the router makes over a whole deploy-and-retire cycle, read from moto's recording: a
 * call the policy forgets would fail in a real account, an allowed call never made is privilege
 * for nothing.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { weightsAllOn } from '../../src/shared/slot.js';
import { recordedCalls, startRecording } from '../support/moto-recorder.js';
import { awsTestClients, createAwsGroups } from '../support/aws-groups.js';
import { createAlb } from '../support/aws-alb.js';
import { startMoto, type MotoServer } from '../support/daemons/moto.js';
import {
  createAwsRouter,
  startAwsRouterHarness,
  useMotoCredentials,
  type AwsRouterKind,
} from './aws-router-harness.js';

const DOC = fileURLToPath(new URL('../../docs/aws-routers.md', import.meta.url));

/** The first JSON block after the line "`<kind>`:" in the IAM section. */
async function documentedActions(kind: string): Promise<Set<string>> {
  const text = await readFile(DOC, 'utf8');
  const iam = text.slice(text.indexOf('## Least-privilege IAM'));
  const start = iam.indexOf(`\`${kind}\`:`);
  assert.ok(start >= 0, `docs/aws-routers.md has a policy for ${kind}`);
  const block = /```json\n([\s\S]*?)```/.exec(iam.slice(start))?.[1];
  assert.ok(block, `a JSON policy follows "${kind}:"`);
  const policy = JSON.parse(block) as { Statement: { Action: string[] }[] };
  return new Set(policy.Statement.flatMap((statement) => statement.Action));
}

function service(action: string): string {
  return /AutoScalingGroups|^(Attach|Detach)LoadBalancer/.test(action)
    ? 'autoscaling'
    : 'elasticloadbalancing';
}

for (const kind of ['aws-target-group', 'aws-elb'] as AwsRouterKind[]) {
  describe(`${kind} IAM policy`, () => {
    const harness = startAwsRouterHarness(kind);
    after(async () => (await harness).teardown());

    it('allows exactly the calls of a deploy, a rollback, a drain and a cleanup', async () => {
      const h = await harness;
      const c = await h.fresh();
      await startRecording(h.motoEndpoint);
      const router = guardRouter(c.router);
      await router.open();
      try {
        await router.prepare({ blue: [], green: [] }, c.endpoints);
        await router.setWeights(weightsAllOn('blue'));
        await router.setWeights(weightsAllOn('green'));
        await router.verify();
        await router.drain('blue', { deadline: new Date(Date.now() + 5000) });
        await router.setWeights(weightsAllOn('blue'));
        await router.cleanup('green');
      } finally {
        await router.close();
      }
      const made = new Set(
        (await recordedCalls(h.motoEndpoint)).map((call) => `${service(call.action)}:${call.action}`),
      );
      const allowed = await documentedActions(kind);
      assert.deepEqual([...made].filter((action) => !allowed.has(action)).sort(), [], 'made but not allowed');
      assert.deepEqual(
        [...allowed].filter((action) => !made.has(action)).sort(),
        [],
        'allowed but never made',
      );
    });
  });
}

describe('aws-alb IAM policy', () => {
  let moto: MotoServer | undefined;
  after(async () => moto?.stop());

  it('allows exactly the calls of a deploy, previews, a rollback, a drain and a cleanup', async () => {
    useMotoCredentials();
    moto = await startMoto();
    const clients = awsTestClients(moto.endpoint);
    try {
      const groups = await createAwsGroups(clients, 'iam');
      const alb = await createAlb(clients, 'alb-iam');
      const router = guardRouter(
        await createAwsRouter('aws-alb', alb.listenerArn, moto.endpoint, '10s', '10s', alb.targetGroups),
      );
      await startRecording(moto.endpoint);
      await router.open();
      try {
        await router.prepare({ blue: [], green: [] }, groups.endpoints);
        await router.setWeights(weightsAllOn('blue'));
        await router.preview('green');
        await router.setWeights({ blue: 50, green: 50 });
        await router.setWeights(weightsAllOn('green'));
        await router.verify();
        await router.drain('blue', { deadline: new Date(Date.now() + 100) });
        await router.preview('blue');
        await router.setWeights(weightsAllOn('blue'));
        await router.preview('green');
        await router.cleanup('green');
      } finally {
        await router.close();
      }
      const made = new Set(
        (await recordedCalls(moto.endpoint)).map((call) => `${service(call.action)}:${call.action}`),
      );
      const allowed = await documentedActions('aws-alb');
      assert.deepEqual([...made].filter((action) => !allowed.has(action)).sort(), [], 'made but not allowed');
      assert.deepEqual(
        [...allowed].filter((action) => !made.has(action)).sort(),
        [],
        'allowed but never made',
      );
    } finally {
      clients.destroy();
    }
  });
});
