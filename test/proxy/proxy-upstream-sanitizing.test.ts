import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeCertificate } from './support/certificate.js';
import { startProxyProcess, type ProxyProcess } from './support/proxy-process.js';
import { http2Get, parseRawAnswer, rawGet } from './support/raw-client.js';
import { startScriptedUpstream, type ScriptedUpstream } from './support/scripted-upstream.js';

/** What the proxy's upstream answers, by request path: responses no HTTP library would write. */
const SCRIPT: Record<string, string> = {
  '/cr-in-value': 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok',
  '/nul-in-value': 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok',
  '/soh-in-value': 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\nok',
  '/del-in-value': 'HTTP/1.1 200 OK\r\nX-A: a\x7Fb\r\nContent-Length: 2\r\n\r\nok',
  '/space-in-name': 'HTTP/1.1 200 OK\r\nX A: b\r\nContent-Length: 2\r\n\r\nok',
  '/status-42': 'HTTP/1.1 042 Odd\r\nContent-Length: 2\r\n\r\nok',
  '/two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok',
  '/chunked-and-length':
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nb\r\nhello world\r\n0\r\n\r\n',
  '/lf-in-value': 'HTTP/1.1 200 OK\r\nX-A: b\nX-Injected: c\r\nContent-Length: 2\r\n\r\nok',
  '/bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 2\nX-B: 1\n\nok',
  '/bare-lf-chunked': 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX-B: 1\n\n5\nhello\n0\nX-Trailer: 1\n\n',
  '/two-content-types':
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok',
};

const CONTROL_CHARACTER_502 = 'upstream sent a malformed response: a control character in a header value\n';

interface Answer {
  readonly status: number;
  readonly body: string;
  /** Lower-cased name → every value, as the client got them. */
  readonly fields: Record<string, string[]>;
}

type Listener = 'plain' | 'tls' | 'h2';

// The proxy runs in a process of its own: a response that crashed it would end that process.
void describe('proxy sanitizes upstream responses on every listener', () => {
  let upstream: ScriptedUpstream;
  let proxy: ProxyProcess;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-sanitizing-'));
    makeCertificate(dir);
    upstream = await startScriptedUpstream(SCRIPT);
    proxy = await startProxyProcess(upstream.port, dir);
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function get(listener: Listener, target: string): Promise<Answer> {
    if (listener === 'h2') {
      const answer = await http2Get(proxy.tlsPort!, target);
      const fields: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined) fields[name] = Array.isArray(value) ? value : [String(value)];
      return { status: answer.status, body: answer.body, fields };
    }
    const raw = await rawGet(listener, listener === 'plain' ? proxy.plainPort : proxy.tlsPort!, target);
    return parseRawAnswer(raw);
  }

  /** The proxy still answers, and its process is alive. */
  async function assertServing(listener: Listener): Promise<void> {
    const answer = await get(listener, '/fine');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'ok');
    assert.equal(proxy.exit, undefined, 'the proxy process is alive');
  }

  for (const listener of ['plain', 'tls', 'h2'] as const) {
    for (const [target, what] of [
      ['/cr-in-value', 'a bare CR'],
      ['/nul-in-value', 'a NUL'],
      ['/soh-in-value', 'a SOH'],
      ['/del-in-value', 'a DEL'],
    ] as const) {
      void it(`answers 502 with its reason to ${what} in an upstream header value (${listener}) and serves on`, async () => {
        const answer = await get(listener, target);
        assert.equal(answer.status, 502);
        assert.equal(answer.body, CONTROL_CHARACTER_502);
        assert.equal(answer.fields['x-a'], undefined, 'nothing of the bad field reached the client');
        await assertServing(listener);
      });
    }

    void it(`answers 502 to an upstream field name that is not a token (${listener}) and serves on`, async () => {
      const answer = await get(listener, '/space-in-name');
      assert.equal(answer.status, 502);
      assert.equal(answer.body, 'upstream sent a malformed response: malformed header line\n');
      await assertServing(listener);
    });

    void it(`answers 502 to an upstream status code outside 100-599 (${listener}) and serves on`, async () => {
      const answer = await get(listener, '/status-42');
      assert.equal(answer.status, 502);
      assert.equal(answer.body, 'upstream sent a malformed response: malformed status line\n');
      await assertServing(listener);
    });

    void it(`passes one Content-Length when the upstream sent two identical ones (${listener})`, async () => {
      const answer = await get(listener, '/two-lengths');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.fields['content-length'], ['2']);
      assert.equal(answer.body, 'ok');
      await assertServing(listener);
    });

    void it(`frames an upstream answer with both Transfer-Encoding and Content-Length by Transfer-Encoding, without the Content-Length (${listener})`, async () => {
      const answer = await get(listener, '/chunked-and-length');
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'hello world');
      assert.equal(answer.fields['content-length'], undefined);
      await assertServing(listener);
    });

    void it(`reads a bare LF in an upstream head as a line end (${listener})`, async () => {
      const answer = await get(listener, '/lf-in-value');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.fields['x-a'], ['b']);
      assert.deepEqual(answer.fields['x-injected'], ['c']);
      assert.equal(answer.body, 'ok');
    });

    void it(`answers an upstream response whose lines all end in a bare LF (${listener})`, async () => {
      const answer = await get(listener, '/bare-lf');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.fields['x-b'], ['1']);
      assert.equal(answer.body, 'ok');
    });

    void it(`answers a chunked upstream response whose lines all end in a bare LF (${listener})`, async () => {
      const answer = await get(listener, '/bare-lf-chunked');
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.fields['x-b'], ['1']);
      assert.equal(answer.body, 'hello');
    });
  }

  for (const listener of ['plain', 'tls'] as const) {
    void it(`writes every header line of a re-framed answer with CRLF (${listener})`, async () => {
      for (const target of ['/lf-in-value', '/bare-lf', '/bare-lf-chunked']) {
        const raw = await rawGet(listener, listener === 'plain' ? proxy.plainPort : proxy.tlsPort!, target);
        const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
        assert.doesNotMatch(head, /\r(?!\n)|(?<!\r)\n/, target);
      }
    });
  }

  void it('answers 502 and logs CUTOVER_E_PROXY_EXCHANGE when node:http2 refuses an upstream head (two Content-Types), and serves on', async () => {
    const answer = await get('h2', '/two-content-types');
    assert.equal(answer.status, 502);
    assert.equal(answer.body, 'the proxy could not pass on the upstream response\n');
    await assertServing('h2');
    const logged = proxy.logs.find((record) => record.event === 'proxy.exchange_failed');
    assert.equal(logged?.code, 'CUTOVER_E_PROXY_EXCHANGE');
    // HTTP/1.1 carries both fields.
    assert.deepEqual((await get('plain', '/two-content-types')).fields['content-type'], [
      'text/plain',
      'text/html',
    ]);
  });
});
