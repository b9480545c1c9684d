import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
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
import { openRouter, target } from './support/proxy-fixture.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.js';

/**
 * A request the body limits refuse with 408 is recorded with that status, on /metrics and for
 * the request observer: not as 499 (client gone, as the plain listener recorded it) nor with
 * status 0 (as the TLS listener did).
 */

type Client = 'HTTP/1.1 on the plain listener' | 'HTTP/1.1 on the TLS listener' | 'HTTP/2';
const CLIENTS: readonly Client[] = [
  'HTTP/1.1 on the plain listener',
  'HTTP/1.1 on the TLS listener',
  'HTTP/2',
];
/** The whole body must arrive within this; the test's body never does. */
const BODY_TIMEOUT = '1s';

/** Sends a head announcing 1000 body bytes and one byte of it; resolves with the status the proxy answered. */
async function sendBodyThatNeverEnds(router: BuiltinRouter, client: Client): Promise<number> {
  const port = router.address().live.port;
  if (client === 'HTTP/2') {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', () => undefined);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '1000' });
      stream.on('error', () => undefined);
      stream.write('x');
      return await new Promise<number>((resolve) =>
        stream.on('response', (headers) => resolve(Number(headers[':status']))),
      );
    } finally {
      session.destroy();
    }
  }
  const socket =
    client === 'HTTP/1.1 on the plain listener'
      ? net.connect(port, '127.0.0.1')
      : tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write('POST /upload HTTP/1.1\r\nHost: refusal.test\r\nContent-Length: 1000\r\n\r\nx');
  await closed;
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
  assert.ok(status !== null, `no status line in ${JSON.stringify(answer)}`);
  return Number(status[1]);
}

void describe('a request refused for its body limits', () => {
  let upstream: RecordingUpstream;
  let dir: string;
  let certificate: { cert: string; key: string };
  before(async () => {
    upstream = await startRecordingUpstream();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-refusal-metrics-'));
    certificate = makeCertificate(dir);
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function routerFor(client: Client): Promise<BuiltinRouter> {
    const router = await openRouter({
      bodyTimeout: BODY_TIMEOUT,
      bodyMinRate: 0,
      ...(client === 'HTTP/1.1 on the plain listener' ? {} : { tls: certificate }),
    });
    await router.prepare({ blue: [target('b1', upstream.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
    return router;
  }

  for (const client of CLIENTS) {
    void it(`is recorded with status 408 and reason refused (${client})`, { timeout: 20_000 }, async () => {
      const router = await routerFor(client);
      try {
        assert.equal(await sendBodyThatNeverEnds(router, client), 408);
        await waitFor(
          async () => {
            await router.refreshMetrics();
            return router.metrics.snapshot().blue.requests > 0;
          },
          {
            what: 'the refused request to be recorded',
          },
        );
        const { blue, green } = router.metrics.snapshot();
        assert.equal(blue.requests, 1);
        assert.equal(green.requests, 0);
        assert.deepEqual(blue.statusClasses, [0, 0, 0, 0, 1, 0], 'one 4xx');
        assert.deepEqual(blue.cuts, { 'client-closed': 0, 'client-body-incomplete': 0, refused: 1 });
        assert.equal(blue.proxyErrors, 0);
      } finally {
        await router.close();
      }
    });

    void it(
      `is counted on /metrics as 4xx and as refused, never 0xx (${client})`,
      { timeout: 20_000 },
      async () => {
        const router = await routerFor(client);
        const registry = new Registry();
        exportProxyMetrics(router.metrics, registry);
        try {
          assert.equal(await sendBodyThatNeverEnds(router, client), 408);
          const counted = async (): Promise<string> => registry.metrics();
          await waitFor(async () => /cutover_proxy_requests_total\{/.test(await counted()), {
            what: 'the refused request on /metrics',
          });
          const text = await counted();
          assert.match(text, /^cutover_proxy_requests_total\{slot="blue",code_class="4xx"\} 1$/m);
          assert.doesNotMatch(text, /code_class="0xx"/);
          assert.match(text, /^cutover_proxy_requests_cut_total\{slot="blue",reason="refused"\} 1$/m);
          assert.doesNotMatch(text, /reason="client-/);
        } finally {
          await router.close();
        }
      },
    );
  }
});
