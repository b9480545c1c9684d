/**
 * Whether a request body that has just ended ('end') was sent whole, or ended because the
 * client's side went away. node:http2 ends a request's body when its stream closes, whether the
 * client finished the body (END_STREAM) or reset the stream, or its connection went, mid-body:
 * forwarding that end as the body's end would make the upstream see a truncated request as
 * complete (a chunked body closed with its last chunk). A body sent whole leaves the stream
 * half-closed, not closed, until the response ends; a stream already closed at the body's end
 * was reset (or its connection lost), or, rarely, the response ended first (an early answer),
 * when the body's end no longer matters to anyone and is not passed on either.
 * A stream that ended (END_STREAM) and was reset after is a body that ended, as far as the wire
 * says (node:http2's client does this on close()); only a Content-Length can show it short,
 * and forwarding checks that too (UpstreamConnection.bodyShort).
 * HTTP/1 requests (the proxy's own and node:http's) end their body only when it is complete;
 * `complete` is checked all the same.
 */

/** What is read of a request, on either kind of listener, at its body's end. */
export interface BodyEndSignals {
  /** node:http2 (HTTP/2): the request's stream. */
  readonly stream?: { readonly closed: boolean } | undefined;
  /** HTTP/1: the whole message has been read. */
  readonly complete?: boolean | undefined;
}

export function bodyArrivedWhole(request: BodyEndSignals): boolean {
  const stream = request.stream;
  if (stream !== undefined) return !stream.closed;
  return request.complete !== false;
}
