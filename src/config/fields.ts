import { z } from 'zod';
import { parseDuration } from '../shared/duration.js';
import { DEFAULTS } from './defaults.js';

/** The input side of every duration field; one shared instance so the JSON Schema generator can recognise it. */
export const durationInput = z
  .union([z.string(), z.number()])
  .describe('A duration: "250ms", "5s", "2m", "1h", or a number of milliseconds');

/** A duration such as "30s" or "250ms" (or a number of milliseconds), normalized to ms. */
export const duration = () =>
  durationInput.transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    }
    return parsed.ms;
  });

/** The input side of every listen address; shared for the same reason as durationInput. */
export const listenAddressInput = z
  .string()
  .describe('host:port, e.g. "127.0.0.1:8080" or ":8080" (the host defaults to 127.0.0.1)');

/** host:port, e.g. "127.0.0.1:8080" or ":8080" (loopback is the default host). */
export const listenAddress = () =>
  listenAddressInput.transform((value, ctx) => {
    const match = /^(?:\[?([^\]]*)\]?)?:(\d{1,5})$/.exec(value.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not host:port, e.g. "127.0.0.1:8080"` });
      return z.NEVER;
    }
    return { host: match[1] || '127.0.0.1', port };
  });

export type ListenAddress = { host: string; port: number };

/** A command: a string run by /bin/sh, or an argv array run directly. */
export const command = () => z.union([z.string().min(1), z.array(z.string()).min(1)]);
export type Command = z.infer<ReturnType<typeof command>>;

/**
 * `settleTimeout` of a router whose data plane settles eventually (a cloud load balancer, a
 * target group, DNS): how long after a move its read-back may say `converging` before the move
 * fails with CUTOVER_E_VERIFY. Routers that settle at once (the daemons) have no such key.
 */
export const settleTimeout = () =>
  duration()
    .default(DEFAULTS.routerSettleTimeoutMs)
    .describe(
      'How long the router may take to show a move (eventual consistency) before the move fails, e.g. "5m"',
    );
