/**
 * A real HTTP server on a loopback port chosen at run time, answering each request with the next
 * scripted behaviour (a body, a slow answer, a reset…), and keeping what it was sent. The
 * analysis providers' hostile-source tests run against it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Behaviour = (response: http.ServerResponse, request: ReceivedRequest) => void;

export interface ScriptedSource {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Every request from now on is answered by `behaviour`. */
  answer(behaviour: Behaviour): void;
  close(): Promise<void>;
}

export async function startScriptedSource(): Promise<ScriptedSource> {
  let behaviour: Behaviour = (response) => response.writeHead(404).end();
  const received: ReceivedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(seen);
      behaviour(response, seen);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer: (next) => {
      behaviour = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const json =
  (body: unknown, status = 200): Behaviour =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

export const text =
  (body: string, status = 200, contentType = 'text/html'): Behaviour =>
  (response) => {
    response.writeHead(status, { 'content-type': contentType }).end(body);
  };

/** Headers never come: the client's deadline must end the exchange. */
export const silent: Behaviour = () => undefined;

/** Headers and the start of a body, then nothing: the deadline covers the body too. */
export const stallsMidBody: Behaviour = (response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.write('{"status":"success","data":');
};

/** The connection is reset before any answer. */
export const resets: Behaviour = (response) => {
  response.socket?.resetAndDestroy();
};

/** A body over `bytes`, streamed in chunks with no content-length (the cap must hold while reading). */
export const huge =
  (bytes: number): Behaviour =>
  (response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent <= bytes) {
        sent += chunk.length;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
    };
    response.on('error', () => undefined);
    pump();
  };
