/**
 * Opens many keep-alive client connections, sends one request on each, then leaves them idle.
 * Several 127.0.0.x source addresses spread the connections over more ephemeral ports.
 */
import net from 'node:net';

export interface IdleConnections {
  readonly open: number;
  readonly failed: number;
  close(): void;
}

export async function openIdleConnections(
  port: number,
  count: number,
  batch = 500,
): Promise<IdleConnections> {
  const sockets: net.Socket[] = [];
  let failed = 0;
  for (let started = 0; started < count; started += batch) {
    const size = Math.min(batch, count - started);
    await Promise.all(
      Array.from(
        { length: size },
        (_unused, i) =>
          new Promise<void>((resolve) => {
            const localAddress = `127.0.0.${2 + ((started + i) % 8)}`;
            const socket = net.connect({ port, host: '127.0.0.1', localAddress });
            socket.once('error', () => {
              failed += 1;
              resolve();
            });
            socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
            socket.once('data', () => {
              sockets.push(socket);
              resolve();
            });
          }),
      ),
    );
  }
  return {
    open: sockets.length,
    failed,
    close: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}
