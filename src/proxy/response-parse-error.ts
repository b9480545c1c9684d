/** An upstream response the proxy cannot read safely: the exchange fails (502) and the socket is not reused. */
export class ResponseParseError extends Error {}
