/** Starts the builtin router (and so the proxy) on port 0 in front of real backends on port 0. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../src/shared/logger.js';
import type { Target } from '../../../src/shared/slot.js';
import { createBuiltinRouter, type BuiltinRouter } from '../../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../../src/routers/builtin/config.js';

export const PREVIEW_TOKEN = 'test-preview-token-0123456789';

export async function openRouter(config: Record<string, unknown> = {}): Promise<BuiltinRouter> {
  const router = createBuiltinRouter(
    builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0', ...config }),
    {
      logger: silentLogger,
      previewToken: PREVIEW_TOKEN,
    },
  );
  await router.open();
  return router;
}

export function target(id: string, port: number): Target {
  return { id, host: '127.0.0.1', port };
}

export function liveUrl(router: BuiltinRouter, path = '/'): string {
  return `http://127.0.0.1:${router.address().live.port}${path}`;
}

export interface TestServer {
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 with the handler the test needs. */
export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly reusedSocket: boolean;
}

/** One request with node:http (fetch hides keep-alive and hop-by-hop details). */
export function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: options.agent,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
