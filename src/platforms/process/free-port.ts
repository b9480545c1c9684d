import { createServer, type Server } from 'node:net';
import { CutoverError } from '../../shared/errors.js';
import type { InstancePortRange } from './config.js';

/**
 * Finds `count` distinct free ports on `host`: from the kernel (bind to port 0), or, with a
 * `range`, by binding the range's ports from a random start on until enough were free. All are
 * held open until every one is known, so the same port is never handed out twice. Another
 * process may still take a port before the instance binds it; the caller retries.
 */
export async function reserveFreePorts(
  host: string,
  count: number,
  range?: InstancePortRange,
): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    if (range === undefined) {
      for (let i = 0; i < count; i += 1) {
        const server = createServer();
        servers.push(server);
        ports.push(await listenOn(server, host, 0));
      }
      return ports;
    }
    const size = range.to - range.from + 1;
    const start = Math.floor(Math.random() * size);
    for (let offset = 0; offset < size && ports.length < count; offset += 1) {
      const server = createServer();
      const port = range.from + ((start + offset) % size);
      const bound = await listenOn(server, host, port).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') return undefined;
        throw error;
      });
      if (bound === undefined) continue;
      servers.push(server);
      ports.push(bound);
    }
    if (ports.length < count) {
      throw new CutoverError(
        'CUTOVER_E_PROVISION',
        `platform.ports ${range.from}-${range.to} has ${ports.length} free port(s) on ${host}, ` +
          `${count} instance(s) need one each; widen the range`,
        { details: { range, host, free: ports.length, needed: count } },
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      resolve(address.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
