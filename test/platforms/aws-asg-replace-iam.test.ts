/**
 * The least-privilege policy docs/aws.md gives for recipe 1 (replace-instances) allows every
 * call the platform and the router make over a provision, a switch, a rollback, a retirement and
 * a pruning, read from moto's recording (each call's service from its signature's credential
 * scope): a call the policy forgets would fail in a real account.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { guardRouter } from '../../src/routers/guarded-router.js';
import { weightsAllOn } from '../../src/shared/slot.js';
import { createAwsRouter } from '../routers/aws-router-harness.js';
import { makeReplaceFixture, type ReplaceFixture } from './aws-asg-replace-fixture.js';

const DOC = fileURLToPath(new URL('../../docs/aws.md', import.meta.url));
/** The IAM prefix of each signing name. */
const PREFIX: Record<string, string> = {
  ec2: 'ec2',
  autoscaling: 'autoscaling',
  elasticloadbalancing: 'elasticloadbalancing',
};

async function documentedActions(): Promise<Set<string>> {
  const text = await readFile(DOC, 'utf8');
  const section = text.slice(text.indexOf('### Least-privilege IAM policy (recipe 1)'));
  const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'docs/aws.md has a JSON policy for recipe 1');
  const policy = JSON.parse(block) as { Statement: { Action: string | string[] }[] };
  return new Set(policy.Statement.flatMap((statement) => statement.Action));
}

/** `service:Action` of every call moto recorded since the recording started. */
async function madeActions(endpoint: string): Promise<Set<string>> {
  const response = await fetch(`${endpoint}/moto-api/recorder/download-recording`);
  const text = await response.text();
  const made = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as {
      body?: string;
      body_encoded?: boolean;
      headers?: Record<string, string>;
    };
    const body =
      entry.body_encoded === true
        ? Buffer.from(entry.body ?? '', 'base64').toString('utf8')
        : (entry.body ?? '');
    const action = new URLSearchParams(body).get('Action');
    const authorization = entry.headers?.Authorization ?? entry.headers?.authorization ?? '';
    const service = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1];
    if (action === null || service === undefined) continue;
    made.add(`${PREFIX[service] ?? service}:${action}`);
  }
  return made;
}

void describe('recipe 1 IAM policy (docs/aws.md)', () => {
  let fixture: ReplaceFixture;
  before(async () => {
    fixture = await makeReplaceFixture('aws-target-group');
  });
  after(async () => {
    await fixture?.cleanup();
  });

  void it('allows every call of a provision, a switch, a rollback, a retirement and a pruning', async () => {
    const endpoint = fixture.aws.moto.endpoint;
    for (const path of ['reset-recording', 'start-recording']) {
      await (await fetch(`${endpoint}/moto-api/recorder/${path}`, { method: 'POST' })).arrayBuffer();
    }
    const platform = fixture.platform({ keepImages: 1 });
    const router = guardRouter(await createAwsRouter('aws-target-group', fixture.balancer.name, endpoint));
    await router.open();
    try {
      const green = await platform.provision('green', 'v2');
      const blue = await platform.running('blue');
      const endpoints = {
        blue: platform.endpoint!('blue', blue)!,
        green: platform.endpoint!('green', green)!,
      };
      await router.prepare(
        { blue: platform.healthTargets(blue), green: platform.healthTargets(green) },
        endpoints,
      );
      await router.setWeights(weightsAllOn('blue'));
      await router.setWeights(weightsAllOn('green'));
      await router.verify();
      await router.drain('blue', { deadline: new Date(Date.now() + 2000) });
      await router.setWeights(weightsAllOn('blue'));
      await platform.stop('green', { graceMs: 1000 });
      await platform.provision('green', 'v3');
      await platform.logs('green');
    } finally {
      await router.close();
      await platform.close();
    }
    const made = await madeActions(endpoint);
    assert.ok(made.has('ec2:DeregisterImage'), 'the pruning ran');
    assert.ok(made.has('autoscaling:ExitStandby'), 'the switch ran');
    const allowed = await documentedActions();
    assert.deepEqual([...made].filter((action) => !allowed.has(action)).sort(), [], 'made but not allowed');
  });
});
