/**
 * The webhook analysis end to end: a real `cutover server` (builtin router, process platform), a
 * switch with a 3s bake, and a local HTTP endpoint that judges releases. The endpoint fails
 * release `bad`: it is rolled back automatically during the bake, traffic back on v1, the record
 * naming the endpoint's measure and values; each request it got was signed with the shared key.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startScriptedSource, type ScriptedSource } from '../analysis/scripted-http-source.js';
import { latestDeployment } from './analysis-scenario.js';
import { CutoverHarness } from './harness.js';
import { sample } from './oneshot-scenario.js';

void describe('webhook analysis during the bake (server, builtin router)', () => {
  let harness: CutoverHarness | undefined;
  let endpoint: ScriptedSource | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the end-to-end harness did not start');
    return harness;
  };

  before(async () => {
    endpoint = await startScriptedSource();
    endpoint.answer((response, request) => {
      const { release } = JSON.parse(request.body) as { release: string };
      const verdict =
        release === 'bad'
          ? {
              verdict: 'fail',
              measure: 'checkout errors',
              observed: '7%',
              threshold: '2%',
              reason: 'carts fail',
            }
          : { verdict: 'pass' };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(verdict));
    });
    harness = await CutoverHarness.create({
      releases: { v1: {}, bad: {} },
      extraYaml: [
        'strategy: { kind: switch }',
        'analysis:',
        '  bake: 3s',
        '  interval: 500ms',
        '  providers:',
        '    - kind: webhook',
        '      name: judge',
        `      url: "${endpoint.url}/judge?token=e2e-secret-token"`,
        '      secretFile: judge.key',
      ].join('\n'),
    });
    writeFileSync(path.join(h().dir, 'judge.key'), 'judge-key');
    await h().startServer();
    const first = await h().cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
  });
  after(async () => {
    await harness?.teardown();
    await endpoint?.close();
  });

  it('a release the endpoint fails is rolled back during the bake, the record naming its values', async () => {
    const done = await h().cli(['deploy', 'bad']);
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(done.stdout, /rolled-back: rolled back automatically during the bake: judge: carts fail/);
    const record = await latestDeployment(h());
    assert.equal(record?.phase, 'rolled-back');
    assert.equal(record?.reason?.code, 'CUTOVER_E_ANALYSIS');
    assert.deepEqual(record?.reason?.analysis && { ...record.reason.analysis }, {
      verdict: 'fail',
      provider: 'judge',
      measure: 'checkout errors',
      observed: '7%',
      threshold: '2%',
      reason: 'carts fail',
    });
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v1']);
    const received = endpoint?.received ?? [];
    assert.ok(received.length > 0, 'the endpoint was asked');
    for (const request of received) {
      const timestamp = String(request.headers['x-cutover-timestamp']);
      const signature = createHmac('sha256', 'judge-key')
        .update(`${timestamp}.${request.body}`)
        .digest('hex');
      assert.equal(request.headers['x-cutover-signature'], `sha256=${signature}`);
      assert.equal((JSON.parse(request.body) as { stage: string }).stage, 'bake');
    }
    assert.doesNotMatch(
      h().serverLog + done.stdout + done.stderr,
      /e2e-secret-token/,
      'the token is never logged',
    );
  });
});
