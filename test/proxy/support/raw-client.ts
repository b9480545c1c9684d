/** Raw HTTP/1.1 and HTTP/2 clients for the proxy's listeners, showing the bytes as they came. */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

export type RawListener = 'plain' | 'tls';

export function connectRaw(listener: RawListener, port: number): net.Socket {
  return listener === 'plain'
    ? net.connect(port, '127.0.0.1')
    : tls.connect({ port, host: '127.0.0.1', ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
}

/** Sends `raw` and resolves with every byte the proxy wrote once it closes the connection. */
export function sendUntilClosed(listener: RawListener, port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectRaw(listener, port);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(raw, 'latin1');
  });
}

/** One GET with Connection: close; the raw answer. */
export function rawGet(listener: RawListener, port: number, path: string): Promise<string> {
  return sendUntilClosed(listener, port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
}

export interface Http2Answer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

/** One GET over HTTP/2 (TLS, ALPN h2). */
export async function http2Get(port: number, path: string): Promise<Http2Answer> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  try {
    return await new Promise<Http2Answer>((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':path': path, ':method': 'GET' });
      let headers: http2.IncomingHttpHeaders = {};
      let body = '';
      stream.on('response', (received) => (headers = received));
      stream.setEncoding('latin1');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
      stream.on('error', reject);
    });
  } finally {
    session.close();
  }
}

export interface RawAnswer {
  readonly status: number;
  /** The head's field lines as sent, without their CRLF. */
  readonly lines: string[];
  /** Lower-cased name → every value. */
  readonly fields: Record<string, string[]>;
  /** The body, de-chunked when the answer was chunked. */
  readonly body: string;
}

/**
 * Reads one HTTP/1.1 answer from its raw text, strictly: CRLF line ends only (a bare LF or CR
 * in the head throws), chunked decoding when Transfer-Encoding says so.
 */
export function parseRawAnswer(raw: string): RawAnswer {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no complete head in ${JSON.stringify(raw)}`);
  const head = raw.slice(0, headEnd);
  if (/\r(?!\n)|(?<!\r)\n/.test(head)) throw new Error(`a bare CR or LF in the head ${JSON.stringify(head)}`);
  const [statusLine, ...lines] = head.split('\r\n');
  const fields: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    (fields[line.slice(0, colon).toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
  }
  let body = raw.slice(headEnd + 4);
  if (fields['transfer-encoding']?.[0] === 'chunked') {
    let decoded = '';
    for (;;) {
      const lineEnd = body.indexOf('\r\n');
      const size = parseInt(body.slice(0, lineEnd), 16);
      if (size === 0) break;
      decoded += body.slice(lineEnd + 2, lineEnd + 2 + size);
      body = body.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
  return { status: Number(statusLine!.split(' ')[1]), lines, fields, body };
}
