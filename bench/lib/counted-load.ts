/**
 * Sends exactly `total` GET requests over `connections` keep-alive connections, one at a time
 * on each, and resolves when every answer has arrived: a fixed amount of work, for measures
 * that count (instructions) rather than time. Rejects on a connection error or a non-200.
 */
import net from 'node:net';

const HEAD_END = '\r\n\r\n';
const CONTENT_LENGTH = /content-length:\s*(\d+)/i;

export async function sendCountedRequests(port: number, total: number, connections: number): Promise<void> {
  // Headers a client usually sends, so the proxy's header handling is part of what is counted.
  const request =
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: cutover-bench\r\n` +
    'Accept: */*\r\nAccept-Encoding: gzip\r\n\r\n';
  let sent = 0;
  let answered = 0;
  const sockets: net.Socket[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      for (let index = 0; index < Math.min(connections, total); index += 1) {
        const socket = net.connect(port, '127.0.0.1');
        sockets.push(socket);
        socket.setEncoding('latin1');
        let buffered = '';
        const sendNext = (): void => {
          if (sent >= total) return;
          sent += 1;
          socket.write(request, 'latin1');
        };
        socket.once('connect', sendNext);
        socket.on('data', (chunk: string) => {
          buffered += chunk;
          for (;;) {
            const headEnd = buffered.indexOf(HEAD_END);
            if (headEnd === -1) return;
            const head = buffered.slice(0, headEnd);
            const end = headEnd + HEAD_END.length + Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
            if (buffered.length < end) return;
            if (!head.startsWith('HTTP/1.1 200')) {
              reject(new Error(`unexpected answer: ${head.split('\r\n')[0]}`));
              return;
            }
            buffered = buffered.slice(end);
            answered += 1;
            if (answered === total) resolve();
            else sendNext();
          }
        });
        socket.once('error', reject);
      }
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}
