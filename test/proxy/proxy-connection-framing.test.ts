import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { makeCertificate } from './support/certificate.js';
import { openRouter, startServer, target, type TestServer } from './support/proxy-fixture.js';
import { connectRaw, parseRawAnswer, type RawListener } from './support/raw-client.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends each request on one connection, waiting for each answer (Content-Length framed)
 * before the next: the upstream's record then shows what each request became.
 */
function sendInTurn(listener: RawListener, port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connectRaw(listener, port);
    const answers: string[] = [];
    let received = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headEnd))?.[1] ?? 0);
      if (received.length < headEnd + 4 + length) return;
      answers.push(received.slice(0, headEnd + 4 + length));
      received = received.slice(headEnd + 4 + length);
      if (answers.length === requests.length) {
        socket.destroy();
        resolve(answers);
      } else socket.write(requests[answers.length]!, 'latin1');
    });
    socket.on('close', () => reject(new Error(`closed after ${answers.length} answers: ${received}`)));
    socket.write(requests[0]!, 'latin1');
  });
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
const post = (connection: string, body = SMUGGLED): string =>
  `POST /upload HTTP/1.1\r\nHost: a\r\nConnection: ${connection}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const AFTER = 'GET /after HTTP/1.1\r\nHost: a\r\n\r\n';

for (const listener of ['plain', 'tls'] as const) {
  void describe(`Connection cannot take the request's framing or Host away (${listener} listener)`, () => {
    let router: BuiltinRouter;
    let backend: TestServer;
    let dir: string | undefined;
    const seen: Seen[] = [];

    before(async () => {
      // node:http's server (llhttp) reads what the proxy sends as strictly as a real upstream.
      backend = await startServer((req, res) => {
        let body = '';
        req.setEncoding('latin1');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
          res.end(`${req.method} ${req.url}`);
        });
      });
      if (listener === 'tls') dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-connection-'));
      router = await openRouter(dir === undefined ? {} : { tls: makeCertificate(dir) });
      await router.prepare({ blue: [target('b1', backend.port)], green: [] });
      await router.setWeights({ blue: 100, green: 0 });
    });
    after(async () => {
      await router.close();
      await backend.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    /** Sends the requests in turn on one connection; returns what the upstream read from them. */
    async function upstreamReads(requests: string[]): Promise<{ answers: string[]; reads: Seen[] }> {
      const from = seen.length;
      const port = router.address().live.port;
      const answers = await sendInTurn(listener, port, requests);
      return { answers, reads: seen.slice(from) };
    }

    for (const connection of ['content-length', 'keep-alive, Content-Length', 'CONTENT-LENGTH, x-other']) {
      void it(`sends the body of a request with Connection: ${connection} as its body, framed by the proxy's Content-Length`, async () => {
        const { answers, reads } = await upstreamReads([post(connection), AFTER]);
        assert.deepEqual(
          reads.map((read) => `${read.method} ${read.url}`),
          ['POST /upload', 'GET /after'],
          'the body was not read as a request of its own',
        );
        assert.equal(reads[0]!.body, SMUGGLED);
        assert.equal(reads[0]!.headers['content-length'], String(SMUGGLED.length));
        assert.equal(parseRawAnswer(answers[1]!).body, 'GET /after', 'the next request got its own answer');
      });
    }

    void it("does not let one client's body capture the next client's request (Cookie, Authorization) on a pooled upstream connection", async () => {
      const port = router.address().live.port;
      const from = seen.length;
      const capture = 'POST /capture HTTP/1.1\r\nHost: a\r\nContent-Length: 150\r\n\r\n';
      const [first] = await sendInTurn(listener, port, [post('content-length', capture)]);
      assert.equal(parseRawAnswer(first!).body, 'POST /upload');
      // The next client, on another connection: the proxy reuses its pooled upstream connection.
      const secret = `GET /account HTTP/1.1\r\nHost: a\r\nCookie: session=${'s'.repeat(120)}\r\nAuthorization: Bearer victim\r\n\r\n`;
      const [second] = await sendInTurn(listener, port, [secret]);
      assert.equal(parseRawAnswer(second!).body, 'GET /account', 'the second client got its own answer');
      assert.deepEqual(
        seen.slice(from).map((read) => `${read.method} ${read.url}`),
        ['POST /upload', 'GET /account'],
      );
      assert.equal(seen[from]!.body, capture);
      assert.equal(seen[from + 1]!.headers.authorization, 'Bearer victim');
    });

    void it('sends a chunked body with Connection: transfer-encoding re-chunked, never unframed', async () => {
      const body = `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`;
      const { reads } = await upstreamReads([
        `POST /upload HTTP/1.1\r\nHost: a\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
        AFTER,
      ]);
      assert.deepEqual(
        reads.map((read) => `${read.method} ${read.url}`),
        ['POST /upload', 'GET /after'],
      );
      assert.equal(reads[0]!.body, SMUGGLED);
      assert.equal(reads[0]!.headers['transfer-encoding'], 'chunked');
    });

    void it('keeps Host when Connection names it', async () => {
      const { reads } = await upstreamReads([
        'GET /h HTTP/1.1\r\nHost: app.example\r\nConnection: host\r\n\r\n',
      ]);
      assert.equal(reads[0]!.headers.host, 'app.example');
      assert.equal(reads[0]!.headers['x-forwarded-host'], 'app.example');
    });

    void it('keeps the X-Forwarded-* and X-Request-Id it sets when Connection names them', async () => {
      const { reads } = await upstreamReads([
        'GET /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-request-id\r\n\r\n',
      ]);
      const headers = reads[0]!.headers;
      assert.equal(headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
      assert.equal(headers['x-forwarded-proto'], listener === 'plain' ? 'http' : 'https');
      assert.equal(headers['x-forwarded-host'], 'a');
      assert.match(String(headers['x-request-id']), /./);
    });

    void it('still drops an end-to-end field Connection names (RFC 9110 §7.6.1)', async () => {
      const { reads } = await upstreamReads([
        'GET /x HTTP/1.1\r\nHost: a\r\nX-Hop: secret\r\nX-Kept: 1\r\nConnection: x-hop\r\n\r\n',
      ]);
      assert.equal(reads[0]!.headers['x-hop'], undefined);
      assert.equal(reads[0]!.headers['x-kept'], '1');
    });

    void it("writes its own Content-Length in plain digits, not the client's", async () => {
      const { reads } = await upstreamReads([
        'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0003\r\n\r\nabc',
      ]);
      assert.equal(reads[0]!.headers['content-length'], '3');
      assert.equal(reads[0]!.body, 'abc');
    });

    void it('passes on a declared empty body as Content-Length: 0', async () => {
      const { reads } = await upstreamReads(['POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n']);
      assert.equal(reads[0]!.headers['content-length'], '0');
    });
  });
}
