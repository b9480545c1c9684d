/**
 * A whole plain-text HTTP/1.1 answer that announces the close of the connection, for the
 * answers the proxy writes straight to a socket (refused requests, failed WebSocket
 * handshakes): after them the connection is not used again.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

export function closingAnswer(status: number, body: string): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/** How long a refused connection's further input is read and dropped before it is destroyed. */
const LINGER_MS = 2_000;

/**
 * Writes a closing answer and ends the socket, which is destroyed once the client has closed
 * its side or after a short linger (a client that never closes holds nothing for long). The
 * socket must already have an 'error' listener: a reset after the answer is normal here.
 */
export function endWithAnswer(socket: Socket, answer: string): void {
  if (socket.destroyed) return;
  socket.end(answer, 'latin1');
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
