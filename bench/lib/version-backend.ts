/** A backend for the switching bench: HTTP answers its version, WebSockets greet and echo. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface VersionWsBackend {
  readonly port: number;
  close(): Promise<void>;
}

export async function startVersionWsBackend(version: string): Promise<VersionWsBackend> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(version.length) });
    res.end(version);
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.send(version);
    socket.on('message', (data: Buffer) => socket.send(`${version}:${data.toString()}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
