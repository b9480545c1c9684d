import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParseError, ResponseParser, type ResponseHandler } from '../../src/proxy/response-parser.js';
import type { UpstreamHead } from '../../src/proxy/upstream-head.js';

/** Feeds `raw` to a parser in pieces of `step` bytes; returns what it reported. */
function parse(raw: string, step: number): { head: UpstreamHead | undefined; body: string; ended: boolean } {
  const seen = { head: undefined as UpstreamHead | undefined, body: '', ended: false };
  const handler: ResponseHandler = {
    onHead: (head) => (seen.head = head),
    onBody: (chunk) => (seen.body += chunk.toString('latin1')),
    onEnd: (_reusable, last) => {
      if (last !== undefined) seen.body += last.toString('latin1');
      seen.ended = true;
    },
  };
  const parser = new ResponseParser();
  parser.expect(handler, false);
  const bytes = Buffer.from(raw, 'latin1');
  for (let i = 0; i < bytes.length; i += step) parser.push(bytes.subarray(i, i + step));
  return seen;
}

void describe('ResponseParser reads a bare LF as a line end, whatever the reads', () => {
  const cases: Array<[string, string, string, Record<string, string>]> = [
    ['all bare LF, Content-Length', 'HTTP/1.1 200 OK\nContent-Length: 2\nX-B: 1\n\nok', 'ok', { 'X-B': '1' }],
    [
      'a bare LF between two fields',
      'HTTP/1.1 200 OK\r\nX-A: b\nX-C: d\r\nContent-Length: 2\r\n\r\nok',
      'ok',
      { 'X-A': 'b', 'X-C': 'd' },
    ],
    [
      'a bare-LF head whose body holds CRLFCRLF',
      'HTTP/1.1 200 OK\nContent-Length: 6\n\nx\r\n\r\ny',
      'x\r\n\r\ny',
      {},
    ],
    ['a bare-LF blank line after CRLF lines', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok', 'ok', {}],
    [
      'chunked, all bare LF, with trailers',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n6;x=1\n world\n0\nX-T: 1\n\n',
      'hello world',
      {},
    ],
    [
      'chunked, CRLF head, bare-LF chunk lines',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\n\n',
      'hello',
      {},
    ],
  ];
  for (const [name, raw, body, fields] of cases) {
    void it(`reads ${name}, in one read or one byte per read`, () => {
      for (const step of [raw.length, 1, 3]) {
        const seen = parse(raw, step);
        assert.equal(seen.head?.status, 200, `step ${step}`);
        assert.equal(seen.body, body, `step ${step}`);
        assert.equal(seen.ended, true, `step ${step}`);
        const forwarded = seen.head.forwardedFields() ?? '';
        assert.doesNotMatch(forwarded, /\r(?!\n)|(?<!\r)\n/, 'every forwarded line ends in CRLF');
        for (const [field, value] of Object.entries(fields))
          assert.match(forwarded, new RegExp(`(?:^|\\r\\n)${field}: ${value}\\r\\n`));
      }
    });
  }

  void it('still refuses a bare CR, whether it ends a line or sits in a value', () => {
    for (const raw of [
      'HTTP/1.1 200 OK\rContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nX-A: b\r\r\nContent-Length: 2\r\n\r\nok',
    ])
      for (const step of [raw.length, 1])
        assert.throws(() => parse(raw, step), ResponseParseError, JSON.stringify(raw));
  });
});
