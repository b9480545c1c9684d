/**
 * The preview token end to end, through a real `cutover server` with the builtin router: it is
 * not the admin token (the admin token once was the preview secret, sent on the public
 * listener and handed to the smoke hook), the smoke hook reaches the idle release with the
 * documented recipe, and the hook's environment holds no admin token.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CutoverHarness } from './harness.js';

describe('preview token through cutover server (builtin router)', () => {
  let harness: CutoverHarness;
  let deploymentId: string;
  const adminToken = randomBytes(32).toString('base64url');
  const saved = process.env.CUTOVER_ADMIN_TOKEN;

  before(async () => {
    // The admin token in cutover's environment: no child may inherit it.
    process.env.CUTOVER_ADMIN_TOKEN = adminToken;
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      extraYaml: [
        'strategy: { kind: switch, promotion: manual }',
        'hooks:',
        // What the smoke hook sees, then the init template's recipe against `/` (the version).
        `  smoke: env | grep -E '^(CUTOVER_|PREVIEW_)' > smoke-env.txt; curl -fsS -H "$PREVIEW_HEADER" "$PREVIEW_URL/" > smoke-answer.txt`,
      ].join('\n'),
    });
    await harness.startServer();
    const first = await harness.cli(['deploy', 'v1', '--no-wait', '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const v1 = (JSON.parse(first.stdout) as { deployment: { id: string } }).deployment.id;
    await harness.waitForPhase(v1, ['awaiting-promotion'], 60_000);
    const promoted = await harness.cli(['promote', v1, '--json']);
    assert.equal(promoted.code, 0, promoted.stderr + promoted.stdout);
    await harness.waitForPhase(v1, ['standby', 'retired'], 60_000);
    const second = await harness.cli(['deploy', 'v2', '--no-wait', '--json']);
    assert.equal(second.code, 0, second.stderr + second.stdout);
    deploymentId = (JSON.parse(second.stdout) as { deployment: { id: string } }).deployment.id;
    await harness.waitForPhase(deploymentId, ['awaiting-promotion'], 60_000);
  });

  after(async () => {
    if (saved === undefined) delete process.env.CUTOVER_ADMIN_TOKEN;
    else process.env.CUTOVER_ADMIN_TOKEN = saved;
    await harness?.teardown();
  });

  const previewToken = () => readFileSync(path.join(harness.stateDir, 'preview-token'), 'utf8').trim();
  const get = async (headers: Record<string, string> = {}) =>
    (await fetch(`${harness.trafficUrl}/`, { headers })).text();

  it('the smoke hook reached the idle release (v2) with the documented recipe, while v1 is live', async () => {
    assert.equal(readFileSync(path.join(harness.dir, 'smoke-answer.txt'), 'utf8').trim(), 'v2');
    assert.equal(await get(), 'v1');
  });

  it('the smoke hook got the preview token in PREVIEW_HEADER, and never the admin token', () => {
    const seen = readFileSync(path.join(harness.dir, 'smoke-env.txt'), 'utf8');
    assert.match(seen, new RegExp(`^PREVIEW_HEADER=x-cutover-preview: ${previewToken()}$`, 'm'));
    assert.ok(!seen.includes(adminToken), 'the admin token is nowhere in the hook environment');
    assert.doesNotMatch(seen, /^CUTOVER_ADMIN_TOKEN=/m);
    assert.doesNotMatch(seen, /^CUTOVER_PREVIEW_TOKEN=/m);
  });

  it('the preview token differs from the admin token, and only it reaches the idle slot', async () => {
    assert.notEqual(previewToken(), adminToken);
    assert.equal(await get({ 'x-cutover-preview': previewToken() }), 'v2');
    assert.equal(await get({ 'x-cutover-preview': adminToken }), 'v1', 'the admin token opens nothing');
    assert.equal(await get({ 'x-cutover-preview': 'green' }), 'v1');
  });
});
