/** A raw TCP upstream that records what the proxy sends it: connections, request heads, bytes, closes. */
import net from 'node:net';

export interface RecordingUpstream {
  readonly port: number;
  /** Request lines ("POST /upload HTTP/1.1") in the order their heads arrived. */
  readonly heads: string[];
  /** One per accepted connection: resolves with every byte the connection carried, once it closed. */
  readonly closes: Array<Promise<string>>;
  close(): Promise<void>;
}

/**
 * Answers `200 ok` once a request's whole Content-Length body (or chunked body) is in, and
 * calls `onHead` as each request head arrives (keep-alive: one request after another).
 */
export async function startRecordingUpstream(
  onHead?: (requestLine: string) => void,
): Promise<RecordingUpstream> {
  const heads: string[] = [];
  const closes: Array<Promise<string>> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let all = '';
    let pending = '';
    closes.push(
      new Promise((resolve) => {
        socket.on('close', () => {
          sockets.delete(socket);
          resolve(all);
        });
      }),
    );
    socket.on('error', () => undefined);
    let headSeen = false;
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      all += text;
      pending += text;
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        if (!headSeen) {
          headSeen = true;
          const line = pending.slice(0, pending.indexOf('\r\n'));
          heads.push(line);
          onHead?.(line);
        }
        const length = /\r\ncontent-length: (\d+)/i.exec(pending.slice(0, headEnd));
        const body = pending.slice(headEnd + 4);
        let consumed: number;
        if (length !== null) {
          if (body.length < Number(length[1])) return;
          consumed = headEnd + 4 + Number(length[1]);
        } else if (/\r\ntransfer-encoding: chunked/i.test(pending.slice(0, headEnd))) {
          const last = body.indexOf('0\r\n\r\n');
          if (last === -1 || (last > 0 && body.slice(last - 2, last) !== '\r\n')) return;
          consumed = headEnd + 4 + last + 5;
        } else consumed = headEnd + 4;
        pending = pending.slice(consumed);
        headSeen = false;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    heads,
    closes,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
