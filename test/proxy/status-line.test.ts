import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParseError } from '../../src/proxy/response-parse-error.js';
import { statusCode } from '../../src/proxy/response-parser.js';

/** The head text as the parser holds it: the status line, its CRLF, and (maybe) field lines. */
const read = (line: string, rest = ''): number => {
  const text = `${line}\r\n${rest}`;
  return statusCode(text, text.indexOf('\r\n'));
};

void describe('statusCode reads an upstream status line', () => {
  void it('reads the code of HTTP/1.0 and HTTP/1.1 lines, with or without a reason', () => {
    assert.equal(read('HTTP/1.1 200 OK'), 200);
    assert.equal(read('HTTP/1.0 404 Not Found'), 404);
    assert.equal(read('HTTP/1.1 503'), 503);
    assert.equal(read('HTTP/1.1 204 '), 204);
    assert.equal(read('HTTP/1.1 100 Continue'), 100);
    assert.equal(read('HTTP/1.1 599 x y z', 'Server: a\r\n'), 599);
    assert.equal(read('HTTP/1.1 200 reason with \t tab and \xe9'), 200);
  });

  void it('refuses every other line', () => {
    for (const line of [
      'HTTP/9 OK',
      'HTTP/2.0 200 OK',
      'HTTP/1.2 200 OK',
      'http/1.1 200 OK',
      'HTTP/1.1  200 OK',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 2x0 OK',
      'HTTP/1.1 200OK',
      'HTTP/1.1 200 O\rK',
      'HTTP/1.1 200 O\nK',
      ' HTTP/1.1 200 OK',
      'HTTP/1.1',
      '',
    ])
      assert.throws(() => read(line), ResponseParseError, JSON.stringify(line));
  });
});
