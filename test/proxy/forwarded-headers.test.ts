/**
 * The two request scans: the list scan (node:http2 requests, WebSocket handshakes) and the
 * text scan of an HTTP/1 request's field lines, which copies the fields it keeps as text.
 * For every request both must send the same fields upstream and read the same values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NameShapes, splitFields } from '../../src/proxy/field-text.js';
import {
  HOP_BY_HOP,
  scanRequestFields,
  scanRequestHeaders,
  type ScanOptions,
} from '../../src/proxy/forwarded-headers.js';

const options: ScanOptions = {
  previewHeader: 'x-cutover-preview',
  remoteAddress: '10.0.0.7',
  proto: 'http',
  forUpgrade: false,
};

/** A flat list as CRLF-terminated lines, as the HTTP/1 parser keeps them. */
function lines(list: readonly string[]): string {
  let text = '';
  for (let i = 0; i < list.length; i += 2) text += `${list[i]}: ${list[i + 1]}\r\n`;
  return text;
}

const requests: Record<string, string[]> = {
  'a plain GET': ['Host', 'a.example', 'User-Agent', 'curl/8', 'Accept', '*/*'],
  'hop-by-hop fields in any case': [
    'Host',
    'a',
    'connection',
    'keep-alive',
    'Keep-Alive',
    'timeout=5',
    'TE',
    'trailers',
    'Trailer',
    'X-T',
    'Proxy-Connection',
    'keep-alive',
    'UPGRADE',
    'h2c',
    'X-Kept',
    '1',
  ],
  'client-sent forwarding fields': [
    'Host',
    'a',
    'X-Forwarded-For',
    '1.1.1.1',
    'x-forwarded-for',
    '2.2.2.2',
    'X-Forwarded-Host',
    'evil',
    'X-Forwarded-Proto',
    'https',
    'X-Request-Id',
    'req-1',
  ],
  'an invalid request id, replaced': ['Host', 'a', 'X-Request-Id', 'has spaces in it'],
  'the preview header, never forwarded': ['Host', 'a', 'X-Cutover-Preview', 'secret', 'X-After', '1'],
  'cookies and a body': [
    'Host',
    'a',
    'Cookie',
    'a=1',
    'cookie',
    'b=2',
    'Content-Length',
    '5',
    'Expect',
    '100-continue',
  ],
  'a chunked body': ['Host', 'a', 'Transfer-Encoding', 'chunked'],
  'Content-Length: 0': ['Host', 'a', 'Content-Length', '0'],
  'Connection naming another field': [
    'Host',
    'a',
    'Connection',
    'close, X-Secret',
    'X-Secret',
    '1',
    'X-Kept',
    '2',
  ],
  'no Host (HTTP/1.0)': ['Accept', '*/*'],
  'two Hosts': ['Host', 'a', 'Host', 'b'],
  'no fields at all': [],
};

void describe('scanRequestFields matches the list scan', () => {
  for (const [name, list] of Object.entries(requests)) {
    void it(`for ${name}`, () => {
      const fromList = scanRequestHeaders(list, options);
      const fromText = scanRequestFields(lines(list), options);
      // A generated request id differs per scan: compare it only where the client sent a valid one.
      const withoutGeneratedId = (fields: string, id: string): string[] =>
        splitFields(fields).map((value) => (value === id && !list.includes(id) ? '<generated>' : value));
      assert.deepEqual(
        withoutGeneratedId(fromText.fields, fromText.requestId),
        withoutGeneratedId(fromList.fields, fromList.requestId),
      );
      assert.deepEqual(splitFields(fromList.fields), fromList.headers);
      for (const key of ['previewValue', 'cookie', 'hasBody', 'hostCount', 'hasTransferEncoding'] as const)
        assert.deepEqual(fromText[key], fromList[key], key);
      if (list.includes('req-1')) assert.equal(fromText.requestId, 'req-1');
    });
  }

  void it('drops every field HOP_BY_HOP names, in any case, in both scans', () => {
    for (const name of HOP_BY_HOP) {
      for (const spelled of [name, name.toUpperCase()]) {
        const list = ['Host', 'a', spelled, name === 'connection' ? 'close' : 'x', 'X-Kept', '1'];
        for (const fields of [
          scanRequestFields(lines(list), options).fields,
          scanRequestHeaders(list, options).fields,
        ])
          assert.ok(!fields.toLowerCase().includes(`${name}:`), `${spelled} in ${JSON.stringify(fields)}`);
      }
    }
  });

  void it('copies kept fields as they came and adds the forwarding fields', () => {
    const scanned = scanRequestFields(
      'Host: a\r\nConnection: keep-alive\r\nX-Spaced:  x  y \r\nX-Forwarded-For: 1.1.1.1\r\n',
      options,
    );
    assert.equal(
      scanned.fields,
      'Host: a\r\nX-Spaced:  x  y \r\n' +
        'X-Forwarded-For: 1.1.1.1, 10.0.0.7\r\nX-Forwarded-Proto: http\r\n' +
        `X-Request-Id: ${scanned.requestId}\r\nX-Forwarded-Host: a\r\n`,
    );
  });
});

void describe('NameShapes', () => {
  void it('holds the lengths and first letters, either case, of the names it was given', () => {
    const shapes = new NameShapes(['te', 'host', 'content-length']);
    const maybe = (name: string): boolean => shapes.has(name.length, name.charCodeAt(0));
    // 'hxyz' has the shape of 'host': a maybe, settled by the caller's full comparison.
    for (const name of ['te', 'TE', 'Host', 'HOST', 'content-length', 'Content-Length', 'hxyz'])
      assert.equal(maybe(name), true, name);
    for (const name of [
      '',
      'a',
      'ab',
      'User',
      'Accept',
      'Content-Type',
      'Xontent-Length',
      'Cookie-Length',
      'x'.repeat(100),
    ])
      assert.equal(maybe(name), false, name);
  });
});
