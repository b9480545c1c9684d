/** A request the proxy's HTTP/1.1 server will not serve: answered with `status`, then the connection closes. */
export class ClientHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
