/**
 * `cutover status` says whether the last traffic move was read back from the data plane
 * (invariant 6, never silent): nginx in its reload mode declares `verifiable: false`, so its
 * moves are applied but not checked, and status (text, --json) says so with the reason, as the
 * deploy's progress did; the builtin router reads its table back, and status says verified,
 * through the admin API too. Real nginx in one-shot mode; a real `cutover server` for builtin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MoveVerification } from '../../src/engine/move-verification.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

interface StatusJson {
  verification: MoveVerification;
  routing: { readBack?: { kind: string } };
}

void describe('status shows an unverifiable move (nginx reload mode, one-shot)', () => {
  let daemon: RouterDaemon;
  let harness: CutoverHarness;

  before(async () => {
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {} },
      router: { config: daemon.config, url: daemon.url },
    });
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await daemon?.teardown();
    }
  });

  void it('UnverifiableRouter_StatusSaysTheMoveWasNotReadBack_WithTheReason', async () => {
    const deploy = await harness.cli(['deploy', 'v1']);
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    assert.match(deploy.stdout, /warn: move not read back: /, 'the progress said so when it happened');

    const json = await harness.cli(['status', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as StatusJson;
    assert.equal(status.verification.verified, false);
    assert.equal(status.verification.state, 'unverifiable');
    assert.match(status.verification.reason ?? '', /^the router cannot read its data plane back: .+/);
    assert.equal(status.routing.readBack?.kind, 'unverifiable');

    const text = await harness.cli(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^verified: no, unverifiable: the router cannot read its data plane back: /m);
  });
});

void describe('status shows a verified move (builtin, server)', () => {
  let harness: CutoverHarness;

  before(async () => {
    harness = await CutoverHarness.create({ releases: { v1: {} } });
    await harness.startServer();
  });
  after(async () => {
    await harness?.teardown();
  });

  void it('VerifiableRouter_StatusAndTheAdminApiSayTheMoveWasReadBack', async () => {
    const deploy = await harness.cli(['deploy', 'v1']);
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    assert.doesNotMatch(deploy.stdout, /not read back/);

    const { status, body } = await harness.api<StatusJson>('GET', '/v1/status');
    assert.equal(status, 200);
    assert.equal(body.verification.verified, true);
    assert.equal(body.verification.state, 'verified');

    const json = JSON.parse((await harness.cli(['status', '--json'])).stdout) as StatusJson;
    assert.deepEqual(json.verification, body.verification);
    assert.match((await harness.cli(['status'])).stdout, /^verified: yes \(read back from the router at /m);
  });
});
