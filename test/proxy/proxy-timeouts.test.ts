import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { closedPort, startBlackHole, type BlackHole } from './support/black-hole.js';
import {
  liveUrl,
  openRouter,
  request,
  startServer,
  target,
  type TestServer,
} from './support/proxy-fixture.js';

void describe('proxy timeouts and upstream failures', () => {
  let router: BuiltinRouter;
  let silent: TestServer;
  let blackHole: BlackHole;

  before(async () => {
    // Answers nothing, ever: the upstream response timeout must fire.
    silent = await startServer(() => undefined);
    blackHole = await startBlackHole();
    router = await openRouter({
      upstreamConnectTimeout: '300ms',
      upstreamResponseTimeout: '400ms',
      headersTimeout: '400ms',
      clientIdleTimeout: '400ms',
    });
  });
  after(async () => {
    await router.close();
    await silent.close();
    await blackHole.close();
  });

  void it('answers 503 while no weights are set', async () => {
    const response = await request(liveUrl(router));
    assert.equal(response.status, 503);
  });

  void it('answers 503 when the live slot has no instance', async () => {
    await router.prepare({ blue: [], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
    const response = await request(liveUrl(router));
    assert.equal(response.status, 503);
    assert.match(response.body, /no healthy instance/);
  });

  void it('answers 502 saying so when the upstream connect times out', async () => {
    await router.prepare({ blue: [target('hole', blackHole.port)], green: [] });
    const response = await request(liveUrl(router));
    assert.equal(response.status, 502);
    assert.equal(response.body, 'upstream connect timeout\n');
  });

  void it('answers 502 when the upstream refuses the connection', async () => {
    await router.prepare({ blue: [target('gone', await closedPort())], green: [] });
    const response = await request(liveUrl(router), { method: 'POST', body: 'x' });
    assert.equal(response.status, 502);
    assert.equal(response.body, 'upstream connection failed\n');
  });

  void it('answers 504 saying so when the upstream does not respond in time', async () => {
    await router.prepare({ blue: [target('silent', silent.port)], green: [] });
    const response = await request(liveUrl(router));
    assert.equal(response.status, 504);
    assert.equal(response.body, 'upstream response timeout\n');
    // The workers report unasked once a second: ask them, until the 504 is in the sums.
    await waitFor(
      async () => {
        await router.refreshMetrics();
        const counters = router.metrics.snapshot().blue;
        return counters.proxyErrors >= 1 && counters.errors >= 1;
      },
      { what: 'the 504 counted as a proxy error' },
    );
  });

  void it('cuts a response whose upstream goes silent mid-body for the response timeout', async () => {
    const backend = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('first part'); // then nothing more, ever
    });
    try {
      await router.prepare({ blue: [target('stalls', backend.port)], green: [] });
      const received = await sendUntilClosed(router.address().live.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(received, /^HTTP\/1\.1 200 /);
      assert.ok(received.endsWith('\r\n\r\nfirst part'), 'the client has the part sent, then the close');
    } finally {
      await backend.close();
    }
  });

  void it('keeps a response going while its client stops reading for longer than the response timeout', async () => {
    const size = 16 * 1024 * 1024;
    const backend = await startServer((_req, res) => res.end(Buffer.alloc(size, 0x61)));
    // The client's pause (1.2 s) is past the upstream response timeout, within the idle timeout.
    const patient = await openRouter({ upstreamResponseTimeout: '400ms', clientIdleTimeout: '5s' });
    try {
      await patient.prepare({ blue: [target('fast', backend.port)], green: [] });
      await patient.setWeights({ blue: 100, green: 0 });
      const length = await new Promise<number>((resolve, reject) => {
        http
          .get(liveUrl(patient), (res) => {
            let total = 0;
            let paused = false;
            res.on('data', (chunk: Buffer) => {
              total += chunk.length;
              if (!paused) {
                // The proxy stops reading the upstream while this client does not read: the
                // upstream's silence then is not a response timeout.
                paused = true;
                res.pause();
                setTimeout(() => res.resume(), 1_200);
              }
            });
            res.on('end', () => resolve(total));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      assert.equal(length, size);
    } finally {
      await patient.close();
      await backend.close();
    }
  });

  void it('closes the connection of a client that reads nothing of its response for the idle timeout', async () => {
    let upstreamClosed = false;
    const backend = await startServer((req, res) => {
      req.socket.once('close', () => (upstreamClosed = true));
      res.end(Buffer.alloc(16 * 1024 * 1024, 0x61));
    });
    try {
      await router.prepare({ blue: [target('fast', backend.port)], green: [] });
      const socket = net.connect(router.address().live.port, '127.0.0.1');
      socket.pause(); // reads nothing, ever: the proxy's writes to it fill every buffer
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      // The proxy gives up on the client (idle timeout 400 ms) and so on the upstream exchange.
      await waitFor(() => upstreamClosed, { timeoutMs: 5_000, what: 'the upstream connection to be closed' });
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.resume();
      await closed;
      assert.ok(received < 16 * 1024 * 1024, 'the client got a cut response, then the close');
    } finally {
      await backend.close();
    }
  });

  void it('answers 408 and closes when the request head does not arrive in time', async () => {
    const received = await sendUntilClosed(
      router.address().live.port,
      'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ',
    );
    assert.match(received, /^HTTP\/1\.1 408 /);
  });

  void it('closes an idle client keep-alive connection after the idle timeout', async () => {
    const backend = await startServer((_req, res) => res.end('ok'));
    try {
      await router.prepare({ blue: [target('b1', backend.port)], green: [] });
      const socket = net.connect(router.address().live.port, '127.0.0.1');
      let received = '';
      let closed = false;
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => (closed = true));
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitFor(() => received.endsWith('ok'), { what: 'the response' });
      assert.equal(closed, false, 'the connection stays open right after a response');
      await waitFor(() => closed, { timeoutMs: 5_000, what: 'the proxy to close the idle connection' });
    } finally {
      await backend.close();
    }
  });
});

/** Writes `text` on a raw connection to the proxy; resolves with all it received once it closes. */
function sendUntilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.once('close', () => resolve(received));
    socket.write(text);
  });
}
