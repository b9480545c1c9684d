/**
 * A local HTTP server standing in for CloudFormation's pre-signed response URL: it records every
 * request (method, content-type as sent, parsed body) so tests read what the handler answered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CaughtResponse {
  readonly method: string;
  readonly path: string;
  /** The content-type header exactly as received; undefined when none was sent. */
  readonly contentType: string | undefined;
  readonly body: {
    Status: string;
    Reason: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
    Data: Record<string, string>;
  };
}

export interface ResponseCatcher {
  /** A pre-signed-looking URL with a signature in its query. */
  url(name: string): string;
  /** Responses received so far, oldest first. */
  readonly received: CaughtResponse[];
  close(): Promise<void>;
}

export async function startResponseCatcher(): Promise<ResponseCatcher> {
  const received: CaughtResponse[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as CaughtResponse['body'],
      });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}?X-Amz-Signature=not-a-real-signature`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
