import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParseError } from '../../src/proxy/response-parse-error.js';
import { HOP_BY_HOP } from '../../src/proxy/forwarded-headers.js';
import { UpstreamHead } from '../../src/proxy/upstream-head.js';

/** The field lines of a head, each ending in CRLF, as the parser hands them over. */
const fields = (...lines: string[]): string => lines.map((line) => `${line}\r\n`).join('');

void describe('UpstreamHead reads what framing and persistence need', () => {
  void it('reads Content-Length, Date and the Keep-Alive hint, whatever their case', () => {
    const head = new UpstreamHead(
      200,
      1,
      fields(
        'server: x',
        'DATE: Mon, 23 Nov 2026 00:00:00 GMT',
        'content-LENGTH:  12 ',
        'Keep-Alive: timeout=5',
      ),
    );
    assert.equal(head.contentLength, 12);
    assert.equal(head.hasDate, true);
    assert.equal(head.keepAlive, 'timeout=5');
    assert.equal(head.connectionClose, false);
    assert.equal(head.hasTransferEncoding, false);
  });

  void it('reads chunked only when it is the last transfer coding', () => {
    assert.equal(new UpstreamHead(200, 1, fields('Transfer-Encoding: gzip, chunked')).chunked, true);
    const notLast = new UpstreamHead(200, 1, fields('Transfer-Encoding: chunked, gzip'));
    assert.equal(notLast.hasTransferEncoding, true);
    assert.equal(notLast.chunked, false);
  });

  void it('persists by default on HTTP/1.1 and only with keep-alive on HTTP/1.0', () => {
    assert.equal(new UpstreamHead(200, 1, '').connectionClose, false);
    assert.equal(new UpstreamHead(200, 1, fields('Connection: close')).connectionClose, true);
    assert.equal(new UpstreamHead(200, 1, fields('Connection: Keep-Alive, Close')).connectionClose, true);
    assert.equal(new UpstreamHead(200, 0, '').connectionClose, true);
    assert.equal(new UpstreamHead(200, 0, fields('Connection: keep-alive')).connectionClose, false);
  });

  void it('refuses a line without a colon, an empty name, obs-fold and conflicting Content-Lengths', () => {
    for (const bad of [
      fields('no colon here'),
      fields(': empty name'),
      fields('X-A: b', ' folded'),
      fields('X-A: b', '\tfolded'),
      fields('Content-Length: 3', 'Content-Length: 4'),
      fields('Content-Length: 3, 3'),
      fields('Content-Length: -1'),
    ]) {
      assert.throws(() => new UpstreamHead(200, 1, bad), ResponseParseError, JSON.stringify(bad));
    }
  });
});

void describe('UpstreamHead passes the fields on', () => {
  void it('copies the end-to-end lines as they came, without the hop-by-hop ones', () => {
    const head = new UpstreamHead(
      200,
      1,
      fields(
        'Server: x',
        'Connection: keep-alive',
        'X-Odd-Spacing:   a  b',
        'Keep-Alive: timeout=5',
        'Transfer-Encoding: chunked',
        'TE: trailers',
        'Trailer: X-T',
        'Upgrade: h2c',
        'Proxy-Connection: keep-alive',
        'Set-Cookie: a=1',
        'Set-Cookie: b=2',
      ),
    );
    assert.equal(
      head.forwardedFields(),
      fields('Server: x', 'X-Odd-Spacing:   a  b', 'Set-Cookie: a=1', 'Set-Cookie: b=2'),
    );
  });

  void it('cuts every field HOP_BY_HOP names, in any case', () => {
    for (const name of HOP_BY_HOP) {
      const value = name === 'transfer-encoding' ? 'chunked' : name === 'connection' ? 'close' : 'x';
      for (const spelled of [name, name.toUpperCase()]) {
        const head = new UpstreamHead(200, 1, fields('X-A: b', `${spelled}: ${value}`));
        assert.equal(head.forwardedFields(), fields('X-A: b'), spelled);
      }
    }
  });

  void it('writes Content-Length anew in its plain form, once', () => {
    const head = new UpstreamHead(200, 1, fields('content-length:\t 2 \t', 'Content-Length: 2', 'X-A: b'));
    assert.equal(head.forwardedFields(), fields('X-A: b', 'Content-Length: 2'));
  });

  void it('hands the lines over unchanged when none is hop-by-hop', () => {
    const text = fields('Server: x', 'X-A: b');
    assert.equal(new UpstreamHead(200, 1, text).forwardedFields(), text);
    assert.equal(new UpstreamHead(204, 1, '').forwardedFields(), '');
  });

  void it('leaves the fields Connection names to the list filter', () => {
    const head = new UpstreamHead(200, 1, fields('Connection: close, X-Secret', 'X-Secret: 1', 'X-A: b'));
    assert.equal(head.forwardedFields(), undefined);
    assert.equal(head.connectionClose, true);
    assert.deepEqual(head.rawHeaders(), ['Connection', 'close, X-Secret', 'X-Secret', '1', 'X-A', 'b']);
  });

  void it('splits every line into a name and a trimmed value for the list form', () => {
    const head = new UpstreamHead(
      200,
      1,
      fields('Server: x', 'X-Empty:', 'X-Pad: \t v \t', 'Connection: keep-alive'),
    );
    assert.deepEqual(head.rawHeaders(), [
      'Server',
      'x',
      'X-Empty',
      '',
      'X-Pad',
      'v',
      'Connection',
      'keep-alive',
    ]);
  });
});
