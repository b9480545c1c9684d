/**
 * ChunkedDecoder, the strict decoder of chunked request bodies (RFC 9112 §7.1): the same bytes
 * decode to the same body and the same leftover (the next pipelined request) however they are
 * split across pushes, extensions and trailers are accepted and dropped, and every framing a
 * smuggling attack could hide behind is a 400, with no byte of the bad part passed on and no
 * end of body signalled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from '../../../src/proxy/http1/chunked-decoder.js';
import { ClientHttpError } from '../../../src/proxy/http1/client-http-error.js';

interface Run {
  readonly decoder: ChunkedDecoder;
  /** Every chunk onBodyData received, in order. */
  readonly chunks: Buffer[];
  /** What onBodyEnd received, or undefined while it has not been called. */
  readonly rest: () => Buffer | undefined;
  readonly endCalls: () => number;
  /** The body bytes received so far. */
  readonly body: () => Buffer;
}

function run(): Run {
  const chunks: Buffer[] = [];
  let rest: Buffer | undefined;
  let endCalls = 0;
  const decoder = new ChunkedDecoder({
    onBodyData(chunk) {
      assert.equal(endCalls, 0, 'no body data after the end of the body');
      chunks.push(Buffer.from(chunk));
    },
    onBodyEnd(leftover) {
      endCalls += 1;
      rest = Buffer.from(leftover);
    },
  });
  return {
    decoder,
    chunks,
    rest: () => rest,
    endCalls: () => endCalls,
    body: () => Buffer.concat(chunks),
  };
}

/**
 * Feeds `input` in pieces of `step` bytes (all at once when omitted) while the decoder is not done,
 * as the connection does; returns the run and the leftover: onBodyEnd's `rest` followed by the
 * bytes that were never pushed because the body had ended.
 */
function decode(input: Buffer | string, step?: number): { run: Run; leftover: Buffer } {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const r = run();
  const size = step ?? Math.max(1, bytes.length);
  let offset = 0;
  while (offset < bytes.length && !r.decoder.done) {
    r.decoder.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  assert.equal(r.decoder.done, true, 'the body ended');
  assert.equal(r.endCalls(), 1, 'onBodyEnd was called once');
  const leftover = Buffer.concat([r.rest()!, bytes.subarray(Math.min(offset, bytes.length))]);
  return { run: r, leftover };
}

/**
 * Feeds `input` (all at once, or one byte at a time) and asserts a 400 on the bad part: the body
 * received is exactly `before` (what the framing legitimately announced before the error), the
 * end of the body is never signalled, and the decoder is not done.
 */
function assertRejected(input: string, before: string, step?: number): void {
  const bytes = Buffer.from(input, 'latin1');
  const r = run();
  const size = step ?? bytes.length;
  let error: unknown;
  try {
    for (let offset = 0; offset < bytes.length; offset += size)
      r.decoder.push(bytes.subarray(offset, offset + size));
  } catch (caught) {
    error = caught;
  }
  const how = `${JSON.stringify(input)} in pieces of ${size}`;
  assert.ok(error instanceof ClientHttpError, `expected a ClientHttpError for ${how}, got ${String(error)}`);
  assert.equal(error.status, 400, how);
  assert.ok(error.message.length > 0, 'the reason is not empty');
  assert.equal(r.body().toString('latin1'), before, `body passed on before the error for ${how}`);
  assert.equal(r.endCalls(), 0, `the body must not end for ${how}`);
  assert.equal(r.decoder.done, false);
}

const NEXT_REQUEST = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';

void describe('ChunkedDecoder decodes well-framed bodies', () => {
  const INPUT = `5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n${NEXT_REQUEST}`;

  void it('decodes a body pushed at once and hands on the pipelined next request', () => {
    const { run: r, leftover } = decode(INPUT);
    assert.equal(r.body().toString('latin1'), 'hello world!');
    assert.equal(r.rest()!.toString('latin1'), NEXT_REQUEST);
    assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
  });

  void it('gives an empty rest when nothing follows the body', () => {
    const { run: r } = decode('3\r\nabc\r\n0\r\n\r\n');
    assert.equal(r.body().toString('latin1'), 'abc');
    assert.equal(r.rest()!.length, 0);
  });

  void it('decodes an empty body (just the last chunk)', () => {
    const { run: r, leftover } = decode(`0\r\n\r\n${NEXT_REQUEST}`);
    assert.equal(r.body().length, 0);
    assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
  });

  void it('gives the same body and rest when fed one byte at a time (every CRLF split)', () => {
    const { run: r, leftover } = decode(INPUT, 1);
    assert.equal(r.body().toString('latin1'), 'hello world!');
    assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
  });

  void it('gives the same body and rest for every piece size', () => {
    for (let step = 1; step <= INPUT.length; step += 1) {
      const { run: r, leftover } = decode(INPUT, step);
      assert.equal(r.body().toString('latin1'), 'hello world!', `pieces of ${step}`);
      assert.equal(leftover.toString('latin1'), NEXT_REQUEST, `pieces of ${step}`);
    }
  });

  void it('ignores pushes after the body has ended', () => {
    const r = run();
    r.decoder.push(Buffer.from('1\r\na\r\n0\r\n\r\n'));
    assert.equal(r.decoder.done, true);
    r.decoder.push(Buffer.from('3\r\nabc\r\n'));
    assert.equal(r.body().toString('latin1'), 'a');
    assert.equal(r.endCalls(), 1);
  });

  void it('accepts chunk extensions', () => {
    const input = `3;ext=1\r\nabc\r\n2;a=b;c="quoted value"\r\nde\r\n0;last\r\n\r\n${NEXT_REQUEST}`;
    for (const step of [undefined, 1]) {
      const { run: r, leftover } = decode(input, step);
      assert.equal(r.body().toString('latin1'), 'abcde');
      assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
    }
  });

  void it('accepts trailers and drops them', () => {
    const input = `3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:\tvalue with spaces\r\n\r\n${NEXT_REQUEST}`;
    for (const step of [undefined, 1]) {
      const { run: r, leftover } = decode(input, step);
      assert.equal(r.body().toString('latin1'), 'abc');
      assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
    }
  });

  void it('reads chunk sizes in upper- and lowercase hex', () => {
    const upper = 'A'.repeat(10);
    const lower = 'b'.repeat(0x1f);
    const mixed = 'c'.repeat(0xab);
    const input = `A\r\n${upper}\r\n1f\r\n${lower}\r\naB\r\n${mixed}\r\n0\r\n\r\n`;
    for (const step of [undefined, 1]) {
      const { run: r } = decode(input, step);
      assert.equal(r.body().toString('latin1'), upper + lower + mixed);
    }
  });

  void it('accepts leading zeros up to 15 hex digits', () => {
    const { run: r } = decode('000000000000003\r\nabc\r\n000\r\n\r\n');
    assert.equal(r.body().toString('latin1'), 'abc');
  });

  void it('decodes a 1 MB chunk pushed in many pieces, passing data on as it arrives', () => {
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i += 1) payload[i] = (i * 31 + 7) & 0xff;
    const input = Buffer.concat([
      Buffer.from(`${payload.length.toString(16)}\r\n`, 'latin1'),
      payload,
      Buffer.from(`\r\n0\r\n\r\n${NEXT_REQUEST}`, 'latin1'),
    ]);
    const { run: r, leftover } = decode(input, 1000);
    assert.ok(r.chunks.length > 1000, 'data is passed on piece by piece, not buffered');
    assert.ok(r.body().equals(payload), 'the body is the payload');
    assert.equal(leftover.toString('latin1'), NEXT_REQUEST);
  });

  void it('passes binary data, including CR and LF bytes, through unchanged', () => {
    const payload = Buffer.from('\r\n0\r\n\r\n\x00\xff', 'latin1');
    const input = Buffer.concat([
      Buffer.from(`${payload.length.toString(16)}\r\n`, 'latin1'),
      payload,
      Buffer.from('\r\n0\r\n\r\n', 'latin1'),
    ]);
    for (const step of [undefined, 1]) {
      const { run: r, leftover } = decode(input, step);
      assert.ok(r.body().equals(payload));
      assert.equal(leftover.length, 0);
    }
  });
});

const BAD_BODIES: Record<string, { input: string; before: string }> = {
  'a chunk size that is not hex': { input: 'zz\r\nabc\r\n0\r\n\r\n', before: '' },
  'a chunk size of 16 hex digits': { input: '0000000000000003\r\nabc\r\n0\r\n\r\n', before: '' },
  'an overflowing chunk size': { input: 'FFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n', before: '' },
  'a negative chunk size': { input: '-3\r\nabc\r\n0\r\n\r\n', before: '' },
  'a chunk size with a plus sign': { input: '+3\r\nabc\r\n0\r\n\r\n', before: '' },
  'an empty chunk size': { input: '\r\nabc\r\n0\r\n\r\n', before: '' },
  'a chunk size with a 0x prefix': { input: '0x3\r\nabc\r\n0\r\n\r\n', before: '' },
  'a space before the chunk size': { input: ' 3\r\nabc\r\n0\r\n\r\n', before: '' },
  'a tab before the chunk size': { input: '\t3\r\nabc\r\n0\r\n\r\n', before: '' },
  'a bad size after a good chunk': { input: '3\r\nabc\r\nzz\r\nabc\r\n0\r\n\r\n', before: 'abc' },
  'chunk data longer than its size': { input: '2\r\nabc\r\n0\r\n\r\n', before: 'ab' },
  'a missing CRLF after chunk data': { input: '3\r\nabcX0\r\n\r\n', before: 'abc' },
  'a CR without LF after chunk data': { input: '3\r\nabc\rX0\r\n\r\n', before: 'abc' },
  'a bare LF after chunk data': { input: '3\r\nabc\n0\r\n\r\n', before: 'abc' },
  'a bare LF in a size line': { input: '3\nabc\r\n0\r\n\r\n', before: '' },
  'a bare LF in a chunk extension': { input: '3;a\nb\r\nabc\r\n0\r\n\r\n', before: '' },
  'a bare CR in a size line': { input: '3\rabc\r\n0\r\n\r\n', before: '' },
  'a control character in a chunk extension': { input: '3;a\x00b\r\nabc\r\n0\r\n\r\n', before: '' },
  'a bare LF ending the last chunk': { input: '3\r\nabc\r\n0\n\r\n', before: 'abc' },
  'a malformed trailer line': { input: '3\r\nabc\r\n0\r\nnot a field\r\n\r\n', before: 'abc' },
  'a space before a trailer colon': { input: '3\r\nabc\r\n0\r\nX-T : v\r\n\r\n', before: 'abc' },
  'an obs-folded trailer': { input: '3\r\nabc\r\n0\r\nX-T: v\r\n w\r\n\r\n', before: 'abc' },
  'a bare LF ending a trailer': { input: '3\r\nabc\r\n0\r\nX-T: v\n\r\n', before: 'abc' },
  'a NUL in a trailer value': { input: '3\r\nabc\r\n0\r\nX-T: a\x00b\r\n\r\n', before: 'abc' },
};

void describe('ChunkedDecoder answers 400 to bad framing, passing nothing of the bad part on', () => {
  for (const [name, { input, before }] of Object.entries(BAD_BODIES)) {
    void it(`refuses ${name}, pushed at once`, () => {
      assertRejected(input, before);
    });
    void it(`refuses ${name}, pushed one byte at a time`, () => {
      assertRejected(input, before, 1);
    });
  }

  void it('refuses a size line longer than 4 KiB without CRLF, pushed at once', () => {
    assertRejected(`3;${'x'.repeat(4 * 1024)}`, '');
    assertRejected('1'.repeat(4 * 1024 + 1), '');
  });

  void it('refuses a size line longer than 4 KiB even when its CRLF arrives in the same push', () => {
    assertRejected(`3;${'x'.repeat(5000)}\r\nabc\r\n0\r\n\r\n`, '');
  });

  void it('refuses a size line longer than 4 KiB without CRLF, pushed in pieces, before 8 KiB arrive', () => {
    const r = run();
    const piece = Buffer.from('x'.repeat(64), 'latin1');
    r.decoder.push(Buffer.from('3;', 'latin1'));
    let pushed = 2;
    let error: unknown;
    try {
      while (pushed < 8 * 1024) {
        pushed += piece.length;
        r.decoder.push(piece);
      }
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ClientHttpError, `expected a ClientHttpError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.ok(pushed > 4 * 1024, `not refused before 4 KiB (refused after ${pushed} bytes)`);
    assert.equal(r.chunks.length, 0);
    assert.equal(r.endCalls(), 0);
  });

  void it('refuses a trailer section that never ends', () => {
    const r = run();
    r.decoder.push(Buffer.from('3\r\nabc\r\n0\r\n', 'latin1'));
    const line = Buffer.from(`X-T: ${'v'.repeat(1000)}\r\n`, 'latin1');
    let error: unknown;
    try {
      for (let i = 0; i < 1000; i += 1) r.decoder.push(line);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ClientHttpError, `expected a ClientHttpError, got ${String(error)}`);
    assert.equal(error.status, 400);
    assert.equal(r.body().toString('latin1'), 'abc');
    assert.equal(r.endCalls(), 0);
  });
});
