/**
 * One request read by the proxy's HTTP/1.1 server: the parsed head, and the body for 'data' and
 * 'end' listeners (only requests with a body call them). Offers the few IncomingMessage members
 * the forwarding code uses, so HTTP/1.1 and the node:http2 listener share that code. Plain
 * listener lists, not an EventEmitter: see Http1Response.
 */
import type { Socket } from 'node:net';
import { splitFields } from '../field-text.js';
import type { RequestHead } from './request-head.js';

export class Http1Request {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor: 0 | 1;
  private rawHeaderList: string[] | undefined;
  /** The whole body has been read (true at once for a bodyless request). */
  complete: boolean;
  private dataListeners: Array<(chunk: Buffer) => void> | undefined;
  private endListeners: Array<() => void> | undefined;

  constructor(
    readonly head: RequestHead,
    readonly socket: Socket,
    /** The client's address, read once per connection: `socket.remoteAddress` costs a lookup each time. */
    readonly remoteAddress: string | undefined,
  ) {
    this.method = head.method;
    this.url = head.url;
    this.httpVersionMinor = head.httpVersionMinor;
    this.complete = head.body === 'none';
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'end', listener: (chunk: Buffer) => void): this {
    if (event === 'data') (this.dataListeners ??= []).push(listener);
    else (this.endListeners ??= []).push(listener as () => void);
    return this;
  }

  /** A piece of the body arrived (from the connection). */
  bodyData(chunk: Buffer): void {
    const listeners = this.dataListeners;
    if (listeners !== undefined) for (const listener of listeners) listener(chunk);
  }

  /** The body ended (from the connection): the 'end' listeners run once. */
  bodyEnd(): void {
    const listeners = this.endListeners;
    if (listeners === undefined) return;
    this.endListeners = undefined;
    this.dataListeners = undefined;
    for (const listener of listeners) listener();
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
