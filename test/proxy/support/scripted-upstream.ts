/**
 * A raw TCP upstream that answers each bodyless request with the exact bytes scripted for its
 * path (a request for an unscripted path gets a plain 200 "ok"), so a test can send the proxy
 * responses no HTTP library would write: bare LFs, control characters, doubled framing.
 */
import net from 'node:net';

export interface ScriptedUpstream {
  readonly port: number;
  /** Request targets in the order they arrived. */
  readonly paths: string[];
  close(): Promise<void>;
}

export async function startScriptedUpstream(script: Record<string, string>): Promise<ScriptedUpstream> {
  const paths: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')[1] ?? '';
        buffered = buffered.slice(end + 4);
        paths.push(path);
        socket.write(script[path] ?? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
