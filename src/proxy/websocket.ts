/**
 * WebSocket upgrades: the handshake goes to the chosen instance like any request; after its
 * 101 the proxy pipes raw bytes both ways. Each tunnel belongs to one slot so a drain can
 * count it and, at the deadline, close it with 1001 (Going Away) so the client reconnects
 * (to the live slot).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { closingAnswer, endWithAnswer } from './closing-answer.js';
import { hasControlCharacter } from './field-text.js';
import { FrameBoundaryTracker, serverCloseFrame } from './websocket-frames.js';

const GOING_AWAY = 1001;

export class WebSocketTunnel {
  private readonly toClient = new FrameBoundaryTracker();
  private goingAway = false;
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly onClosed: (tunnel: WebSocketTunnel) => void,
  ) {}

  start(upstreamHead: Buffer, clientHead: Buffer): void {
    const { client, upstream } = this;
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.setTimeout(0);
    upstream.setTimeout(0);
    if (clientHead.length > 0) upstream.write(clientHead);
    if (upstreamHead.length > 0) this.fromUpstream(upstreamHead);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    client.on('drain', () => upstream.resume());
    upstream.on('end', () => client.end());
    client.on('close', () => this.finish());
    upstream.on('close', () => this.finish());
    client.on('error', () => this.finish());
    upstream.on('error', () => this.finish());
  }

  /** Sends the client a 1001 close between two frames, then ends both sides. */
  goAway(): void {
    if (this.goingAway || this.closed) return;
    this.goingAway = true;
    if (this.toClient.atBoundary()) this.sendGoingAway();
    // Otherwise fromUpstream() sends it when the frame under way has been forwarded.
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.closed) return;
    if (this.goingAway) {
      // Forward only up to the end of the frame under way; the rest is dropped with the tunnel.
      this.forwardUntilBoundary(chunk);
      return;
    }
    this.toClient.consume(chunk);
    if (!this.client.write(chunk)) this.upstream.pause();
  }

  private forwardUntilBoundary(chunk: Buffer): void {
    for (let end = 1; end <= chunk.length; end += 1) {
      this.toClient.consume(chunk.subarray(end - 1, end));
      if (this.toClient.atBoundary()) {
        this.client.write(chunk.subarray(0, end));
        this.sendGoingAway();
        return;
      }
    }
    this.client.write(chunk);
  }

  private sendGoingAway(): void {
    this.client.unpipe(this.upstream);
    this.upstream.destroy();
    this.client.end(serverCloseFrame(GOING_AWAY));
    // The client answers with its own close frame and closes; don't wait forever for it.
    setTimeout(() => this.client.destroy(), 5_000).unref();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.upstream.destroy();
    this.onClosed(this);
  }
}

export interface UpgradeTarget {
  readonly host: string;
  readonly port: number;
}

export interface UpgradeCallbacks {
  onTunnel(tunnel: WebSocketTunnel): void;
  onTunnelClosed(tunnel: WebSocketTunnel): void;
  /** The handshake could not be proxied; the client has been answered. */
  onFailed(status: number): void;
}

/** Header values node:http's parser let through that must not reach the client (a bare CR …). */
function relayable(rawHeaders: readonly string[]): boolean {
  for (let i = 1; i < rawHeaders.length; i += 2) if (hasControlCharacter(rawHeaders[i]!)) return false;
  return true;
}

/** Sends the handshake upstream and, on 101, joins the two sockets. */
export function proxyWebSocket(
  request: { readonly method?: string | undefined; readonly url?: string | undefined },
  clientSocket: Socket,
  clientHead: Buffer,
  target: UpgradeTarget,
  headers: string[],
  connectTimeoutMs: number,
  callbacks: UpgradeCallbacks,
): void {
  const upstreamRequest = http.request({
    host: target.host,
    port: target.port,
    method: request.method,
    path: request.url,
    headers,
    setHost: false,
    agent: false,
  });
  let answered = false;
  const fail = (status: number, text: string): void => {
    if (answered) return;
    answered = true;
    upstreamRequest.destroy();
    if (clientSocket.writable) endWithAnswer(clientSocket, closingAnswer(status, `${text}\n`));
    callbacks.onFailed(status);
  };
  upstreamRequest.setTimeout(connectTimeoutMs, () =>
    fail(504, 'upstream did not answer the WebSocket handshake in time'),
  );
  upstreamRequest.on('error', () => fail(502, 'upstream connection failed'));
  clientSocket.on('error', () => upstreamRequest.destroy());

  upstreamRequest.on('upgrade', (response, upstreamSocket, upstreamHead) => {
    upstreamSocket.on('error', () => upstreamSocket.destroy());
    const raw = response.rawHeaders;
    if (!relayable(raw)) {
      upstreamSocket.destroy();
      fail(502, 'upstream sent a malformed response: a control character in a header value');
      return;
    }
    answered = true;
    upstreamRequest.setTimeout(0);
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    clientSocket.write(`${head}\r\n`);
    const tunnel = new WebSocketTunnel(clientSocket, upstreamSocket, (closed) =>
      callbacks.onTunnelClosed(closed),
    );
    callbacks.onTunnel(tunnel);
    tunnel.start(upstreamHead, clientHead);
  });

  // The upstream refused the upgrade: relay its answer and close.
  upstreamRequest.on('response', (response) => {
    response.on('error', () => clientSocket.destroy());
    const raw = response.rawHeaders;
    if (!relayable(raw)) {
      response.destroy();
      fail(502, 'upstream sent a malformed response: a control character in a header value');
      return;
    }
    answered = true;
    upstreamRequest.setTimeout(0);
    // The proxy's own reason phrase: the upstream's is not passed on.
    let head = `HTTP/1.1 ${response.statusCode ?? 502} ${http.STATUS_CODES[response.statusCode ?? 502] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive') continue;
      head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    }
    clientSocket.write(`${head}Connection: close\r\n\r\n`);
    response.pipe(clientSocket);
    callbacks.onFailed(response.statusCode ?? 502);
  });
  upstreamRequest.end();
}
