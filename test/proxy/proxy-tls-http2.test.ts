import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { makeCertificate } from './support/certificate.js';
import { waitFor } from '../support/load.js';
import { openRouter, startServer, target } from './support/proxy-fixture.js';

void describe('proxy TLS termination with HTTP/2 (ALPN)', () => {
  let dir: string;
  let router: BuiltinRouter;
  let blue: VersionBackend;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-tls-'));
    const tls = makeCertificate(dir);
    blue = await startVersionBackend('blue');
    router = await openRouter({ tls });
    await router.prepare({ blue: [target('b1', blue.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await blue.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('serves HTTP/2 clients that negotiate h2', async () => {
    const session = http2.connect(`https://127.0.0.1:${router.address().live.port}`, {
      rejectUnauthorized: false,
    });
    try {
      const bodies = await Promise.all(
        [1, 2, 3].map(
          () =>
            new Promise<{ status: number; body: string; version: string | undefined }>((resolve, reject) => {
              const stream = session.request({ ':path': '/', ':method': 'GET' });
              let status = 0;
              let version: string | undefined;
              let body = '';
              stream.on('response', (headers) => {
                status = Number(headers[':status']);
                version = headers['x-version'] as string | undefined;
              });
              stream.setEncoding('utf8');
              stream.on('data', (chunk: string) => (body += chunk));
              stream.on('end', () => resolve({ status, body, version }));
              stream.on('error', reject);
            }),
        ),
      );
      assert.equal(session.alpnProtocol, 'h2');
      for (const answer of bodies) assert.deepEqual(answer, { status: 200, body: 'blue', version: 'blue' });
    } finally {
      session.close();
    }
  });

  void it('forwards an HTTP/2 request body, with or without content-length', async () => {
    const echo = await startServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => res.end(`${String(req.headers['x-forwarded-proto'])}:${body}`));
    });
    await router.prepare({ blue: [target('echo', echo.port)], green: [] });
    const session = http2.connect(`https://127.0.0.1:${router.address().live.port}`, {
      rejectUnauthorized: false,
    });
    try {
      for (const headers of [{ 'content-length': '11' }, {}]) {
        const answer = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': '/', ':method': 'POST', ...headers });
          let body = '';
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => (body += chunk));
          stream.on('end', () => resolve(body));
          stream.on('error', reject);
          stream.end('hello h2 up');
        });
        assert.equal(answer, 'https:hello h2 up');
      }
    } finally {
      session.close();
      await router.prepare({ blue: [target('b1', blue.port)], green: [] });
      await echo.close();
    }
  });

  void it('still serves HTTP/1.1 clients over TLS', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(`https://127.0.0.1:${router.address().live.port}/`, { rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'blue');
  });

  void it('closes an HTTP/2 client that reads nothing of its response for the idle timeout', async () => {
    let upstreamClosed = false;
    const big = await startServer((req, res) => {
      req.socket.once('close', () => (upstreamClosed = true));
      res.end(Buffer.alloc(16 * 1024 * 1024, 0x61));
    });
    const stalled = await openRouter({ tls: makeCertificate(dir), clientIdleTimeout: '400ms' });
    const session = http2.connect(`https://127.0.0.1:${stalled.address().live.port}`, {
      rejectUnauthorized: false,
    });
    session.on('error', () => undefined);
    try {
      await stalled.prepare({ blue: [target('big', big.port)], green: [] });
      await stalled.setWeights({ blue: 100, green: 0 });
      const stream = session.request({ ':path': '/', ':method': 'GET' });
      stream.on('error', () => undefined);
      stream.pause(); // reads nothing: flow control stops the proxy's writes
      await waitFor(() => upstreamClosed, { timeoutMs: 5_000, what: 'the upstream connection to be closed' });
    } finally {
      session.destroy();
      await stalled.close();
      await big.close();
    }
  });
});
