/**
 * A stand-in for the Route 53 endpoint, for what moto cannot show: a change that stays PENDING
 * (moto reports every change INSYNC at once) and throttling (moto never throttles). A real HTTP
 * server on a loopback port that forwards every request to moto and answers with moto's
 * response, except that a submitted change says PENDING, GetChange keeps saying PENDING for the
 * first `pendingPolls` polls of each change (Infinity: it never syncs), and the first
 * `throttled` requests are answered 400 `Throttling` without reaching moto. For failures of one
 * call in the middle of a move: the first `failedChanges` change batches are answered 500
 * `InternalError` without reaching moto.
 * moto answers every change batch with one and the same change id; Route 53 gives each its own,
 * and the router waits on the id it was given. So the stand-in hands out an id of its own per
 * submitted batch (`changes` lists them) and asks moto for the status under moto's.
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
  /** The change ids handed out for the batches submitted so far, in order. */
  readonly changes: readonly string[];
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
  /** The stand-in's change ids, each with the id moto gave the batch. */
  const motoIds = new Map<string, string>();
  const changes: string[] = [];
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
      const changeId = /\/change\/([^/?]+)/.exec(request.url ?? '')?.[1];
      const motoId = changeId === undefined ? undefined : motoIds.get(changeId);
      const forwarded = http.request(
        {
          host: moto.hostname,
          port: moto.port,
          method: request.method,
          path:
            changeId === undefined || motoId === undefined
              ? request.url
              : request.url!.replace(`/change/${changeId}`, `/change/${motoId}`),
          headers: { ...request.headers, host: moto.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            let text = Buffer.concat(body).toString('utf8');
            const submitted = request.method === 'POST' && /\/rrset\/?$/.test(request.url ?? '');
            if (changeId !== undefined) {
              const seen = (polls.get(changeId) ?? 0) + 1;
              polls.set(changeId, seen);
              if (motoId !== undefined) text = withChangeId(text, changeId);
              if (seen <= pendingPolls) text = pending(text);
            } else if (submitted && answer.statusCode === 200) {
              const given = CHANGE_ID.exec(text)?.[1];
              if (given !== undefined) {
                const ours = `CSTANDIN${changes.length + 1}`;
                motoIds.set(ours, given);
                changes.push(ours);
                text = withChangeId(text, ours);
              }
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
    changes,
    throttledSoFar: () => throttledSoFar,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const CHANGE_ID = /<Id>(?:\/change\/)?([^<]+)<\/Id>/;

function withChangeId(xml: string, id: string): string {
  return xml.replace(CHANGE_ID, `<Id>/change/${id}</Id>`);
}

function pending(xml: string): string {
  return xml.replace(/<Status>INSYNC<\/Status>/g, '<Status>PENDING</Status>');
}
