/**
 * parseRequestHead, the strict HTTP/1.x request-head parser of the proxy's own server: what it
 * reads out of a well-formed head (framing, keep-alive, Expect, Upgrade) and every ambiguity a
 * request-smuggling attack relies on, which must be an error with a status, never a guess
 * (RFC 9112 §2.2, §3, §5, §6). Heads are given as the parser receives them: latin1 text
 * without the final CRLFCRLF.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitFields } from '../../../src/proxy/field-text.js';
import { ClientHttpError } from '../../../src/proxy/http1/client-http-error.js';
import { parseRequestHead } from '../../../src/proxy/http1/request-head.js';

/** Joins the lines of a head with CRLF, as they arrive on the wire (without the blank line). */
function head(...lines: string[]): string {
  return lines.join('\r\n');
}

/** The ClientHttpError `text` is refused with; fails if it is accepted or something else is thrown. */
function refusal(text: string): ClientHttpError {
  try {
    parseRequestHead(text);
  } catch (error) {
    assert.ok(error instanceof ClientHttpError, `expected a ClientHttpError, got ${String(error)}`);
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(text)}`);
}

/** Asserts `text` is refused with `status` and a short human reason. */
function assertRefused(text: string, status: number): void {
  const error = refusal(text);
  assert.equal(error.status, status, `status for ${JSON.stringify(text)} (${error.message})`);
  assert.ok(error.message.trim().length > 0, 'the reason is not empty');
  assert.ok(error.message.length <= 100, `the reason is short: ${JSON.stringify(error.message)}`);
  assert.doesNotMatch(error.message, /[\r\n]/, 'the reason is one line');
}

void describe('parseRequestHead reads a well-formed head', () => {
  void it('reads a simple GET: method, url, version, raw headers as sent, no body, keep-alive', () => {
    const parsed = parseRequestHead(
      head('GET /path?q=1 HTTP/1.1', 'Host: example.com', 'X-Mixed-Case:   padded value \t', 'accept:*/*'),
    );
    assert.equal(parsed.method, 'GET');
    assert.equal(parsed.url, '/path?q=1');
    assert.equal(parsed.httpVersionMajor, 1);
    assert.equal(parsed.httpVersionMinor, 1);
    assert.deepEqual(splitFields(parsed.fields), [
      'Host',
      'example.com',
      'X-Mixed-Case',
      'padded value',
      'accept',
      '*/*',
    ]);
    assert.equal(parsed.body, 'none');
    assert.equal(parsed.contentLength, 0);
    assert.equal(parsed.keepAlive, true);
    assert.equal(parsed.expectContinue, false);
    assert.equal(parsed.upgrade, false);
  });

  void it('keeps inner whitespace and obs-text bytes of a value and accepts an empty value', () => {
    const parsed = parseRequestHead(
      head('GET / HTTP/1.1', 'Host: a', 'X-A: b \t c', 'X-Empty:', 'X-Latin: caf\xE9'),
    );
    assert.deepEqual(splitFields(parsed.fields), [
      'Host',
      'a',
      'X-A',
      'b \t c',
      'X-Empty',
      '',
      'X-Latin',
      'caf\xE9',
    ]);
  });

  void it('reads any method token as sent, ones that begin like GET included', () => {
    for (const method of ['POST', 'PURGE', 'GETS', 'GE', 'get', 'M-SEARCH'])
      assert.equal(parseRequestHead(head(`${method} /x HTTP/1.1`, 'Host: a')).method, method);
    const parsed = parseRequestHead(head('DELETE /a%20b?c=d%20 HTTP/1.0'));
    assert.equal(parsed.method, 'DELETE');
    assert.equal(parsed.url, '/a%20b?c=d%20');
    assert.equal(parsed.httpVersionMinor, 0);
  });

  void it('accepts absolute-form and asterisk-form targets as sent', () => {
    assert.equal(parseRequestHead(head('GET http://a/x HTTP/1.1', 'Host: a')).url, 'http://a/x');
    assert.equal(parseRequestHead(head('OPTIONS * HTTP/1.1', 'Host: a')).url, '*');
  });

  void it('HTTP/1.1 with Connection: close is not keep-alive', () => {
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: close')).keepAlive, false);
    assert.equal(parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: Close')).keepAlive, false);
    assert.equal(
      parseRequestHead(head('GET / HTTP/1.1', 'Host: a', 'Connection: te, close')).keepAlive,
      false,
    );
  });

  void it('HTTP/1.0 is not keep-alive by default, and is with Connection: keep-alive', () => {
    const plain = parseRequestHead(head('GET / HTTP/1.0', 'Host: a'));
    assert.equal(plain.httpVersionMinor, 0);
    assert.equal(plain.keepAlive, false);
    assert.equal(
      parseRequestHead(head('GET / HTTP/1.0', 'Host: a', 'Connection: keep-alive')).keepAlive,
      true,
    );
    assert.equal(
      parseRequestHead(head('GET / HTTP/1.0', 'Host: a', 'Connection: Keep-Alive')).keepAlive,
      true,
    );
  });

  void it('accepts HTTP/1.0 without Host', () => {
    const parsed = parseRequestHead(head('GET / HTTP/1.0'));
    assert.equal(parsed.httpVersionMinor, 0);
    assert.deepEqual(splitFields(parsed.fields), []);
    assert.equal(parsed.body, 'none');
  });

  void it('a Content-Length body is body "length" with its size', () => {
    const parsed = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 42'));
    assert.equal(parsed.body, 'length');
    assert.equal(parsed.contentLength, 42);
    const lower = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'content-length:7 '));
    assert.equal(lower.body, 'length');
    assert.equal(lower.contentLength, 7);
  });

  void it('Content-Length: 0 is no body', () => {
    const parsed = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0'));
    assert.equal(parsed.body, 'none');
    assert.equal(parsed.contentLength, 0);
  });

  void it('Transfer-Encoding: chunked is a chunked body, whatever the case of the value', () => {
    for (const value of ['chunked', 'Chunked', 'CHUNKED']) {
      const parsed = parseRequestHead(head('POST / HTTP/1.1', 'Host: a', `Transfer-Encoding: ${value}`));
      assert.equal(parsed.body, 'chunked', value);
    }
  });

  void it('Expect: 100-continue sets expectContinue', () => {
    const parsed = parseRequestHead(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-continue'),
    );
    assert.equal(parsed.expectContinue, true);
    assert.equal(
      parseRequestHead(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-Continue'))
        .expectContinue,
      true,
    );
  });

  void it('Upgrade with Connection: Upgrade is an upgrade; Upgrade alone is not', () => {
    const upgrade = parseRequestHead(
      head('GET /ws HTTP/1.1', 'Host: a', 'Connection: keep-alive, Upgrade', 'Upgrade: websocket'),
    );
    assert.equal(upgrade.upgrade, true);
    const bare = parseRequestHead(head('GET /ws HTTP/1.1', 'Host: a', 'Upgrade: websocket'));
    assert.equal(bare.upgrade, false);
    const other = parseRequestHead(
      head('GET /ws HTTP/1.1', 'Host: a', 'Connection: keep-alive', 'Upgrade: websocket'),
    );
    assert.equal(other.upgrade, false);
    const tokenOnly = parseRequestHead(head('GET /ws HTTP/1.1', 'Host: a', 'Connection: upgrade'));
    assert.equal(tokenOnly.upgrade, false);
  });
});

void describe('parseRequestHead refuses what it cannot serve', () => {
  void it('answers an Expect other than 100-continue with 417', () => {
    assertRefused(head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: something-else'), 417);
    assertRefused(head('GET / HTTP/1.1', 'Host: a', 'Expect: 100-continue, foo'), 417);
  });

  void it('answers Expect: foo followed by Expect: 100-continue (two fields) with 417', () => {
    assertRefused(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: foo', 'Expect: 100-continue'),
      417,
    );
    assertRefused(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-continue', 'Expect: foo'),
      417,
    );
  });

  void it('accepts two Expect: 100-continue fields as one expectation', () => {
    const parsed = parseRequestHead(
      head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-continue', 'Expect: 100-continue'),
    );
    assert.equal(parsed.expectContinue, true);
    assert.equal(parsed.body, 'length');
  });

  void it('answers a version other than 1.0 and 1.1 with 505', () => {
    assertRefused(head('GET / HTTP/2.0', 'Host: a'), 505);
    assertRefused(head('GET / HTTP/1.2', 'Host: a'), 505);
    assertRefused(head('GET / HTTP/0.9', 'Host: a'), 505);
  });
});

const BAD_HEADS: Record<string, string> = {
  'Content-Length with Transfer-Encoding': head(
    'POST / HTTP/1.1',
    'Host: a',
    'Content-Length: 4',
    'Transfer-Encoding: chunked',
  ),
  'Transfer-Encoding with Content-Length: 0': head(
    'POST / HTTP/1.1',
    'Host: a',
    'Transfer-Encoding: chunked',
    'Content-Length: 0',
  ),
  'two different Content-Lengths': head(
    'POST / HTTP/1.1',
    'Host: a',
    'Content-Length: 4',
    'Content-Length: 5',
  ),
  'two equal Content-Lengths': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 4', 'Content-Length: 4'),
  'a list in Content-Length': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 4, 5'),
  'a repeated value in one Content-Length': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 4, 4'),
  'a Content-Length with a plus sign': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: +3'),
  'a negative Content-Length': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: -1'),
  'an empty Content-Length': head('POST / HTTP/1.1', 'Host: a', 'Content-Length:'),
  'a hex Content-Length': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 0x10'),
  'a Content-Length with a space inside': head('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1 2'),
  'obs-fold with a space': head('GET / HTTP/1.1', 'Host: a', 'X-A: b', ' c'),
  'obs-fold with a tab': head('GET / HTTP/1.1', 'Host: a', 'X-A: b', '\tc'),
  'obs-fold right after the request line': head('GET / HTTP/1.1', ' Host: a'),
  'Transfer-Encoding: chunked, gzip': head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked, gzip'),
  'Transfer-Encoding: gzip, chunked': head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'),
  'Transfer-Encoding: xchunked': head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: xchunked'),
  'Transfer-Encoding: identity': head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: identity'),
  'two Transfer-Encoding fields': head(
    'POST / HTTP/1.1',
    'Host: a',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: chunked',
  ),
  'a space before the colon': head('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding : chunked'),
  'a tab before the colon': head('POST / HTTP/1.1', 'Host: a', 'Content-Length\t: 3'),
  'a header name that is not a token': head('GET / HTTP/1.1', 'Host: a', 'X(A): b'),
  'a header name with a slash': head('GET / HTTP/1.1', 'Host: a', 'X/A: b'),
  'an empty header name': head('GET / HTTP/1.1', 'Host: a', ': b'),
  'a header line without a colon': head('GET / HTTP/1.1', 'Host: a', 'X-A b'),
  'a bare LF between fields': 'GET / HTTP/1.1\r\nHost: a\nX-A: b',
  'a bare LF after the request line': 'GET / HTTP/1.1\nHost: a',
  'a CR inside a field value': head('GET / HTTP/1.1', 'Host: a', 'X-A: b\rc'),
  'a CR at the end of the head': 'GET / HTTP/1.1\r\nHost: a\r',
  'a NUL in a field value': head('GET / HTTP/1.1', 'Host: a', 'X-A: b\x00c'),
  'a DEL in a field value': head('GET / HTTP/1.1', 'Host: a', 'X-A: b\x7Fc'),
  'an ESC in a field value': head('GET / HTTP/1.1', 'Host: a', 'X-A: b\x1Bc'),
  'a control character at the end of a field value': head('GET / HTTP/1.1', 'Host: a', 'X-A: b\x01'),
  'a control character in the request target': head('GET /a\x01b HTTP/1.1', 'Host: a'),
  'a bare CR in the request line': head('GET /a\rb HTTP/1.1', 'Host: a'),
  'a bare LF in the request target': 'GET /a\nb HTTP/1.1\r\nHost: a',
  'an empty line inside the head': head('GET / HTTP/1.1', 'Host: a', '', 'X-A: b'),
  'a missing Host on HTTP/1.1': head('GET / HTTP/1.1', 'X-A: b'),
  'two Host fields': head('GET / HTTP/1.1', 'Host: a', 'Host: b'),
  'two Host fields, differently cased': head('GET / HTTP/1.1', 'Host: a', 'host: a'),
  'two Host fields on HTTP/1.0': head('GET / HTTP/1.0', 'Host: a', 'Host: b'),
  'Transfer-Encoding on HTTP/1.0': head('POST / HTTP/1.0', 'Host: a', 'Transfer-Encoding: chunked'),
  'two spaces in the request line': head('GET  / HTTP/1.1', 'Host: a'),
  'a request line without a version': head('GET /', 'Host: a'),
  'a request line without a target': head('GET HTTP/1.1', 'Host: a'),
  'a lowercase http version': head('GET / http/1.1', 'Host: a'),
  'a trailing space in the request line': head('GET / HTTP/1.1 ', 'Host: a'),
  'a leading space in the request line': head(' GET / HTTP/1.1', 'Host: a'),
  'a tab in the request line': head('GET\t/ HTTP/1.1', 'Host: a'),
  'a method that is not a token': head('G(T / HTTP/1.1', 'Host: a'),
  'an empty head': '',
};

void describe('parseRequestHead answers 400 to an ambiguous or malformed head', () => {
  for (const [name, text] of Object.entries(BAD_HEADS)) {
    void it(`refuses ${name}`, () => {
      assertRefused(text, 400);
    });
  }
});
