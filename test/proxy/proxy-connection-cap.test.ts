import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { exportProxyMetrics } from '../../src/server/proxy-metrics-exporter.js';
import { waitFor } from '../support/load.js';
import { makeCertificate } from './support/certificate.js';
import { openRouter, startServer, target, type TestServer } from './support/proxy-fixture.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: cap.test\r\n\r\n';

/** Sends one keep-alive request on the socket and resolves once its whole answer is in. */
function exchange(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onClose = (): void => reject(new Error(`closed after ${JSON.stringify(text)}`));
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.endsWith('\r\n\r\nok')) {
        socket.off('data', onData);
        socket.off('error', reject);
        socket.off('close', onClose);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', onClose);
    socket.write(REQUEST);
  });
}

/** What happens to a new connection: it is served a request, or closed with no byte sent to it. */
async function tryConnection(open: () => net.Socket, ready: string): Promise<'served' | 'refused'> {
  const socket = open();
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.on('error', () => undefined);
  const outcome = await new Promise<'open' | 'closed'>((resolve) => {
    socket.once(ready, () => resolve('open'));
    socket.once('close', () => resolve('closed'));
  });
  if (outcome === 'closed') {
    assert.equal(bytes, 0, 'a refused connection gets no bytes');
    return 'refused';
  }
  try {
    // Node may report the kernel's handshake before the proxy closes the accepted socket.
    await exchange(socket);
    return 'served';
  } catch {
    assert.equal(bytes, 0, 'a refused connection gets no bytes');
    return 'refused';
  } finally {
    socket.destroy();
  }
}

async function refusedSeries(router: BuiltinRouter): Promise<string> {
  const registry = new Registry();
  exportProxyMetrics(router.metrics, registry);
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith('cutover_proxy_connections_refused_total{'))
    .join('\n');
}

void describe('proxy client connection cap (maxConnections)', () => {
  let backend: TestServer;
  let dir: string;

  before(async () => {
    backend = await startServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-cap-'));
  });
  after(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases = [
    {
      name: 'plain',
      config: () => ({}),
      open: (port: number) => net.connect(port, '127.0.0.1'),
      ready: 'connect',
    },
    {
      name: 'TLS',
      config: () => ({ tls: makeCertificate(dir) }),
      open: (port: number) =>
        tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }),
      ready: 'secureConnect',
    },
  ] as const;

  for (const listener of cases) {
    void it(`${listener.name} listener: refuses the connection past the cap at accept, counts it, and frees a slot when one closes`, async () => {
      // maxConnections holds per worker process: one worker makes the cap the listener's.
      const router = await openRouter({ ...listener.config(), maxConnections: 3, workers: 1 });
      const held: net.Socket[] = [];
      try {
        await router.prepare({ blue: [target('b1', backend.port)], green: [] });
        await router.setWeights({ blue: 100, green: 0 });
        const port = router.address().live.port;
        // Each held connection has been served a request: the proxy has accepted it.
        for (let i = 0; i < 3; i += 1) {
          const socket = listener.open(port);
          socket.on('error', () => undefined);
          held.push(socket);
          await exchange(socket);
        }
        assert.equal(await tryConnection(() => listener.open(port), listener.ready), 'refused');
        // The worker reports its counts a few times a second.
        await waitFor(() => router.metrics.refusedConnections().live === 1, {
          what: 'the refused connection counted',
        });
        assert.match(
          await refusedSeries(router),
          /cutover_proxy_connections_refused_total\{listener="live"\} 1/,
        );

        // The held connections still work.
        assert.match(await exchange(held[0]!), /^HTTP\/1\.1 200/);

        held.pop()!.destroy();
        // The proxy notices the close on its next turn; until then a new connection may still be refused.
        await waitFor(
          async () => (await tryConnection(() => listener.open(port), listener.ready)) === 'served',
          {
            what: 'a connection to be served after one of the held ones closed',
          },
        );
      } finally {
        for (const socket of held) socket.destroy();
        await router.close();
      }
    });
  }
});
