// Helpers for the health check tests: a validated health config and small real servers.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { configSchema, type HealthCheckConfig } from '../../src/config/schema.js';
import type { Target } from '../../src/shared/slot.js';

/** The health section exactly as the config loader would produce it. */
export function healthConfig(health: Record<string, unknown>): HealthCheckConfig {
  return configSchema.parse({ app: 'test', platform: { kind: 'process', command: 'true' }, health }).health;
}

export interface TestServer {
  readonly target: Target;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 whose /healthz status the test controls; `hang` never answers. */
export async function startHealthServer(
  id = 'blue-0-v1',
): Promise<TestServer & { setStatus(status: number | 'hang'): void; requests(): number }> {
  let status: number | 'hang' = 200;
  let requests = 0;
  const server = createHttpServer((request, response) => {
    requests += 1;
    request.resume();
    if (status === 'hang') return;
    response.writeHead(request.url === '/healthz' ? status : 404).end();
  });
  const port = await listen(server);
  return {
    target: { id, host: '127.0.0.1', port },
    requests: () => requests,
    setStatus: (next) => {
      status = next;
    },
    close: () => close(server, true),
  };
}

/** A port that refuses connections: bound once, then closed. */
export async function refusedTarget(id = 'green-0-v2'): Promise<Target> {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server, false);
  return { id, host: '127.0.0.1', port };
}

export async function startTcpServer(id = 'blue-0-v1'): Promise<TestServer> {
  const server = createTcpServer((socket) => socket.end());
  const port = await listen(server);
  return { target: { id, host: '127.0.0.1', port }, close: () => close(server, false) };
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server | HttpServer, http: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (http) (server as HttpServer).closeAllConnections();
    server.close(() => resolve());
  });
}
