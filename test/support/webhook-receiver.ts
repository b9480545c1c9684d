/**
 * A real HTTP receiver for notification tests: records what arrives, and can answer with a
 * chosen status for the first N requests, or hold every request without answering.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface ReceiverBehaviour {
  /** Answer these statuses to the first requests, in order, then 200. */
  readonly failFirst?: readonly number[];
  /** Never answer (the connection stays open until the receiver closes). */
  readonly hang?: boolean;
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  private readonly held = new Set<http.ServerResponse>();

  private constructor(
    private readonly server: http.Server,
    private readonly behaviour: ReceiverBehaviour,
  ) {}

  static async start(behaviour: ReceiverBehaviour = {}): Promise<WebhookReceiver> {
    const server = http.createServer();
    const receiver = new WebhookReceiver(server, behaviour);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      receiver.handle(request, response),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(pathname = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${pathname}`;
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = this.received.length;
      this.received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (this.behaviour.hang) {
        this.held.add(response);
        return;
      }
      response.statusCode = this.behaviour.failFirst?.[index] ?? 200;
      response.end('ok');
    });
  }
}
