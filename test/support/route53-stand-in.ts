/**
 * A stand-in for the Route 53 endpoint, for what moto cannot show: a change that stays PENDING
 * (moto reports every change INSYNC at once) and throttling (moto never throttles). A real HTTP
 * server on a loopback port that forwards every request to moto and answers with moto's
 * response, except that a submitted change says PENDING, GetChange keeps saying PENDING for the
 * first `pendingPolls` polls of each change (Infinity: it never syncs), and the first
 * `throttled` requests are answered 400 `Throttling` without reaching moto. For failures of one
 * call in the middle of a move: the first `failedChanges` change batches are answered 500
 * `InternalError` without reaching moto.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInOptions {
  readonly pendingPolls: number;
  readonly throttled?: number;
  readonly failedChanges?: number;
}

const INTERNAL_ERROR =
  '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Receiver</Type><Code>InternalError</Code><Message>stand-in failure</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>';
const THROTTLING =
  '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>';

export interface Route53StandIn {
  readonly endpoint: string;
  /** GetChange calls answered so far, per change id. */
  readonly polls: ReadonlyMap<string, number>;
  /** Requests answered with Throttling so far. */
  throttledSoFar(): number;
  stop(): Promise<void>;
}

export async function startRoute53StandIn(
  motoEndpoint: string,
  { pendingPolls, throttled = 0, failedChanges = 0 }: StandInOptions,
): Promise<Route53StandIn> {
  const moto = new URL(motoEndpoint);
  const polls = new Map<string, number>();
  let throttledSoFar = 0;
  let failedSoFar = 0;
  const server = http.createServer((request, response) => {
    const isChange = request.method === 'POST' && /\/rrset\/?$/.test(request.url ?? '');
    if (isChange && failedSoFar < failedChanges) {
      failedSoFar++;
      request.resume();
      response.writeHead(500, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(INTERNAL_ERROR),
      });
      response.end(INTERNAL_ERROR);
      return;
    }
    if (throttledSoFar < throttled) {
      throttledSoFar++;
      request.resume();
      response.writeHead(400, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(THROTTLING),
      });
      response.end(THROTTLING);
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const forwarded = http.request(
        {
          host: moto.hostname,
          port: moto.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: moto.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            let text = Buffer.concat(body).toString('utf8');
            const changeId = /\/change\/([^/?]+)/.exec(request.url ?? '')?.[1];
            const submitted = request.method === 'POST' && /\/rrset\/?$/.test(request.url ?? '');
            if (changeId !== undefined) {
              const seen = (polls.get(changeId) ?? 0) + 1;
              polls.set(changeId, seen);
              if (seen <= pendingPolls) text = pending(text);
            } else if (submitted) {
              text = pending(text);
            }
            const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
            response.writeHead(answer.statusCode ?? 502, headers);
            response.end(text);
          });
        },
      );
      forwarded.on('error', () => response.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    polls,
    throttledSoFar: () => throttledSoFar,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function pending(xml: string): string {
  return xml.replace(/<Status>INSYNC<\/Status>/g, '<Status>PENDING</Status>');
}
