/**
 * A raw TCP upstream that keeps, per connection, every byte the proxy sent it, counts the
 * requests that arrived whole (Content-Length reached, or a chunked body's last chunk), answers
 * each of those `200 ok`, and notes when the connection closed. For tests of what an upstream
 * sees when a client goes away in the middle of a request body.
 */
import net from 'node:net';

export interface RecordedConnection {
  /** Every byte received so far (latin1). */
  bytes: string;
  /** Requests that arrived whole on this connection. */
  wholeRequests: number;
  closed: boolean;
}

export interface BodyRecordingUpstream {
  readonly port: number;
  readonly connections: RecordedConnection[];
  close(): Promise<void>;
}

export async function startBodyRecordingUpstream(): Promise<BodyRecordingUpstream> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const recorded: RecordedConnection = { bytes: '', wholeRequests: 0, closed: false };
    connections.push(recorded);
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      recorded.closed = true;
    });
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      recorded.bytes += text;
      pending += text;
      for (;;) {
        const consumed = wholeRequestLength(pending);
        if (consumed === undefined) return;
        pending = pending.slice(consumed);
        recorded.wholeRequests += 1;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The length of the whole request at the start of `text`, or undefined while it is incomplete. */
function wholeRequestLength(text: string): number | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = text.slice(0, headEnd);
  const bodyStart = headEnd + 4;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length !== null) {
    const end = bodyStart + Number(length[1]);
    return text.length >= end ? end : undefined;
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return bodyStart;
  // Walks the chunks: a size line, that many bytes and CRLF, until the zero-size last chunk.
  let at = bodyStart;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (size === 0) {
      const end = lineEnd + 4;
      return text.length >= end && text.slice(lineEnd, end) === '\r\n\r\n' ? end : undefined;
    }
    at = lineEnd + 2 + size + 2;
    if (text.length < at) return undefined;
  }
}
