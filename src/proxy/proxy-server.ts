/**
 * The builtin data plane: HTTP/1.1 (and, with TLS, HTTP/2 by ALPN) listeners in front of the
 * slot table. Each request picks its slot when it arrives (preview, sticky, weights) and is
 * forwarded by ProxiedRequest; WebSocket upgrades become tunnels owned by their slot. The
 * control methods (setTargets, setWeights, drain …) are what the builtin Router calls.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest } from 'node:http2';
import type { AddressInfo, ListenOptions, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../shared/logger.js';
import type { Slot, SlotTargets, Weights } from '../shared/slot.js';
import { SlotActivity, SlotDrain, type SlotDrainStatus } from './drain.js';
import {
  EXCHANGE_FAILED,
  ProxiedRequest,
  type BodyFraming,
  type ClientRequest,
  type ClientResponse,
  type ForwardContext,
} from './forward.js';
import { scanRequestFields, scanRequestHeaders, type ScannedRequest } from './forwarded-headers.js';
import { Http1Request } from './http1/http1-request.js';
import type { Http1Response } from './http1/http1-response.js';
import { Http1Server } from './http1/http1-server.js';
import { ProxyMetrics } from './metrics.js';
import { Mirror, type MirrorOptions } from './mirror.js';
import { ShadowComparer } from './shadow/shadow-comparer.js';
import { closingAnswer, endWithAnswer } from './closing-answer.js';
import { capConnections } from './connection-cap.js';
import { answerClientError, framingProblem } from './request-validation.js';
import { bufferRequestBody, mayBuffer } from './request-buffer.js';
import { SlotTable } from './slot-table.js';
import { StreamBodyLimits } from './stream-body-limits.js';
import { stickySlotFromCookie } from './sticky.js';
import { PROXY_ANSWERS, type ProxyAnswer, type ProxyTimeouts } from './timeouts.js';
import { proxyWebSocket } from './websocket.js';

export interface ProxyServerOptions {
  readonly previewHeader: string;
  /** Secret the preview header must carry; without it the header does nothing. */
  readonly previewToken: string;
  readonly stickyCookie: string;
  readonly timeouts: ProxyTimeouts;
  /** Which live bodyless requests are copied to the idle slot. */
  readonly mirror: MirrorOptions;
  /** Open client connections per listener; further ones are closed at accept (see connection-cap.ts). */
  readonly maxConnections: number;
  /** Request bodies up to this many bytes are read whole before the request is routed (0 = off; see request-buffer.ts). */
  readonly requestBufferBytes: number;
  /** PEM key and certificate: terminate TLS and offer HTTP/2 (ALPN) beside HTTP/1.1. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly logger: Logger;
  /** Counters to update; pass one to read them before the proxy exists. */
  readonly metrics?: ProxyMetrics;
}

export type ListenerRole = 'live' | 'preview';

type UpgradeRequest = IncomingMessage | Http1Request;

export interface LiveTable {
  readonly weights: Weights | undefined;
  readonly targets: SlotTargets;
  readonly previewSlot: Slot | undefined;
}

const CLOSE_GRACE_MS = 10_000;

/** A listening socket: plain HTTP/1.1 on the proxy's own server, or TLS on node:http2 (h2 and HTTP/1.1). */
interface Listener {
  readonly server: Server;
  readonly http1: Http1Server | undefined;
}

export class ProxyServer {
  readonly metrics: ProxyMetrics;
  /** Compares mirrored copies' answers with the live ones, when `mirror.compare` is set. */
  readonly shadow: ShadowComparer | undefined;
  private readonly table: SlotTable;
  private readonly activity: Record<Slot, SlotActivity> = {
    blue: new SlotActivity(),
    green: new SlotActivity(),
  };
  private readonly drains: Record<Slot, SlotDrain>;
  private readonly forwardContext: ForwardContext;
  private readonly mirror: Mirror;
  private readonly previewHeader: string;
  private readonly previewToken: Buffer;
  private readonly proto: 'http' | 'https';
  private readonly servers = new Map<ListenerRole, Listener>();
  private previewSlot: Slot | undefined;
  private closing: Promise<void> | undefined;
  /** Body limits for the TLS listener's requests (the plain listener's server has its own). */
  private readonly streamBodies: StreamBodyLimits | undefined;

  constructor(private readonly options: ProxyServerOptions) {
    this.metrics = options.metrics ?? new ProxyMetrics();
    this.table = new SlotTable({
      connectMs: options.timeouts.upstreamConnectMs,
      responseMs: options.timeouts.upstreamResponseMs,
    });
    this.drains = {
      blue: new SlotDrain('blue', this.activity.blue, () => this.table.upstreams('blue')),
      green: new SlotDrain('green', this.activity.green, () => this.table.upstreams('green')),
    };
    this.forwardContext = {
      table: this.table,
      metrics: this.metrics,
      activity: this.activity,
      stickyCookie: options.stickyCookie,
      exchangeFailed: (error) => this.exchangeFailed(error),
    };
    this.mirror = new Mirror(options.mirror, this.metrics);
    this.shadow =
      options.mirror.compare === undefined ? undefined : new ShadowComparer(options.mirror.compare);
    this.previewHeader = options.previewHeader.toLowerCase();
    this.previewToken = Buffer.from(options.previewToken);
    this.proto = options.tls ? 'https' : 'http';
    const { timeouts } = options;
    this.streamBodies = options.tls
      ? new StreamBodyLimits({
          timeoutMs: timeouts.bodyMs,
          minBytesPerSecond: timeouts.bodyMinBytesPerSecond,
          rateWindowMs: timeouts.bodyRateWindowMs,
        })
      : undefined;
  }

  // ── control ────────────────────────────────────────────────────────────────

  setTargets(targets: SlotTargets): void {
    const removed = this.table.setTargets(targets);
    // Removed instances: stop pooling, close idle sockets now; busy ones close when their response ends.
    for (const upstream of removed) {
      upstream.setKeepIdleSockets(false);
      upstream.closeIdleSockets();
    }
  }

  /** Synchronous: every request that arrives after this returns uses the new weights. */
  setWeights(weights: Weights): void {
    this.table.setWeights(weights);
    for (const slot of ['blue', 'green'] as const) if (weights[slot] > 0) this.drains[slot].cancel();
  }

  setPreviewSlot(slot: Slot): void {
    this.previewSlot = slot;
  }

  clearPreviewSlot(): void {
    this.previewSlot = undefined;
  }

  drain(slot: Slot, deadline: Date): void {
    if (this.table.weightOf(slot) > 0) return;
    this.drains[slot].start(deadline);
  }

  drainStatus(slot: Slot): SlotDrainStatus {
    return this.drains[slot].status();
  }

  liveTable(): LiveTable {
    return { weights: this.table.getWeights(), targets: this.table.targets(), previewSlot: this.previewSlot };
  }

  /** Forgets the slot's instances once nothing is in flight on them. */
  cleanup(slot: Slot): void {
    const targets = this.table.targets();
    targets[slot] = [];
    this.setTargets(targets);
    if (this.previewSlot === slot) this.previewSlot = undefined;
  }

  // ── listeners ──────────────────────────────────────────────────────────────

  async listen(role: ListenerRole, host: string, port: number): Promise<AddressInfo> {
    return this.listenWith(role, { host, port, backlog: 4096 });
  }

  /**
   * Accepts on a socket some other process bound (a proxy worker is handed the listening
   * sockets its control plane holds): `handle` is the raw listening handle, see listeningHandle().
   */
  async listenOnHandle(role: ListenerRole, handle: object): Promise<AddressInfo> {
    return this.listenWith(role, { handle, backlog: 4096 });
  }

  /**
   * The listener's raw socket handle, to pass to another process (child_process send): the
   * receiver holds the same listening socket without accepting on it until it listens itself.
   * Node keeps it on the private `_handle` field, which cluster and handle passing rely on too.
   */
  listeningHandle(role: ListenerRole): object | undefined {
    const server = this.servers.get(role)?.server;
    if (!server?.listening) return undefined;
    return (server as unknown as { _handle: object | null })._handle ?? undefined;
  }

  private async listenWith(
    role: ListenerRole,
    where: ListenOptions | { handle: object; backlog: number },
  ): Promise<AddressInfo> {
    const existing = this.servers.get(role)?.server;
    if (existing?.listening) return existing.address() as AddressInfo;
    const listener = this.createListener(role);
    const server = listener.server;
    capConnections(server, this.options.maxConnections, () => this.metrics.recordRefusedConnection(role));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      // node's listen() takes { handle } too; its type declarations leave it out.
      server.listen(where as ListenOptions, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (error) => this.options.logger.error('proxy.listener_error', { role, error }));
    this.servers.set(role, listener);
    return server.address() as AddressInfo;
  }

  address(role: ListenerRole): AddressInfo | undefined {
    const server = this.servers.get(role)?.server;
    return server?.listening ? (server.address() as AddressInfo) : undefined;
  }

  /** Stops accepting, lets in-flight requests finish (up to a grace period), then closes everything. Safe twice. */
  close(graceMs = CLOSE_GRACE_MS, lingerMs = 0): Promise<void> {
    this.closing ??= this.closeOnce(graceMs, lingerMs);
    return this.closing;
  }

  /** lingerMs: idle keep-alive connections close once idle that long, not at once (Http1Server.close). */
  private async closeOnce(graceMs: number, lingerMs: number): Promise<void> {
    const listeners = [...this.servers.values()];
    const closed = listeners.map(
      ({ server, http1 }) =>
        new Promise<void>((resolve) => {
          if (!server.listening) {
            resolve();
            return;
          }
          if (http1 !== undefined) http1.close(() => resolve(), lingerMs);
          else server.close(() => resolve());
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(closed), grace]);
    clearTimeout(timer);
    // node:http2's server keeps no such list: its sessions end with the server's close.
    for (const { http1 } of listeners) http1?.closeAllConnections();
    this.streamBodies?.close();
    for (const slot of ['blue', 'green'] as const) {
      this.drains[slot].cancel();
      for (const tunnel of this.activity[slot].tunnels) tunnel.goAway();
      for (const upstream of this.table.upstreams(slot)) upstream.destroy();
    }
    await Promise.all(closed);
  }

  private createListener(role: ListenerRole): Listener {
    const { timeouts, tls } = this.options;
    // An exception inside one exchange ends that exchange, never the process.
    const onRequest = (request: ClientRequest, response: ClientResponse): void => {
      try {
        this.handle(request, response, role);
      } catch (error) {
        this.exchangeFailed(error);
        response.destroy();
      }
    };
    const onUpgrade = (request: UpgradeRequest, socket: Socket, head: Buffer): void => {
      // The socket left its HTTP server, and that server's error handling with it: from here
      // until it closes, its errors (a reset after a refusal) are this handler's.
      socket.on('error', () => socket.destroy());
      try {
        this.handleUpgrade(request, socket, head, role);
      } catch (error) {
        this.exchangeFailed(error);
        socket.destroy();
      }
    };
    if (tls === undefined) {
      const http1 = new Http1Server(
        { onRequest, onUpgrade, onError: (error) => this.exchangeFailed(error) },
        {
          headersMs: timeouts.headersMs,
          idleMs: timeouts.clientIdleMs,
          body: {
            timeoutMs: timeouts.bodyMs,
            minBytesPerSecond: timeouts.bodyMinBytesPerSecond,
            rateWindowMs: timeouts.bodyRateWindowMs,
          },
        },
      );
      return { server: http1.server, http1 };
    }
    const server = http2.createSecureServer({ allowHTTP1: true, key: tls.key, cert: tls.cert }, onRequest);
    const http1 = server as unknown as http.Server;
    http1.keepAliveTimeout = timeouts.clientIdleMs;
    http1.headersTimeout = timeouts.headersMs;
    // Large uploads and long streams are fine; the header timeout and idle timeouts guard abuse.
    http1.requestTimeout = 0;
    server.on('clientError', (error: Error, socket: Socket) => answerClientError(error, socket));
    server.on('upgrade', onUpgrade);
    server.setTimeout(timeouts.clientIdleMs);
    return { server, http1: undefined };
  }

  // ── routing ────────────────────────────────────────────────────────────────

  private handle(request: ClientRequest, response: ClientResponse, role: ListenerRole): void {
    const startedAt = performance.now();
    const plain = request instanceof Http1Request;
    const options = {
      previewHeader: this.previewHeader,
      remoteAddress: plain ? request.remoteAddress : request.socket.remoteAddress,
      proto: this.proto,
      forUpgrade: false,
    };
    // The plain listener keeps the fields as text (see field-text.ts); node:http2 gives a list.
    const scanned = plain
      ? scanRequestFields(request.head.fields, options)
      : scanRequestHeaders(request.rawHeaders, options);
    const problem = framingProblem(scanned, request.httpVersionMajor, request.httpVersionMinor);
    if (problem !== undefined) {
      this.reject(response, 400, `bad request: ${problem}\n`);
      return;
    }
    if (this.closing !== undefined && request.httpVersionMajor === 1)
      (response as ServerResponse | Http1Response).shouldKeepAlive = false;

    const body = bodyFraming(request, scanned);
    // The plain listener's own server checks body limits in its connection sweep.
    if (body !== 'none' && this.streamBodies !== undefined && !plain)
      this.streamBodies.watch(request, response, (reason) => this.bodyOverdue(request, response, reason));
    const bufferLimit = this.options.requestBufferBytes;
    if (body !== 'none' && bufferLimit > 0 && mayBuffer(announcedLength(request), bufferLimit)) {
      // Routed later, from the body's last read: outside onRequest's guard, so guarded here.
      bufferRequestBody(request, response, bufferLimit, (whole) => {
        try {
          this.route(whole, response, role, scanned, body, startedAt);
        } catch (error) {
          this.exchangeFailed(error);
          response.destroy();
        }
      });
      return;
    }
    this.route(request, response, role, scanned, body, startedAt);
  }

  /** Picks the slot and instance for a request and forwards it (and maybe a mirrored copy). */
  private route(
    request: ClientRequest,
    response: ClientResponse,
    role: ListenerRole,
    scanned: ScannedRequest,
    body: BodyFraming,
    startedAt: number,
  ): void {
    let slot: Slot | undefined;
    let setStickyCookie = false;
    if (role === 'preview' || this.hasPreviewToken(scanned)) {
      slot = this.previewTarget();
    } else if (this.table.isShifting()) {
      const sticky = stickySlotFromCookie(scanned.cookie, this.options.stickyCookie);
      slot = this.table.pickLiveSlot(sticky);
      setStickyCookie = slot !== sticky;
    } else {
      slot = this.table.pickLiveSlot(undefined);
    }
    if (slot === undefined) {
      this.answerDirectly(response, PROXY_ANSWERS.noSlot, scanned.requestId);
      return;
    }
    const upstream = this.table.pickUpstream(slot);
    if (upstream === undefined) {
      this.metrics.record(slot, 503, (performance.now() - startedAt) / 1000, true);
      this.answerDirectly(response, PROXY_ANSWERS.noInstance, scanned.requestId);
      return;
    }
    const proxied = new ProxiedRequest(
      this.forwardContext,
      request,
      response,
      slot,
      upstream,
      scanned,
      body,
      setStickyCookie,
      startedAt,
    );

    if (role === 'live' && body === 'none' && this.mirror.sampled(request.method ?? 'GET'))
      this.mirrorCopy(request, scanned, proxied);
  }

  private handleUpgrade(request: UpgradeRequest, socket: Socket, head: Buffer, role: ListenerRole): void {
    const scanned = scanRequestHeaders(request.rawHeaders, {
      previewHeader: this.previewHeader,
      remoteAddress: socket.remoteAddress,
      proto: this.proto,
      forUpgrade: true,
    });
    const refuse = (status: number, text: string): void => endWithAnswer(socket, closingAnswer(status, text));
    if (!scanned.isWebSocket || framingProblem(scanned, request.httpVersionMajor, request.httpVersionMinor)) {
      refuse(400, 'only WebSocket upgrades are proxied\n');
      return;
    }
    // The bytes after a handshake are the tunnel's: a body would reach the upstream unframed.
    if (scanned.hasBody) {
      refuse(400, 'a WebSocket handshake carries no body\n');
      return;
    }
    let slot: Slot | undefined;
    if (role === 'preview' || this.hasPreviewToken(scanned)) slot = this.previewTarget();
    else {
      const sticky = this.table.isShifting()
        ? stickySlotFromCookie(scanned.cookie, this.options.stickyCookie)
        : undefined;
      slot = this.table.pickLiveSlot(sticky);
    }
    const upstream = slot === undefined ? undefined : this.table.pickUpstream(slot);
    if (slot === undefined || upstream === undefined) {
      refuse(503, PROXY_ANSWERS.noInstance.body);
      return;
    }
    const tunnels = this.activity[slot].tunnels;
    proxyWebSocket(
      request,
      socket,
      head,
      upstream.target,
      scanned.headers,
      this.options.timeouts.upstreamConnectMs,
      {
        onTunnel: (tunnel) => tunnels.add(tunnel),
        onTunnelClosed: (tunnel) => tunnels.delete(tunnel),
        onFailed: (status) => this.metrics.record(slot, status, 0, status >= 500),
      },
    );
  }

  /** Logged with a stable code; the exchange that threw has already been ended. */
  private exchangeFailed(error: unknown): void {
    this.options.logger.error('proxy.exchange_failed', { code: EXCHANGE_FAILED, error });
  }

  private hasPreviewToken(scanned: ScannedRequest): boolean {
    if (scanned.previewValue === undefined) return false;
    // Byte lengths: a non-ASCII character is longer in bytes than in characters.
    const value = Buffer.from(scanned.previewValue);
    return value.length === this.previewToken.length && timingSafeEqual(value, this.previewToken);
  }

  /** Preview traffic goes to the slot preview() named, else to the idle slot; never to a guess. */
  private previewTarget(): Slot | undefined {
    return this.previewSlot ?? this.table.idleSlot();
  }

  /**
   * Copies a live request to the idle slot. With shadow comparison, a copy of a compared method
   * is paired with the live answer (tapped as it goes out; nothing has arrived yet, the request
   * was only just sent); past the cap of pairs in flight the copy is not sent at all.
   */
  private mirrorCopy(request: ClientRequest, scanned: ScannedRequest, live: ProxiedRequest): void {
    const idle = this.table.idleSlot();
    if (idle === undefined) return;
    const upstream = this.table.pickUpstream(idle);
    if (upstream === undefined) return;
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    let pair;
    if (this.shadow?.compares(method)) {
      pair = this.shadow.start(idle, method, target);
      if (pair === undefined) return;
      live.tap = pair.tap;
    }
    this.mirror.send(idle, upstream, method, target, scanned.fields, pair);
  }

  /** A body past its deadline or under its rate on the TLS listener: 408, and the stream or connection ends. */
  private bodyOverdue(request: ClientRequest, response: ClientResponse, reason: string): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    this.reject(response, 408, `request timeout: ${reason}\n`);
    // HTTP/2: once the answer is out, RST_STREAM(NO_ERROR) tells the client to stop sending the rest
    // (RFC 9113 §8.1); close() waits for the stream's pending writes.
    if (request.httpVersionMajor === 2)
      (request as Http2ServerRequest).stream.close(http2.constants.NGHTTP2_NO_ERROR);
  }

  private answerDirectly(response: ClientResponse, answer: ProxyAnswer, requestId: string): void {
    response.writeHead(answer.status, {
      'content-type': 'text/plain',
      'content-length': String(answer.body.length),
      'x-request-id': requestId,
    });
    response.end(answer.body);
  }

  private reject(response: ClientResponse, status: number, body: string): void {
    const headers: Record<string, string> = {
      'content-type': 'text/plain',
      'content-length': String(body.length),
    };
    if ('shouldKeepAlive' in response) {
      response.shouldKeepAlive = false;
      headers.connection = 'close';
    }
    response.writeHead(status, headers);
    response.end(body);
  }
}

/** The body length the request announced, when the proxy's own parser read it (else undefined: held up to the limit). */
function announcedLength(request: ClientRequest): number | undefined {
  if (!(request instanceof Http1Request) || request.head.body !== 'length') return undefined;
  return request.head.contentLength;
}

/** How the request body reaches the upstream: as it came (Content-Length) or re-chunked. */
function bodyFraming(request: ClientRequest, scanned: ScannedRequest): BodyFraming {
  // The proxy's own parser has already decided the framing.
  if (request instanceof Http1Request) return request.head.body;
  if (request.httpVersionMajor === 2) {
    // HTTP/2 frames bodies itself; a stream that ended with its headers has none.
    if ((request as Http2ServerRequest).stream.endAfterHeaders) return 'none';
    return scanned.hasBody && !scanned.hasTransferEncoding ? 'length' : 'chunked';
  }
  if (!scanned.hasBody) return 'none';
  return scanned.hasTransferEncoding ? 'chunked' : 'length';
}
