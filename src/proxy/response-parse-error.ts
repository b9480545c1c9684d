/** An upstream response the proxy cannot read safely: the exchange fails (502) and the socket is not reused. */
export class ResponseParseError extends Error {}

/** A LF inside a head line as the parser first split it: the head is read again, a bare LF ending a line. */
export class BareLineFeedError extends ResponseParseError {
  constructor() {
    super('a bare LF in the head');
  }
}
