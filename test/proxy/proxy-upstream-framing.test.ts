import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { liveUrl, openRouter, request, target } from './support/proxy-fixture.js';

/**
 * A raw TCP upstream that answers each request head with the bytes the test chose, split into
 * separate writes, so the proxy's response parser meets every framing an upstream may use.
 */
void describe('proxy reads every upstream response framing', () => {
  let router: BuiltinRouter;
  let upstream: net.Server;
  let script: { parts: string[]; close?: boolean; pauseMs?: number } = { parts: [] };
  let connections = 0;

  before(async () => {
    upstream = net.createServer((socket) => {
      connections += 1;
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        if (!buffered.includes('\r\n\r\n')) return;
        buffered = '';
        const { parts, close, pauseMs } = script;
        let delay = Promise.resolve();
        for (const part of parts) {
          delay = delay.then(
            () =>
              new Promise<void>((resolve) => {
                // A pause makes each part a read of its own on the proxy's side.
                const next = (): void =>
                  void (pauseMs === undefined ? setImmediate(resolve) : setTimeout(resolve, pauseMs));
                socket.write(part, 'latin1', next);
              }),
          );
        }
        void delay.then(() => {
          if (close) socket.end();
        });
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    router = await openRouter();
    await router.prepare({ blue: [target('raw', (upstream.address() as net.AddressInfo).port)], green: [] });
    await router.setWeights({ blue: 100, green: 0 });
  });
  after(async () => {
    await router.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const cases: Array<{
    name: string;
    parts: string[];
    close?: boolean;
    /** Milliseconds between the parts, so each one arrives as a read of its own. */
    pauseMs?: number;
    method?: string;
    status: number;
    body: string;
    /** Response headers the client must see, as Node reads them. */
    headers?: Record<string, string>;
  }> = [
    {
      name: 'Content-Length split across writes',
      parts: ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 11\r\n\r\nhello', ' world'],
      status: 200,
      body: 'hello world',
    },
    {
      name: 'a head, a chunk size line and trailers each split across reads 30 ms apart',
      parts: [
        'HTTP/1.1 200 OK\r\nX-Before: 1\r\nTransfer-Enc',
        'oding: chunked\r\nX-After: 2\r\n\r\n',
        '0',
        'b\r\nhello world\r\n0\r\nX-Trai',
        'ler: 1\r\n\r\n',
      ],
      pauseMs: 30,
      status: 200,
      body: 'hello world',
      headers: { 'x-before': '1', 'x-after': '2' },
    },
    {
      name: 'chunked with extensions and trailers, split mid-size and mid-CRLF',
      parts: [
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r',
        '\nhello\r',
        '\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n',
        '\r\n',
      ],
      status: 200,
      body: 'hello world',
    },
    {
      name: 'an interim 100 Continue before the final answer',
      parts: ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'],
      status: 201,
      body: 'ok',
    },
    {
      name: 'a body delimited by the connection closing',
      parts: ['HTTP/1.1 200 OK\r\n\r\nuntil ', 'close'],
      close: true,
      status: 200,
      body: 'until close',
    },
    {
      name: 'HTTP/1.0 with Content-Length',
      parts: ['HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold'],
      close: true,
      status: 200,
      body: 'old',
    },
    {
      name: 'spaces and tabs around field values',
      parts: ['HTTP/1.1 200 OK\r\nContent-Length: \t 2 \t\r\nX-Empty:\r\nX-Padded:  a b\t\r\n\r\nok'],
      status: 200,
      body: 'ok',
      headers: { 'content-length': '2', 'x-empty': '', 'x-padded': 'a b' },
    },
    { name: '204 without a body', parts: ['HTTP/1.1 204 No Content\r\n\r\n'], status: 204, body: '' },
    {
      name: 'HEAD with a Content-Length and no body',
      parts: ['HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'],
      method: 'HEAD',
      status: 200,
      body: '',
    },
    {
      name: 'a malformed status line (502)',
      parts: ['HTTP/9 OK\r\n\r\n'],
      close: true,
      status: 502,
      body: 'upstream sent a malformed response: malformed status line\n',
    },
    {
      name: 'conflicting Content-Lengths (502)',
      parts: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
      status: 502,
      body: 'upstream sent a malformed response: conflicting Content-Length\n',
    },
    {
      name: 'a bad chunk size after the head (cut stream)',
      parts: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      status: -1,
      body: '',
    },
  ];

  for (const testCase of cases) {
    void it(`passes on ${testCase.name}`, async () => {
      script = { parts: testCase.parts, close: testCase.close, pauseMs: testCase.pauseMs };
      if (testCase.status === -1) {
        await assert.rejects(() => request(liveUrl(router), { method: testCase.method }));
        return;
      }
      const response = await request(liveUrl(router), { method: testCase.method });
      assert.equal(response.status, testCase.status);
      assert.equal(response.body, testCase.body);
      for (const [name, value] of Object.entries(testCase.headers ?? {}))
        assert.equal(response.headers[name], value, name);
    });
  }

  void it('does not reuse a connection on which the upstream sent more than the response', async () => {
    script = {
      parts: [
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled',
      ],
    };
    assert.equal((await request(liveUrl(router))).body, 'ok');
    const before = connections;
    script = { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nclean'] };
    assert.equal((await request(liveUrl(router))).body, 'clean');
    assert.equal(connections, before + 1, 'the out-of-step connection was closed, not pooled');
  });

  void it('reuses the upstream connection for keep-alive responses and not after Connection: close', async () => {
    script = { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'] };
    await request(liveUrl(router));
    const before = connections;
    for (let i = 0; i < 5; i += 1) await request(liveUrl(router));
    assert.equal(connections, before, 'five requests rode the pooled connection');
    script = { parts: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'], close: true };
    await request(liveUrl(router));
    await request(liveUrl(router));
    assert.equal(connections, before + 1, 'after Connection: close the next request needed a new connection');
  });
});
