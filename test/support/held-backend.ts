import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A version backend for drain tests: requests stay in flight until the test releases them. */
export interface HeldBackend {
  port: number;
  /** Requests (other than /healthz) waiting for release(). */
  waiting(): number;
  release(): void;
  close(): Promise<void>;
}

/** Answers /healthz at once and holds every other request until release(). */
export async function startHeldBackend(version: string): Promise<HeldBackend> {
  let pending: (() => void)[] = [];
  const server = http.createServer((request, response) => {
    request.resume();
    const answer = () => response.end(version);
    if (request.url === '/healthz') answer();
    else pending.push(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    waiting: () => pending.length,
    release: () => {
      for (const answer of pending) answer();
      pending = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
