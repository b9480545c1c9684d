/**
 * The cap on open client connections per listener. A connection beyond it is closed at accept,
 * by the kernel-facing side of node:net (`server.maxConnections`), before any byte is read:
 * - a fast 503 would first have to read and parse a request (and on the TLS listener finish a
 *   handshake), spending the CPU and memory the cap is there to protect, and a client that
 *   never sends a request would still hold its socket until the header timeout;
 * - a closed connection is what every client and load balancer already retries on another
 *   address, and it costs the proxy one accept and one close.
 * Each refusal is counted (node:net's 'drop' event) for /metrics.
 */
import type { Server } from 'node:net';

export function capConnections(server: Server, maxConnections: number, onRefused: () => void): void {
  server.maxConnections = maxConnections;
  server.on('drop', onRefused);
}
