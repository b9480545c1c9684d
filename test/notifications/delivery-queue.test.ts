/**
 * One notifier's deliveries against a real local receiver: order, retries with the same
 * delivery id, a fresh valid signature per attempt, bounded waits, no URL in any log line.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { DeliveryQueue, QUEUE_LIMIT, type DeliveryTarget } from '../../src/notifications/delivery.js';
import { Logger } from '../../src/shared/logger.js';
import { waitFor } from '../support/load.js';
import { WebhookReceiver, type ReceiverBehaviour } from '../support/webhook-receiver.js';

const KEY = Buffer.from('a signing key that is long enough\n');
const receivers: WebhookReceiver[] = [];
after(() => Promise.all(receivers.map((receiver) => receiver.close())));

function captured(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: new Logger((record) => lines.push(record), 'debug'), lines };
}

async function receiver(behaviour: ReceiverBehaviour = {}): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(behaviour);
  receivers.push(started);
  return started;
}

function target(url: string, overrides: Partial<DeliveryTarget> = {}): DeliveryTarget {
  return { name: 'ops', url, timeoutMs: 2_000, retries: 3, signingKey: KEY, ...overrides };
}

function signatureValid(headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const timestamp = String(headers['x-cutover-timestamp']);
  const expected = `sha256=${createHmac('sha256', KEY).update(`${timestamp}.${body}`).digest('hex')}`;
  return headers['x-cutover-signature'] === expected;
}

describe('DeliveryQueue', () => {
  it('posts each document in order, signed, with its event and a delivery id', async () => {
    const sink = await receiver();
    const { logger } = captured();
    const queue = new DeliveryQueue(target(sink.url()), logger, 'cutover/test');
    queue.enqueue('started', '{"n":1}');
    queue.enqueue('promoted', '{"n":2}');
    await waitFor(() => sink.received.length === 2, { timeoutMs: 5_000, what: 'two deliveries' });
    await queue.close();
    assert.deepEqual(
      sink.received.map((delivery) => [delivery.headers['x-cutover-event'], delivery.body]),
      [
        ['started', '{"n":1}'],
        ['promoted', '{"n":2}'],
      ],
    );
    for (const delivery of sink.received) {
      assert.ok(signatureValid(delivery.headers, delivery.body), 'the signature verifies with the key');
      assert.equal(delivery.headers['content-type'], 'application/json');
      assert.equal(delivery.headers['user-agent'], 'cutover/test');
      assert.match(String(delivery.headers['x-cutover-delivery']), /^[0-9a-f-]{36}$/);
    }
  });

  it('retries a refused delivery with the same delivery id until the receiver takes it', async () => {
    const sink = await receiver({ failFirst: [500, 503] });
    const { logger, lines } = captured();
    const queue = new DeliveryQueue(target(sink.url()), logger, 'cutover/test');
    queue.enqueue('failed', '{"n":1}');
    await waitFor(() => sink.received.length === 3, { timeoutMs: 10_000, what: 'the third attempt' });
    await queue.close();
    assert.equal(new Set(sink.received.map((delivery) => delivery.headers['x-cutover-delivery'])).size, 1);
    assert.ok(sink.received.every((delivery) => signatureValid(delivery.headers, delivery.body)));
    assert.deepEqual(
      lines.filter((line) => line.event === 'notification.retrying').map((line) => line.error),
      ['HTTP 500', 'HTTP 503'],
    );
  });

  it('gives up after its retries, saying why in words that hold no URL or token', async () => {
    const closed = await freeClosedPort();
    const url = `http://127.0.0.1:${closed}/services/T000/B000/SECRETTOKEN`;
    const { logger, lines } = captured();
    const queue = new DeliveryQueue(target(url, { retries: 1 }), logger, 'cutover/test');
    queue.enqueue('failed', '{}');
    await waitFor(() => lines.some((line) => line.event === 'notification.failed'), {
      timeoutMs: 10_000,
      what: 'the delivery to be given up',
    });
    await queue.close();
    const failed = lines.find((line) => line.event === 'notification.failed')!;
    assert.equal(failed.error, 'ECONNREFUSED');
    assert.equal(failed.notifier, 'ops');
    assert.doesNotMatch(JSON.stringify(lines), /SECRETTOKEN|services\/T000/);
  });

  it('enqueue never waits, and close gives a receiver that never answers one bounded last try', async () => {
    const sink = await receiver({ hang: true });
    const { logger, lines } = captured();
    const queue = new DeliveryQueue(
      target(sink.url(), { timeoutMs: 300, retries: 5 }),
      logger,
      'cutover/test',
    );
    for (let n = 0; n < 3; n += 1) queue.enqueue('gate', `{"n":${n}}`);
    await waitFor(() => sink.received.length === 1, { timeoutMs: 5_000, what: 'the first attempt' });
    await queue.close();
    // The hung attempt timed out, its retries were cut short by close, and what was queued
    // behind it after the deadline is dropped and logged rather than held.
    assert.ok(lines.some((line) => line.event === 'notification.failed'));
    assert.ok(
      lines.some((line) => line.event === 'notification.dropped'),
      JSON.stringify(lines),
    );
    queue.enqueue('gate', '{"late":true}');
    assert.ok(
      !sink.received.some((delivery) => delivery.body.includes('late')),
      'nothing is sent after close',
    );
  });

  it('an event enqueued just as the drain loop finds the queue empty is still sent, at any microtask depth', async () => {
    // The loop ends in the step that finds the queue empty; an enqueue a few microtasks after
    // the last delivery lands between that step and whatever marks the loop finished. Were the
    // mark late (a .finally after the loop's promise), that event would wait forever.
    for (let depth = 0; depth <= 12; depth += 1) {
      const sink = await receiver();
      const late: { queue?: DeliveryQueue } = {};
      let enqueued = false;
      const logger = new Logger((record) => {
        if (record.event !== 'notification.sent' || enqueued) return;
        enqueued = true;
        let chain = Promise.resolve();
        for (let i = 0; i < depth; i += 1) chain = chain.then(() => undefined);
        void chain.then(() => late.queue?.enqueue('promoted', '{"n":2}'));
      }, 'debug');
      const queue = new DeliveryQueue(target(sink.url()), logger, 'cutover/test');
      late.queue = queue;
      queue.enqueue('started', '{"n":1}');
      await waitFor(() => sink.received.length === 2, {
        timeoutMs: 3_000,
        what: `the event enqueued ${depth} microtasks after the first delivery`,
      });
      await queue.close();
    }
  });

  it('keeps at most QUEUE_LIMIT events waiting, dropping the oldest and saying so', async () => {
    const sink = await receiver({ hang: true });
    const { logger, lines } = captured();
    const queue = new DeliveryQueue(
      target(sink.url(), { timeoutMs: 200, retries: 0 }),
      logger,
      'cutover/test',
    );
    for (let n = 0; n < QUEUE_LIMIT + 5; n += 1) queue.enqueue('gate', `{"n":${n}}`);
    const dropped = lines.filter((line) => line.event === 'notification.dropped');
    assert.ok(dropped.length >= 4, `dropped ${dropped.length}`);
    await queue.close();
  });
});

/** A port nothing listens on: bound, then closed. */
async function freeClosedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
