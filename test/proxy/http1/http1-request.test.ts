import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { Http1Request } from '../../../src/proxy/http1/http1-request.js';
import { parseRequestHead } from '../../../src/proxy/http1/request-head.js';

function request(head: string): Http1Request {
  // The socket is only paused and resumed by a request; an unconnected one will do.
  return new Http1Request(parseRequestHead(head), new net.Socket(), '127.0.0.1');
}

void describe('Http1Request listeners', () => {
  void it("passes body pieces to every 'data' listener in order, then runs 'end' listeners once", () => {
    const upload = request('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 6');
    assert.equal(upload.complete, false);
    const seen: string[] = [];
    upload.on('data', (chunk) => seen.push(`first ${chunk.toString()}`));
    upload.on('data', (chunk) => seen.push(`second ${chunk.toString()}`));
    upload.on('end', () => seen.push('end'));
    upload.bodyData(Buffer.from('abc'));
    upload.bodyData(Buffer.from('def'));
    upload.bodyEnd();
    upload.bodyEnd();
    upload.bodyData(Buffer.from('late'));
    assert.deepEqual(seen, ['first abc', 'second abc', 'first def', 'second def', 'end']);
  });

  void it('is complete at once when the request has no body', () => {
    assert.equal(request('GET / HTTP/1.1\r\nHost: a').complete, true);
  });
});
