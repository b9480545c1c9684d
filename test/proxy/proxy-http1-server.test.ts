/**
 * The proxy's own HTTP/1.1 server (src/proxy/http1/), end to end: raw client sockets talk to a
 * real builtin router in front of a real node:http backend, both on loopback. Covers what a
 * client sees of the server itself: pipelining in order, bodies and early answers, Expect:
 * 100-continue, HTTP/1.0 persistence and close-delimited bodies, bodyless responses (HEAD,
 * 204, 304), half-close, oversized heads, Date / Keep-Alive / Connection fields, leading empty
 * lines, and a client that goes away mid-response.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { waitFor } from '../support/load.js';
import { openRouter, startServer, target, type TestServer } from './support/proxy-fixture.js';

// ── a raw HTTP/1.1 client ─────────────────────────────────────────────────────

interface RawResponse {
  readonly status: number;
  /** Field values by lowercased name, in the order received. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
  /** Every byte of this response as received. */
  readonly raw: string;
}

/** The single value of a field, or undefined; fails if the field came more than once. */
function field(response: RawResponse, name: string): string | undefined {
  const values = response.headers.get(name.toLowerCase());
  if (values === undefined) return undefined;
  assert.equal(values.length, 1, `one ${name} field in ${JSON.stringify(response.raw)}`);
  return values[0];
}

/** Decodes a chunked body starting at `start`; undefined while it is incomplete. */
function decodeChunked(text: string, start: number): { body: string; end: number } | undefined {
  let offset = start;
  let body = '';
  for (;;) {
    const lineEnd = text.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const sizeText = text.slice(offset, lineEnd).split(';')[0]!;
    if (!/^[0-9A-Fa-f]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) {
      // Trailer fields, then the empty line.
      for (;;) {
        const end = text.indexOf('\r\n', offset);
        if (end === -1) return undefined;
        const line = text.slice(offset, end);
        offset = end + 2;
        if (line === '') return { body, end: offset };
      }
    }
    if (text.length < offset + size + 2) return undefined;
    body += text.slice(offset, offset + size);
    if (text.slice(offset + size, offset + size + 2) !== '\r\n')
      throw new Error('chunk data not followed by CRLF');
    offset += size + 2;
  }
}

/**
 * Splits what a client received into complete responses. `methods` are the methods of the
 * requests in order (a HEAD answer has no body); interim (1xx) answers are listed too but do
 * not use up a method. A body without Content-Length or chunked framing ends with the
 * connection, so it is complete only once `closed`. Throws on bytes that are not a response.
 */
function parseResponses(
  text: string,
  methods: readonly string[],
  closed: boolean,
): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let offset = 0;
  let index = 0;
  while (offset < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) break;
    const lines = text.slice(offset, headEnd).split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0]!);
    if (statusLine === null)
      throw new Error(
        `not a status line at byte ${offset}: ${JSON.stringify(text.slice(offset, offset + 80))}`,
      );
    const status = Number(statusLine[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const bodyStart = headEnd + 4;
    let body: string;
    let end: number;
    const method = methods[index] ?? 'GET';
    const transferEncoding = headers.get('transfer-encoding')?.join(',').toLowerCase();
    const contentLength = headers.get('content-length')?.[0];
    if ((status >= 100 && status < 200) || status === 204 || status === 304 || method === 'HEAD') {
      body = '';
      end = bodyStart;
    } else if (transferEncoding === 'chunked') {
      const decoded = decodeChunked(text, bodyStart);
      if (decoded === undefined) break;
      ({ body, end } = decoded);
    } else if (contentLength !== undefined) {
      end = bodyStart + Number(contentLength);
      if (text.length < end) break;
      body = text.slice(bodyStart, end);
    } else {
      if (!closed) break;
      end = text.length;
      body = text.slice(bodyStart);
    }
    responses.push({ status, headers, body, raw: text.slice(offset, end) });
    offset = end;
    if (status >= 200) index += 1;
  }
  return { responses, rest: text.slice(offset) };
}

class RawClient {
  readonly socket: net.Socket;
  /** The proxy ended or reset the connection. */
  closed = false;
  error: Error | undefined;
  private readonly chunks: Buffer[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    // A reset after the proxy's last answer is a way of closing, not a test failure by itself.
    this.socket.on('error', (error) => (this.error = error));
    this.socket.on('end', () => (this.closed = true));
    this.socket.on('close', () => (this.closed = true));
  }

  /** Everything received so far, as latin1 text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** One socket write; resolves once it has been handed to the kernel. */
  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  parse(methods: readonly string[] = []): { responses: RawResponse[]; rest: string } {
    return parseResponses(this.text, methods, this.closed);
  }

  /** Waits until `count` complete responses (interim ones included) have arrived. */
  async responses(count: number, methods: readonly string[] = []): Promise<RawResponse[]> {
    let responses: RawResponse[] = [];
    try {
      await waitFor(
        () => {
          responses = this.parse(methods).responses;
          return responses.length >= count;
        },
        { timeoutMs: 5_000, what: `${count} response(s)` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; received: ${JSON.stringify(this.text.slice(0, 2_000))}`);
    }
    return responses;
  }

  async waitForClose(): Promise<void> {
    await waitFor(() => this.closed, { timeoutMs: 5_000, what: 'the proxy to close the connection' });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ── the backend ───────────────────────────────────────────────────────────────

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const CHUNKED_BODY = 'hello world';
const HEAD_BODY = 'hello world';

void describe('the proxy HTTP/1.1 server', () => {
  let router: BuiltinRouter;
  let backend: TestServer;
  /** Requests the backend has read completely, in order. */
  const seen: Seen[] = [];
  /** /stream requests: the response closed before it finished (the proxy aborted it). */
  const streams: { aborted: boolean | undefined }[] = [];
  const clients = new Set<RawClient>();
  /** /upload requests: what the backend received, and whether the request closed unfinished. */
  const uploads: { received: string; closedEarly: boolean | undefined }[] = [];

  function connect(port = router.address().live.port): RawClient {
    const client = new RawClient(port);
    clients.add(client);
    return client;
  }

  before(async () => {
    backend = await startServer((req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/stream')) {
        const stream: { aborted: boolean | undefined } = { aborted: undefined };
        streams.push(stream);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        let writes = 0;
        const timer = setInterval(() => {
          writes += 1;
          if (writes < 200) res.write('more;');
          else res.end('last');
        }, 50);
        res.on('close', () => {
          clearInterval(timer);
          stream.aborted = !res.writableFinished;
        });
        return;
      }
      if (url.startsWith('/upload')) {
        const upload: (typeof uploads)[number] = { received: '', closedEarly: undefined };
        uploads.push(upload);
        req.on('data', (chunk: Buffer) => (upload.received += chunk.toString('latin1')));
        req.on('close', () => (upload.closedEarly = !req.complete));
        req.on('end', () => res.end('uploaded'));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        seen.push({ method: req.method ?? '', url, headers: req.headers, body });
        if (url.startsWith('/slow')) {
          setTimeout(() => res.end(url), 100);
        } else if (url === '/echo') {
          res.end(body);
        } else if (url === '/chunked') {
          // No Content-Length: node frames this chunked towards the proxy.
          res.write('hello ');
          res.write('world');
          res.end();
        } else if (url === '/head') {
          res.setHeader('content-length', String(HEAD_BODY.length));
          res.end(req.method === 'HEAD' ? undefined : HEAD_BODY);
        } else if (url === '/204') {
          res.writeHead(204, { 'x-kind': 'no-content' });
          res.end();
        } else if (url === '/304') {
          res.writeHead(304, { etag: '"v1"' });
          res.end();
        } else if (url === '/nodate') {
          res.sendDate = false;
          res.end(url);
        } else {
          res.end(url);
        }
      });
    });
    router = await openRouter({ clientIdleTimeout: '7s' });
    await router.prepare({ blue: [target('b1', backend.port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients.clear();
  });
  after(async () => {
    await router.close();
    await backend.close();
  });

  const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;

  void it('answers two GETs pipelined in one write in order, the slow first one before the fast second', async () => {
    const client = connect();
    await client.send(get('/slow') + get('/fast'));
    const responses = await client.responses(2);
    assert.deepEqual(
      responses.map((r) => [r.status, r.body]),
      [
        [200, '/slow'],
        [200, '/fast'],
      ],
    );
    assert.equal(client.parse().rest, '', 'nothing after the two responses');
    assert.equal(client.closed, false);
  });

  void it('answers three GETs pipelined in one write in order on the same connection', async () => {
    const client = connect();
    await client.send(get('/slow/1') + get('/fast/2') + get('/slow/3'));
    const responses = await client.responses(3);
    assert.deepEqual(
      responses.map((r) => r.body),
      ['/slow/1', '/fast/2', '/slow/3'],
    );
    // The connection is still usable after the pipelined batch.
    await client.send(get('/after'));
    const all = await client.responses(4);
    assert.equal(all[3]!.body, '/after');
    assert.equal(client.closed, false);
  });

  void it('answers a POST with a Content-Length body and a GET pipelined after it in order', async () => {
    const client = connect();
    await client.send(
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world' + get('/after-post'),
    );
    const responses = await client.responses(2);
    assert.deepEqual(
      responses.map((r) => [r.status, r.body]),
      [
        [200, 'hello world'],
        [200, '/after-post'],
      ],
    );
    const upstream = seen.filter((s) => s.url === '/echo' || s.url === '/after-post');
    assert.deepEqual(
      upstream.slice(-2).map((s) => [s.method, s.url, s.body]),
      [
        ['POST', '/echo', 'hello world'],
        ['GET', '/after-post', ''],
      ],
    );
  });

  void it('answers a chunked POST and a GET pipelined after it in order', async () => {
    const client = connect();
    await client.send(
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
        get('/after-chunked'),
    );
    const responses = await client.responses(2);
    assert.deepEqual(
      responses.map((r) => [r.status, r.body]),
      [
        [200, 'hello world'],
        [200, '/after-chunked'],
      ],
    );
    assert.equal(seen.filter((s) => s.url === '/echo').at(-1)?.body, 'hello world');
  });

  void it('sends 100 Continue before the body of an Expect: 100-continue POST, and no Expect upstream', async () => {
    const client = connect();
    await client.send('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n');
    await waitFor(() => client.text.length >= 'HTTP/1.1 100 Continue\r\n\r\n'.length, {
      timeoutMs: 5_000,
      what: 'the interim answer',
    });
    assert.equal(client.text, 'HTTP/1.1 100 Continue\r\n\r\n', 'only the interim answer before the body');
    const before = seen.length;
    await client.send('continue body');
    const responses = await client.responses(2, ['POST']);
    assert.equal(responses[0]!.status, 100);
    assert.equal(responses[1]!.status, 200);
    assert.equal(responses[1]!.body, 'continue body');
    const upstream = seen.slice(before).find((s) => s.url === '/echo');
    assert.ok(upstream !== undefined, 'the upstream got the request');
    assert.equal(upstream.body, 'continue body');
    assert.equal(upstream.headers.expect, undefined, 'the upstream never sees Expect');
  });

  void it('answers an HTTP/1.0 request without keep-alive and closes the connection', async () => {
    const client = connect();
    await client.send('GET /ten HTTP/1.0\r\nHost: a\r\n\r\n');
    await client.waitForClose();
    const { responses, rest } = client.parse();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 200);
    assert.equal(responses[0]!.body, '/ten');
    assert.equal(field(responses[0]!, 'connection')?.toLowerCase(), 'close');
    assert.equal(rest, '');
  });

  void it('keeps an HTTP/1.0 keep-alive connection open when the answer has a Content-Length', async () => {
    const client = connect();
    const request = (path: string): string =>
      `GET ${path} HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n`;
    await client.send(request('/ten/1'));
    const [first] = await client.responses(1);
    assert.equal(first!.body, '/ten/1');
    assert.equal(field(first!, 'content-length'), '6');
    assert.equal(field(first!, 'connection')?.toLowerCase(), 'keep-alive');
    assert.equal(field(first!, 'transfer-encoding'), undefined);
    assert.equal(client.closed, false);
    await client.send(request('/ten/2'));
    const responses = await client.responses(2);
    assert.equal(responses[1]!.body, '/ten/2');
    assert.equal(field(responses[1]!, 'connection')?.toLowerCase(), 'keep-alive');
    assert.equal(client.closed, false);
  });

  void it('re-frames an upstream answer without Content-Length as chunked for an HTTP/1.1 client', async () => {
    const client = connect();
    await client.send(get('/chunked'));
    const [response] = await client.responses(1);
    assert.equal(response!.status, 200);
    assert.equal(field(response!, 'transfer-encoding')?.toLowerCase(), 'chunked');
    assert.equal(field(response!, 'content-length'), undefined);
    assert.equal(response!.body, CHUNKED_BODY);
    // The chunked framing ended the body: the connection goes on.
    await client.send(get('/after-chunked-answer'));
    const responses = await client.responses(2);
    assert.equal(responses[1]!.body, '/after-chunked-answer');
  });

  void it('ends an upstream answer without Content-Length by closing the connection for an HTTP/1.0 client', async () => {
    for (const extra of ['', 'Connection: keep-alive\r\n']) {
      const client = connect();
      await client.send(`GET /chunked HTTP/1.0\r\nHost: a\r\n${extra}\r\n`);
      await client.waitForClose();
      const { responses, rest } = client.parse();
      assert.equal(responses.length, 1, `one response (${JSON.stringify(extra)})`);
      const response = responses[0]!;
      assert.equal(response.status, 200);
      assert.equal(field(response, 'transfer-encoding'), undefined, 'no Transfer-Encoding to HTTP/1.0');
      assert.equal(field(response, 'content-length'), undefined);
      assert.equal(field(response, 'connection')?.toLowerCase(), 'close');
      assert.equal(response.body, CHUNKED_BODY, 'the decoded body, delimited by the close');
      assert.equal(rest, '');
    }
  });

  void it('answers HEAD with the headers, including the upstream Content-Length, and no body; a GET follows on the same socket', async () => {
    const client = connect();
    await client.send('HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n');
    const [head] = await client.responses(1, ['HEAD']);
    assert.equal(head!.status, 200);
    assert.equal(field(head!, 'content-length'), String(HEAD_BODY.length));
    assert.equal(field(head!, 'transfer-encoding'), undefined);
    assert.equal(head!.raw, client.text, 'no byte after the head');
    await client.send(get('/head'));
    const responses = await client.responses(2, ['HEAD', 'GET']);
    assert.equal(responses[1]!.status, 200);
    assert.equal(responses[1]!.body, HEAD_BODY);
    assert.equal(client.parse(['HEAD', 'GET']).rest, '');
    assert.equal(client.closed, false);
  });

  void it('sends the whole response to a client that half-closed after its request', async () => {
    const client = connect();
    await client.send(get('/slow/half-closed'));
    client.socket.end();
    await client.waitForClose();
    const { responses, rest } = client.parse();
    assert.equal(responses.length, 1, `one complete response in ${JSON.stringify(client.text)}`);
    assert.equal(responses[0]!.status, 200);
    assert.equal(responses[0]!.body, '/slow/half-closed');
    assert.equal(rest, '');
  });

  void it('answers 431 and closes when a complete request head is larger than 16 KiB', async () => {
    const client = connect();
    await client.send(get('/big', `X-Big: ${'a'.repeat(17 * 1024)}\r\n`));
    await client.waitForClose();
    assert.match(client.text, /^HTTP\/1\.1 431 /);
    assert.ok(!seen.some((s) => s.url === '/big'), 'nothing reached the upstream');
  });

  void it('answers 431 and closes when a request head grows past 16 KiB without ending', async () => {
    const client = connect();
    await client.send(`GET /big-open HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(17 * 1024)}`);
    await client.waitForClose();
    assert.match(client.text, /^HTTP\/1\.1 431 /);
  });

  void it('answers 400 and abandons the upstream request when a chunked body turns malformed mid-way', async () => {
    const client = connect();
    const before = uploads.length;
    await client.send('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    await waitFor(() => uploads[before]?.received === 'abc', {
      timeoutMs: 5_000,
      what: 'the first chunk at the backend',
    });
    await client.send('zz\r\nmore\r\n');
    await client.waitForClose();
    const { responses } = client.parse();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.status, 400);
    assert.match(responses[0]!.body, /malformed chunk size/);
    await waitFor(() => uploads[before]!.closedEarly !== undefined, {
      timeoutMs: 5_000,
      what: 'the upstream request to be abandoned',
    });
    assert.equal(uploads[before]!.closedEarly, true, 'the upstream request closed before its body ended');
    assert.equal(uploads[before]!.received, 'abc', 'nothing after the malformed chunk reached the upstream');
  });

  void it('aborts the upstream request when the client disconnects mid-response', async () => {
    const client = connect();
    const before = streams.length;
    await client.send(get('/stream'));
    await waitFor(() => client.text.includes('first;'), { timeoutMs: 5_000, what: 'the first body bytes' });
    assert.equal(streams.length, before + 1);
    const stream = streams[before]!;
    assert.equal(stream.aborted, undefined, 'the backend is still streaming');
    client.destroy();
    await waitFor(() => stream.aborted !== undefined, {
      timeoutMs: 5_000,
      what: "the backend response's close",
    });
    assert.equal(stream.aborted, true, 'the backend response closed before it finished');
  });

  void it('adds a Date header and Keep-Alive: timeout=<idle seconds> to a keep-alive response', async () => {
    const client = connect();
    await client.send(get('/nodate'));
    const [response] = await client.responses(1);
    assert.equal(response!.body, '/nodate');
    const date = field(response!, 'date');
    assert.ok(date !== undefined, 'a Date header although the upstream sent none');
    assert.match(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(Math.abs(Date.parse(date) - Date.now()) < 5_000, `Date is now: ${date}`);
    assert.equal(field(response!, 'connection')?.toLowerCase(), 'keep-alive');
    assert.equal(field(response!, 'keep-alive'), 'timeout=7');
    assert.equal(client.closed, false);
  });

  void it('answers a Connection: close request with Connection: close and closes the connection after it', async () => {
    const client = connect();
    await client.send(get('/bye', 'Connection: close\r\n'));
    await client.waitForClose();
    const { responses, rest } = client.parse();
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.body, '/bye');
    assert.equal(field(responses[0]!, 'connection')?.toLowerCase(), 'close');
    assert.equal(field(responses[0]!, 'keep-alive'), undefined);
    assert.equal(rest, '');
  });

  void it('passes 204 and 304 answers on without a body and keeps the connection usable', async () => {
    const client = connect();
    await client.send(get('/204'));
    const [noContent] = await client.responses(1);
    assert.equal(noContent!.status, 204);
    assert.equal(field(noContent!, 'x-kind'), 'no-content');
    assert.equal(field(noContent!, 'transfer-encoding'), undefined);
    assert.equal(field(noContent!, 'content-length'), undefined);
    assert.equal(noContent!.raw, client.text, 'no byte after the 204 head');

    await client.send(get('/304'));
    const afterNotModified = await client.responses(2);
    const notModified = afterNotModified[1]!;
    assert.equal(notModified.status, 304);
    assert.equal(field(notModified, 'etag'), '"v1"');
    assert.equal(field(notModified, 'transfer-encoding'), undefined);
    assert.equal(client.parse().rest, '', 'no byte after the 304 head');

    await client.send(get('/after-304'));
    const responses = await client.responses(3);
    assert.equal(responses[2]!.body, '/after-304');
    assert.equal(client.parse().rest, '');
    assert.equal(client.closed, false);
  });

  void it('ignores empty lines before a request line', async () => {
    const client = connect();
    await client.send(`\r\n\r\n${get('/leading')}`);
    const [first] = await client.responses(1);
    assert.equal(first!.status, 200);
    assert.equal(first!.body, '/leading');
    // Also when the empty line comes in a write of its own, between two requests.
    await client.send('\r\n');
    await client.send(get('/leading/2'));
    const responses = await client.responses(2);
    assert.equal(responses[1]!.status, 200);
    assert.equal(responses[1]!.body, '/leading/2');
    assert.equal(client.closed, false);
  });

  void describe('when no slot has weight (early answers)', () => {
    let unweighted: BuiltinRouter;

    before(async () => {
      unweighted = await openRouter();
    });
    after(async () => {
      await unweighted.close();
    });

    const NO_SLOT = 'no slot receives traffic\n';

    void it('answers 503 to a 1 MB POST and closes the connection cleanly, without waiting for a body nobody reads', async () => {
      const client = connect(unweighted.address().live.port);
      const size = 1024 * 1024;
      const head = Buffer.from(
        `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`,
        'latin1',
      );
      await client.send(Buffer.concat([head, Buffer.alloc(size, 0x61)]));
      await client.waitForClose();
      const { responses, rest } = client.parse(['POST']);
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 503);
      assert.equal(responses[0]!.body, NO_SLOT);
      assert.equal(rest, '');
      assert.equal(client.error, undefined, 'closed with a FIN, not a reset that could eat the answer');
    });

    void it('answers 503 to the head of a POST before its body is sent', async () => {
      const client = connect(unweighted.address().live.port);
      await client.send('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n');
      const [early] = await client.responses(1, ['POST']);
      assert.equal(early!.status, 503);
      assert.equal(early!.body, NO_SLOT);
    });

    void it('closes the connection after a 503 to a small POST, leaving the GET pipelined behind it unanswered', async () => {
      // The answer is given before the connection has read the POST body (it is still in the
      // same buffer), so the connection closes rather than go on (http1-connection.ts onResponseEnd).
      const client = connect(unweighted.address().live.port);
      await client.send('POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' + get('/next'));
      await client.waitForClose();
      const { responses, rest } = client.parse(['POST', 'GET']);
      assert.deepEqual(
        responses.map((r) => [r.status, r.body]),
        [[503, NO_SLOT]],
      );
      assert.equal(rest, '', 'nothing after the one answer');
      assert.equal(client.error, undefined, 'closed with a FIN, not a reset');
    });

    void it('says Connection: close (and no Keep-Alive) on an early answer after which it closes the connection', async () => {
      const client = connect(unweighted.address().live.port);
      await client.send('POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
      await client.waitForClose();
      const { responses } = client.parse(['POST']);
      assert.equal(responses.length, 1);
      assert.equal(responses[0]!.status, 503);
      assert.equal(field(responses[0]!, 'connection')?.toLowerCase(), 'close');
      assert.equal(field(responses[0]!, 'keep-alive'), undefined);
    });

    void it('keeps the connection after a 503 to a GET and answers the next request sent on it', async () => {
      const client = connect(unweighted.address().live.port);
      await client.send(get('/first'));
      const [first] = await client.responses(1);
      assert.equal(first!.status, 503);
      assert.equal(field(first!, 'connection')?.toLowerCase(), 'keep-alive');
      await client.send(get('/second'));
      const responses = await client.responses(2);
      assert.equal(responses[1]!.status, 503);
      assert.equal(responses[1]!.body, NO_SLOT);
      assert.equal(client.closed, false);
    });

    void it('answers a GET pipelined in the same write behind a GET that got 503', async () => {
      // The proxy answers the first GET itself, synchronously, while the second waits in the buffer.
      const client = connect(unweighted.address().live.port);
      await client.send(get('/first') + get('/second'));
      const responses = await client.responses(2);
      assert.deepEqual(
        responses.map((r) => [r.status, r.body, field(r, 'connection')?.toLowerCase()]),
        [
          [503, NO_SLOT, 'keep-alive'],
          [503, NO_SLOT, 'keep-alive'],
        ],
      );
      assert.equal(client.closed, false);
    });
  });
});
