import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { parseRequestStream, type ParsedRequest } from './fuzz/strict-request-parser.js';
import { makeCertificate } from './support/certificate.js';
import { openRouter, target } from './support/proxy-fixture.js';

/** What HTTP/2 requests become upstream, read by the fuzz test's strict parser ('upstream' mode). */
void describe('proxy frames HTTP/2 requests for its HTTP/1.1 upstream', () => {
  let dir: string;
  let router: BuiltinRouter;
  let upstream: net.Server;
  const received: string[] = [];

  before(async () => {
    upstream = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        const parsed = parseRequestStream(buffered, 'upstream');
        for (const request of parsed.requests) {
          received.push(buffered.slice(0, request.end));
          buffered = buffered.slice(request.end);
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
        if (parsed.stop === 'error') {
          received.push(`refused (${parsed.error}): ${buffered}`);
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-h2-framing-'));
    router = await openRouter({ tls: makeCertificate(dir) });
    await router.prepare({ blue: [target('raw', (upstream.address() as net.AddressInfo).port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  /** One HTTP/2 request; returns what the upstream read for it, strictly parsed. */
  async function forwarded(headers: http2.OutgoingHttpHeaders, body?: string): Promise<ParsedRequest> {
    const from = received.length;
    const session = http2.connect(`https://127.0.0.1:${router.address().live.port}`, {
      rejectUnauthorized: false,
    });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        session.on('error', reject);
        const stream = session.request(headers);
        stream.on('response', (answer) => resolve(Number(answer[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.end(body);
      });
      assert.equal(status, 200, received.slice(from).join('\n'));
    } finally {
      session.close();
    }
    const raw = received[from]!;
    const parsed = parseRequestStream(raw, 'upstream');
    assert.equal(parsed.requests.length, 1, raw);
    return parsed.requests[0]!;
  }

  const hosts = (request: ParsedRequest): string[] =>
    request.fields.filter(([name]) => name.toLowerCase() === 'host').map(([, value]) => value);

  void it('sends one Host, the request authority, never a second one naming the instance', async () => {
    const request = await forwarded({ ':method': 'GET', ':path': '/h2', ':authority': 'app.example' });
    assert.deepEqual(hosts(request), ['app.example']);
  });

  void it('frames a body with a content-length with its own Content-Length, and one without it as chunked', async () => {
    const sized = await forwarded({ ':method': 'POST', ':path': '/a', 'content-length': '5' }, 'hello');
    assert.deepEqual(
      sized.fields.filter(([name]) => /^(content-length|transfer-encoding)$/i.test(name)),
      [['Content-Length', '5']],
    );
    assert.equal(sized.body, 'hello');
    const streamed = await forwarded({ ':method': 'POST', ':path': '/b' }, 'world');
    assert.deepEqual(
      streamed.fields.filter(([name]) => /^(content-length|transfer-encoding)$/i.test(name)),
      [['Transfer-Encoding', 'chunked']],
    );
    assert.equal(streamed.body, 'world');
  });
});
