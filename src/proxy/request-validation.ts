/**
 * Request smuggling defences for the TLS listener, whose HTTP/1.1 is node:http2's (llhttp,
 * strict mode). llhttp already answers 400 and closes the connection for Content-Length with
 * Transfer-Encoding, duplicate or malformed Content-Length, obs-fold, bad chunk sizes and chunk
 * framing, a Transfer-Encoding that does not end in chunked, and bare LF, CR or NUL inside a
 * field. It lets through four cases rejected here: a missing or repeated Host field (RFC 9112
 * §3.2), Transfer-Encoding on an HTTP/1.0 request (RFC 9112 §6.1), and a coding before chunked
 * (`gzip, chunked`: the proxy re-chunks the body and would drop the coding unsaid). For HTTP/2
 * requests it refuses a malformed or conflicting content-length. The plain listener's own
 * parser (http1/request-head.ts) refuses all of these itself. test/proxy/proxy-smuggling.test.ts
 * pins each case on both listeners. The proxy also re-frames every body it forwards, so the
 * upstream never sees the client's framing.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { closingAnswer } from './closing-answer.js';
import { MALFORMED_LENGTH, type ScannedRequest } from './forwarded-headers.js';

export function framingProblem(
  scanned: ScannedRequest,
  httpVersionMajor: number,
  httpVersionMinor: number,
): string | undefined {
  if (scanned.hostCount > 1) return 'more than one Host header';
  // node:http2's HTTP/1.1 fallback does not require Host (RFC 9112 §3.2 does).
  if (scanned.hostCount === 0 && httpVersionMajor === 1 && httpVersionMinor === 1) return 'missing Host';
  if (scanned.hasTransferEncoding && httpVersionMajor === 1 && httpVersionMinor === 0) {
    return 'Transfer-Encoding on an HTTP/1.0 request';
  }
  if (scanned.otherCoding) return 'a Transfer-Encoding other than chunked';
  if (scanned.contentLength === MALFORMED_LENGTH) return 'malformed Content-Length';
  return undefined;
}

interface ParserError extends Error {
  code?: string;
}

/** Answers what llhttp refused (TLS listener), then closes the connection: it can no longer be trusted. */
export function answerClientError(error: ParserError, socket: Socket): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_HEADERS_TIMEOUT'
        ? 408
        : 400;
  socket.end(closingAnswer(status, `${STATUS_CODES[status]!.toLowerCase()}\n`), () => socket.destroy());
}
