import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { liveUrl, openRouter, request, target } from './support/proxy-fixture.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.js';

/** A raw client connection to the proxy, collecting what it answers. */
function rawClient(port: number): { socket: net.Socket; answer: () => string; closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, answer: () => text, closed };
}

/** Requests (and WebSockets) in flight to the blue slot, as the router counts them for draining. */
async function inFlightOnBlue(router: BuiltinRouter): Promise<number> {
  const status = await router.drainStatus('blue');
  assert.equal(status.kind, 'counted');
  return status.kind === 'counted' ? status.inFlight : -1;
}

function answered(client: { answer: () => string }): Promise<void> {
  return waitFor(() => client.answer().endsWith('\r\n\r\nok'), { what: 'the proxied answer' });
}

void describe('proxy request buffering (requestBuffering.maxBodyBytes)', () => {
  let upstream: RecordingUpstream;
  let router: BuiltinRouter;
  /** Set once the test client has written the last byte of the request body under test. */
  let clientSentWholeBody = false;
  /** Request lines the upstream received, each with whether the client had sent its whole body by then. */
  const arrivals: Array<{ line: string; wholeBodySent: boolean }> = [];

  before(async () => {
    upstream = await startRecordingUpstream((line) =>
      arrivals.push({ line, wholeBodySent: clientSentWholeBody }),
    );
    router = await openRouter({ requestBuffering: { maxBodyBytes: 1024 } });
    await router.prepare({ blue: [target('b1', upstream.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await upstream.close();
  });

  void it('reads a body within the limit whole before the upstream sees a connection or the request', async () => {
    clientSentWholeBody = false;
    const connectionsBefore = upstream.closes.length;
    const client = rawClient(router.address().live.port);
    client.socket.write(
      `POST /small HTTP/1.1\r\nHost: buffer.test\r\nContent-Length: 100\r\n\r\n${'a'.repeat(50)}`,
    );
    // A request on another client connection, answered through the same upstream: by its answer the
    // proxy has long read the first client's head and half body.
    const barrier = await request(liveUrl(router, '/barrier'));
    assert.equal(barrier.status, 200);
    assert.equal(
      upstream.closes.length,
      connectionsBefore + 1,
      'only the barrier request opened a connection',
    );
    assert.ok(
      !upstream.heads.includes('POST /small HTTP/1.1'),
      'the upstream saw the request before its body was in',
    );
    assert.equal(await inFlightOnBlue(router), 0, 'the held request is not in flight to the slot');

    clientSentWholeBody = true;
    client.socket.write('b'.repeat(50));
    await answered(client);
    assert.match(client.answer(), /^HTTP\/1\.1 200 OK\r\n/);
    const arrival = arrivals.find((entry) => entry.line === 'POST /small HTTP/1.1');
    assert.deepEqual(arrival, { line: 'POST /small HTTP/1.1', wholeBodySent: true });
    client.socket.destroy();
  });

  void it('streams a body whose Content-Length is over the limit as it arrives', async () => {
    clientSentWholeBody = false;
    const client = rawClient(router.address().live.port);
    client.socket.write(
      `POST /large HTTP/1.1\r\nHost: buffer.test\r\nContent-Length: 4000\r\n\r\n${'a'.repeat(100)}`,
    );
    await waitFor(() => upstream.heads.includes('POST /large HTTP/1.1'), {
      what: 'the upstream to see the large request before its body is complete',
    });
    clientSentWholeBody = true;
    client.socket.write('b'.repeat(3900));
    await answered(client);
    assert.deepEqual(
      arrivals.find((entry) => entry.line === 'POST /large HTTP/1.1'),
      { line: 'POST /large HTTP/1.1', wholeBodySent: false },
    );
    client.socket.destroy();
  });

  void it('starts streaming a chunked body once it grows past the limit', async () => {
    clientSentWholeBody = false;
    const client = rawClient(router.address().live.port);
    const piece = 'c'.repeat(2000);
    client.socket.write(
      `POST /chunked HTTP/1.1\r\nHost: buffer.test\r\nTransfer-Encoding: chunked\r\n\r\n${piece.length.toString(16)}\r\n${piece}\r\n`,
    );
    await waitFor(() => upstream.heads.includes('POST /chunked HTTP/1.1'), {
      what: 'the upstream to see the chunked request once its body passed the limit',
    });
    clientSentWholeBody = true;
    client.socket.write('0\r\n\r\n');
    await answered(client);
    client.socket.destroy();
  });

  void it('holds a small chunked body whole too', async () => {
    clientSentWholeBody = false;
    const client = rawClient(router.address().live.port);
    client.socket.write(
      'POST /small-chunked HTTP/1.1\r\nHost: buffer.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
    );
    const barrier = await request(liveUrl(router, '/barrier-2'));
    assert.equal(barrier.status, 200);
    assert.ok(!upstream.heads.includes('POST /small-chunked HTTP/1.1'));
    assert.equal(await inFlightOnBlue(router), 0, 'the held request is not in flight to the slot');
    clientSentWholeBody = true;
    client.socket.write('0\r\n\r\n');
    await answered(client);
    assert.deepEqual(
      arrivals.find((entry) => entry.line === 'POST /small-chunked HTTP/1.1'),
      { line: 'POST /small-chunked HTTP/1.1', wholeBodySent: true },
    );
    client.socket.destroy();
  });

  void it('routes nothing when the client leaves while its body is held', async () => {
    const client = rawClient(router.address().live.port);
    client.socket.write(
      `POST /abandoned HTTP/1.1\r\nHost: buffer.test\r\nContent-Length: 100\r\n\r\n${'a'.repeat(10)}`,
    );
    client.socket.destroy();
    await client.closed;
    // Another request after the client left: by its answer the proxy has seen the close.
    assert.equal((await request(liveUrl(router, '/barrier-3'))).status, 200);
    assert.ok(!upstream.heads.includes('POST /abandoned HTTP/1.1'));
  });
});
