/**
 * Notifications through a real `cutover server`: a local receiver gets every event of a
 * deploy → gate → promote → rollback → failed deploy, each with a valid signature; a Slack
 * receiver gets text; a receiver that never answers and one that is down slow or fail nothing;
 * the one-shot CLI delivers what it has before it exits.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { waitFor } from '../support/load.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

const KEY = 'e2e-signing-key';

interface Sent {
  event: string;
  app: string;
  deployment: { id: string; release: string; phase: string };
  reason?: { code: string; message: string };
  weights?: { blue: number; green: number };
  summary: string;
}

describe('notifications', () => {
  let harness: CutoverHarness;
  let webhook: WebhookReceiver;
  let slack: WebhookReceiver;
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  before(async () => {
    webhook = await WebhookReceiver.start();
    slack = await WebhookReceiver.start();
    cleanups.push(
      () => webhook.close(),
      () => slack.close(),
    );
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, v3: { files: { NEVER_HEALTHY: '1' } } },
      instances: 1,
      healthDeadline: '2s',
      extraYaml: [
        'strategy:',
        '  kind: shift',
        '  steps: [{ weight: 50, gate: manual }]',
        'notifications:',
        `  - { kind: webhook, name: ops, urlFile: webhook-url, secretFile: webhook-key, timeout: 2s }`,
        `  - { kind: slack, urlFile: slack-url, events: [promoted, rolled-back, failed] }`,
      ].join('\n'),
    });
    cleanups.push(() => harness.teardown());
    writeFileSync(path.join(harness.dir, 'webhook-url'), `${webhook.url('/hook')}\n`, { mode: 0o600 });
    writeFileSync(path.join(harness.dir, 'webhook-key'), KEY, { mode: 0o600 });
    writeFileSync(path.join(harness.dir, 'slack-url'), slack.url('/services/T0/B0/SLACKTOKEN'), {
      mode: 0o600,
    });
    await harness.startServer();
  });

  const sent = (): Sent[] => webhook.received.map((delivery) => JSON.parse(delivery.body) as Sent);
  const eventsOf = (id: string): string[] =>
    sent()
      .filter((item) => item.deployment.id === id)
      .map((item) => item.event);

  it('tells the webhook every event of a deployment, signed, and Slack the ones it asked for', async () => {
    const first = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const v1 = (JSON.parse(first.stdout) as { deployment: { id: string } }).deployment.id;
    await waitFor(() => eventsOf(v1).includes('promoted'), { timeoutMs: 10_000, what: 'v1 promoted' });
    assert.deepEqual(eventsOf(v1), ['started', 'promoted']);

    const second = await harness.cli(['deploy', 'v2', '--no-wait', '--json']);
    assert.equal(second.code, 0, second.stderr + second.stdout);
    const v2 = (JSON.parse(second.stdout) as { deployment: { id: string } }).deployment.id;
    await waitFor(() => eventsOf(v2).includes('gate'), { timeoutMs: 30_000, what: 'the 50% gate' });
    const gate = sent().find((item) => item.deployment.id === v2 && item.event === 'gate')!;
    assert.deepEqual(gate.weights, { blue: 50, green: 50 });
    assert.equal(gate.deployment.release, 'v2');
    assert.match(gate.summary, /v2 takes 50% and waits for `cutover promote`/);

    assert.equal((await harness.cli(['promote', v2])).code, 0);
    await harness.waitForPhase(v2, ['standby']);
    const rollback = await harness.cli(['rollback']);
    assert.equal(rollback.code, 0, rollback.stderr + rollback.stdout);
    await waitFor(() => eventsOf(v2).includes('rolled-back'), { timeoutMs: 10_000, what: 'the rollback' });
    assert.deepEqual(eventsOf(v2), ['started', 'gate', 'promoted', 'rolled-back']);
    const rolledBack = sent().find((item) => item.deployment.id === v2 && item.event === 'rolled-back')!;
    assert.equal(rolledBack.reason?.code, 'CUTOVER_E_ABORTED');

    const failing = await harness.cli(['deploy', 'v3', '--json']);
    assert.equal(failing.code, 1, failing.stderr + failing.stdout);
    await waitFor(() => sent().some((item) => item.event === 'failed'), {
      timeoutMs: 10_000,
      what: 'the failure',
    });
    const failed = sent().find((item) => item.event === 'failed')!;
    assert.equal(failed.deployment.release, 'v3');
    assert.equal(failed.reason?.code, 'CUTOVER_E_HEALTH');

    for (const delivery of webhook.received) {
      const timestamp = String(delivery.headers['x-cutover-timestamp']);
      const expected = createHmac('sha256', KEY).update(`${timestamp}.${delivery.body}`).digest('hex');
      assert.equal(delivery.headers['x-cutover-signature'], `sha256=${expected}`);
      assert.equal(delivery.path, '/hook');
    }
    await waitFor(() => slack.received.length === 4, { timeoutMs: 10_000, what: 'four Slack messages' });
    const texts = slack.received.map((delivery) => (JSON.parse(delivery.body) as { text: string }).text);
    assert.match(texts[0]!, /^e2e: v1 is live/);
    assert.match(texts[1]!, /^e2e: v2 is live/);
    assert.match(texts[2]!, /^e2e: v2 was rolled back: rolled back by /);
    assert.match(texts[3]!, /^e2e: deployment of v3 failed: /);
    assert.doesNotMatch(harness.serverLog, /SLACKTOKEN|e2e-signing-key/);
  });
});

describe('notifications to receivers that are down or never answer', () => {
  let harness: CutoverHarness;
  let hanging: WebhookReceiver;
  after(async () => {
    await harness?.teardown();
    await hanging?.close();
  });

  it('neither slow nor fail a deployment, and the log names the notifier, not its URL', async () => {
    hanging = await WebhookReceiver.start({ hang: true });
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {} },
      instances: 1,
      extraYaml: [
        'notifications:',
        `  - { kind: webhook, name: hung, url: "${hanging.url('/hook?token=HUNGTOKEN')}", timeout: 30s, retries: 10 }`,
        `  - { kind: slack, name: down, url: "http://127.0.0.1:9/services/DOWNTOKEN", timeout: 1s, retries: 1 }`,
      ].join('\n'),
    });
    await harness.startServer();
    for (const release of ['v1', 'v2']) {
      const deploy = await harness.cli(['deploy', release, '--json']);
      assert.equal(deploy.code, 0, deploy.stderr + deploy.stdout);
      assert.equal(await (await fetch(harness.trafficUrl)).text(), release);
    }
    // The hung receiver holds its first delivery for 30 s; everything else waits in its queue.
    assert.equal(hanging.received.length, 1);
    await waitFor(() => /"notification\.failed".*"notifier":"down"/.test(harness.serverLog), {
      timeoutMs: 15_000,
      what: 'the down receiver to be given up',
    });
    assert.doesNotMatch(harness.serverLog, /HUNGTOKEN|DOWNTOKEN/);
  });
});

describe('notifications from the one-shot CLI (no server)', () => {
  let harness: CutoverHarness | undefined;
  let daemon: RouterDaemon | undefined;
  let receiver: WebhookReceiver | undefined;
  after(async () => {
    await harness?.teardown();
    await daemon?.teardown();
    await receiver?.close();
  });

  it('are all delivered before `cutover deploy` exits', async () => {
    receiver = await WebhookReceiver.start();
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {} },
      instances: 1,
      router: { config: daemon.config, url: daemon.url },
      extraYaml: `notifications:\n  - { kind: webhook, url: "${receiver.url('/hook')}" }`,
    });
    const deploy = await harness.cli(['deploy', 'v1', '--json']);
    assert.equal(deploy.code, 0, deploy.stderr + deploy.stdout);
    // No waiting here: the CLI flushed its queue before it exited.
    assert.deepEqual(
      receiver.received.map((delivery) => delivery.headers['x-cutover-event']),
      ['started', 'promoted'],
    );
  });
});
