/** A real `ws` WebSocket server on 127.0.0.1:0 that greets with its version and echoes. */
import { WebSocketServer } from 'ws';
import { startServer, type TestServer } from './proxy-fixture.js';

export async function startEchoWebSocketServer(version: string): Promise<TestServer> {
  const server = await startServer((_req, res) => res.end(version));
  const wss = new WebSocketServer({ server: server.server });
  wss.on('connection', (socket) => {
    socket.send(`hello from ${version}`);
    socket.on('message', (data, isBinary) =>
      socket.send(isBinary ? data : `${version}:${(data as Buffer).toString()}`, { binary: isBinary }),
    );
  });
  return {
    port: server.port,
    server: server.server,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await server.close();
    },
  };
}
