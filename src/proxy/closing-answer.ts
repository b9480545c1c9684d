/**
 * A whole plain-text HTTP/1.1 answer that announces the close of the connection, for the
 * answers the proxy writes straight to a socket (refused requests, failed WebSocket
 * handshakes): after them the connection is not used again.
 */
import { STATUS_CODES } from 'node:http';

export function closingAnswer(status: number, body: string): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}
