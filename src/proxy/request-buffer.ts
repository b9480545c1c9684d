/**
 * Request buffering (as nginx's `proxy_request_buffering`, in memory and up to a size): a
 * request body of at most `maxBodyBytes` is read whole before the request is routed, so a slow
 * client holds only its own socket, not a connection (and a worker) of the app. A body that
 * grows past the limit stops being held: the request is routed then and what was read goes
 * first, the rest streams as it arrives. A Content-Length over the limit is streamed from the
 * start. The request is routed when its body is complete (or too large), so it reads the slot
 * table then, not when its head arrived.
 */
import { bodyArrivedWhole } from './body-arrived-whole.js';
import type { ClientRequest, ClientResponse } from './forward.js';

/**
 * Reads the request's body into memory, up to `maxBodyBytes`, then calls `route` with a
 * request that replays it. Nothing is routed if the client goes away first.
 */
export function bufferRequestBody(
  request: ClientRequest,
  response: ClientResponse,
  maxBodyBytes: number,
  route: (request: ClientRequest) => void,
): void {
  const buffered = new BufferedRequest(request, maxBodyBytes, route);
  response.on('close', () => buffered.abandon());
}

type Phase = 'holding' | 'forwarding' | 'abandoned';

/** The ClientRequest handed to forwarding: the held body first, then (past the limit) the live one. */
class BufferedRequest implements ClientRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: { readonly remoteAddress?: string | undefined };
  private phase: Phase = 'holding';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private readonly dataListeners: Array<(chunk: Buffer) => void> = [];
  private readonly endListeners: Array<() => void> = [];

  constructor(
    private readonly original: ClientRequest,
    private readonly maxBodyBytes: number,
    private readonly route: (request: ClientRequest) => void,
  ) {
    this.method = original.method;
    this.url = original.url;
    this.httpVersionMajor = original.httpVersionMajor;
    this.httpVersionMinor = original.httpVersionMinor;
    this.socket = original.socket;
    original.on('data', (chunk: Buffer) => this.received(chunk));
    original.on('end', () => this.bodyEnded());
  }

  get rawHeaders(): string[] {
    return this.original.rawHeaders;
  }

  // Read by forwarding at the body's end (see body-arrived-whole.ts).
  get stream(): { readonly closed: boolean } | undefined {
    return this.original.stream;
  }

  get complete(): boolean | undefined {
    return this.original.complete;
  }

  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end', listener: () => void): this;
  on(event: 'data' | 'end', listener: (chunk: Buffer) => void): this {
    if (event === 'data') this.dataListeners.push(listener);
    else this.endListeners.push(listener as () => void);
    return this;
  }

  /** While the body is held nothing waits on the socket: pausing means pausing the live part. */
  pause(): this {
    if (this.phase === 'forwarding') this.original.pause();
    return this;
  }

  resume(): this {
    if (this.phase === 'forwarding') this.original.resume();
    return this;
  }

  /** The client went away (or its body missed its deadline): drop what is held, route nothing. */
  abandon(): void {
    if (this.phase !== 'holding') return;
    this.phase = 'abandoned';
    this.held = [];
  }

  private received(chunk: Buffer): void {
    if (this.phase === 'forwarding') {
      for (const listener of this.dataListeners) listener(chunk);
      return;
    }
    if (this.phase === 'abandoned') return;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.maxBodyBytes) this.forward();
  }

  private bodyEnded(): void {
    this.ended = true;
    if (this.phase === 'forwarding') for (const listener of this.endListeners) listener();
    // A body whose client left mid-way (an HTTP/2 stream reset) is not routed at all.
    else if (this.phase === 'holding') {
      if (bodyArrivedWhole(this.original)) this.forward();
      else this.abandon();
    }
  }

  /** Routes the request now; its forwarding registers its listeners, then gets what was held. */
  private forward(): void {
    this.phase = 'forwarding';
    this.route(this);
    const held = this.held;
    this.held = [];
    for (const chunk of held) for (const listener of this.dataListeners) listener(chunk);
    if (this.ended) for (const listener of this.endListeners) listener();
  }
}

/** Whether a body is worth holding: not when its announced length is already over the limit. */
export function mayBuffer(contentLength: number | undefined, maxBodyBytes: number): boolean {
  return maxBodyBytes > 0 && (contentLength === undefined || contentLength <= maxBodyBytes);
}
