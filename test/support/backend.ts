/** A tiny HTTP server on 127.0.0.1:0 that answers every request with its version. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VersionBackend {
  port: number;
  version: string;
  /** Requests answered so far (health checks included). */
  requests(): number;
  close(): Promise<void>;
}

export async function startVersionBackend(version: string): Promise<VersionBackend> {
  let count = 0;
  const server = http.createServer((request, response) => {
    count += 1;
    request.resume();
    response.writeHead(200, { 'content-type': 'text/plain', 'x-version': version });
    response.end(version);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    version,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
