import type { IncomingMessage, ServerResponse } from 'node:http';
import { CutoverError } from '../shared/errors.js';
import { isSlot, type Slot } from '../shared/slot.js';
import type { LogLine, Platform } from '../shared/platform.js';

/**
 * `GET /v1/logs/follow?slot=&tail=`: the slot's (or both slots') instance logs as they are
 * written, one JSON `LogLine` per line (`application/x-ndjson`), until the client goes or every
 * followed instance's log ends (`cutover logs -f`).
 */
export function logsFollowRoute(platform: Platform): {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: (
    request: IncomingMessage,
    response: ServerResponse,
    params: Record<string, string>,
    url: URL,
  ) => Promise<void>;
} {
  return {
    method: 'GET',
    pattern: /^\/v1\/logs\/follow$/,
    handler: async (_request, response, _params, url) => {
      const slot = url.searchParams.get('slot');
      const tail = Number(url.searchParams.get('tail') ?? 0);
      if (slot !== null && !isSlot(slot))
        throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'slot must be blue or green');
      if (!Number.isInteger(tail) || tail < 0 || tail > 10_000)
        throw new CutoverError('CUTOVER_E_BAD_REQUEST', 'tail must be a whole number from 0 to 10000');
      if (!platform.followLogs) {
        throw new CutoverError(
          'CUTOVER_E_BAD_REQUEST',
          `the ${platform.describe().kind} platform cannot follow logs; \`cutover logs\` without -f reads them`,
        );
      }
      const slots: Slot[] = slot ? [slot] : ['blue', 'green'];
      response.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      // Headers now, so the client knows the follow started before the first line arrives.
      response.flushHeaders();
      const following = new AbortController();
      // The response closes when the client goes (or when it ended): stop following then.
      response.on('close', () => following.abort());
      const send = (line: LogLine): void => {
        response.write(`${JSON.stringify(line)}\n`);
      };
      const follow = platform.followLogs.bind(platform);
      await Promise.all(slots.map((name) => follow(name, send, following.signal, { tail })));
      response.end();
    },
  };
}
