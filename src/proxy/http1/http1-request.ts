/**
 * One request read by the proxy's HTTP/1.1 server: the parsed head, and the body as 'data' and
 * 'end' events (only requests with a body emit them). Offers the few IncomingMessage members
 * the forwarding code uses, so HTTP/1.1 and the node:http2 listener share that code.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { splitFields } from '../field-text.js';
import type { RequestHead } from './request-head.js';

export class Http1Request extends EventEmitter {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: 0 | 1;
  private rawHeaderList: string[] | undefined;
  /** The whole body has been read (true at once for a bodyless request). */
  complete: boolean;

  constructor(
    readonly head: RequestHead,
    readonly socket: Socket,
    /** The client's address, read once per connection: `socket.remoteAddress` costs a lookup each time. */
    readonly remoteAddress: string | undefined,
  ) {
    super();
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMinor = head.httpVersionMinor;
    this.complete = head.body === 'none';
  }

  /** The header fields as a [name, value, …] list, made on first use: proxying reads `head.fields`. */
  get rawHeaders(): string[] {
    this.rawHeaderList ??= splitFields(this.head.fields);
    return this.rawHeaderList;
  }

  /** Stops reading the client socket until resume(): the upstream cannot take more body yet. */
  pause(): this {
    this.socket.pause();
    return this;
  }

  /** Once the body is complete the connection owns the socket's flow (pipelined requests wait). */
  resume(): this {
    if (!this.complete) this.socket.resume();
    return this;
  }
}
