/**
 * The control protocol between the builtin router (control plane) and its proxy workers:
 * newline-delimited JSON over a unix socket the worker listens on (owner-only, in the state
 * directory), so a restarted control plane can find and adopt workers it did not start.
 *
 * Every request carries an `id`; the worker answers it once. The routing table travels whole
 * with a generation number: a worker applies a table only if its generation is newer than the
 * one it holds, and acknowledges the generation it holds, so a push repeated after a lost
 * answer is harmless.
 */
import { statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { SlotCountsDelta } from '../../../proxy/counts-delta.js';
import { FINE_LATENCY_BUCKETS } from '../../../proxy/fine-latency.js';
import { EXCHANGE_CUTS, LATENCY_BUCKETS_SECONDS, STATUS_CLASSES } from '../../../proxy/metrics.js';
import { shadowSample } from '../../../proxy/shadow/shadow-sample.js';

/**
 * Bumped on any incompatible change to the messages below. A control plane and a worker of
 * different versions refuse each other at hello, with a message naming both.
 */
export const WORKER_PROTOCOL_VERSION = 1;

/** A line longer than this ends the connection: no peer of ours ever sends one. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

const slot = z.enum(['blue', 'green']);
const target = z.object({ id: z.string(), host: z.string(), port: z.number().int().min(0).max(65_535) });
const weights = z.object({ blue: z.number(), green: z.number() });

export const routingTable = z.object({
  targets: z.object({ blue: z.array(target), green: z.array(target) }),
  weights: weights.optional(),
  previewSlot: slot.optional(),
});
export type RoutingTable = z.infer<typeof routingTable>;

const builtinSettings = z.record(z.string(), z.unknown());

export const workerRequest = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.literal('hello'), version: z.number().int() }),
  /** The proxy's settings (the router's config section) and the preview secret, once per worker. */
  z.object({
    id: z.number().int(),
    op: z.literal('init'),
    config: builtinSettings,
    previewToken: z.string().min(1),
  }),
  /** Start accepting on the listening sockets the worker holds. */
  z.object({ id: z.number().int(), op: z.literal('accept') }),
  /**
   * Start a sibling worker from `entry` (this cutover's or a newer one's) and hand it the
   * listening sockets: how a control plane that adopted running workers gets new ones.
   */
  z.object({
    id: z.number().int(),
    op: z.literal('fork'),
    entry: z.string().min(1),
    execArgv: z.array(z.string()),
    socketPath: z.string().min(1),
  }),
  z.object({
    id: z.number().int(),
    op: z.literal('apply'),
    generation: z.number().int().min(1),
    table: routingTable,
  }),
  z.object({ id: z.number().int(), op: z.literal('read') }),
  z.object({ id: z.number().int(), op: z.literal('drain'), slot, deadline: z.string() }),
  z.object({ id: z.number().int(), op: z.literal('drainStatus'), slot }),
  /** Push a counts report now (before the answer, on this connection), changed or not. */
  z.object({ id: z.number().int(), op: z.literal('report') }),
  /** Stop accepting, finish in-flight work until `deadline`, close WebSockets with 1001, exit. */
  z.object({ id: z.number().int(), op: z.literal('retire'), deadline: z.string() }),
]);
export type WorkerRequest = z.infer<typeof workerRequest>;
/** A request without its id (the connection numbers them). */
export type WorkerCommand = WorkerRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'id'>
    : never
  : never;

export interface HelloAnswer {
  readonly version: number;
  readonly pid: number;
  /** Which cutover it runs (codeIdentity): a control plane of other code hands over to new workers. */
  readonly code: string;
  /** The generation of the table the worker routes by (0: none yet). */
  readonly generation: number;
  /** Whether it has its settings (a worker that never got them is retired, not adopted). */
  readonly initialised: boolean;
  /**
   * Told to retire and finishing its in-flight work: neither adopted nor killed by a control
   * plane that finds it (absent from workers of earlier code).
   */
  readonly retiring?: boolean;
  /** Where it accepts, per listener (empty until the control plane says accept). */
  readonly listening: { readonly live?: AddressInfo; readonly preview?: AddressInfo };
  /** It answers `report` (absent from workers of earlier code, which push often instead). */
  readonly reportsOnRequest?: boolean;
}

export interface ForkAnswer {
  readonly pid: number;
}

export interface ReadAnswer {
  readonly generation: number;
  readonly table: RoutingTable;
}

export interface DrainStatusAnswer {
  readonly inFlight: number;
  readonly webSockets: number;
}

export type WorkerAnswer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

const count = z.number().int().min(0);
const countsDelta = z.object({
  requests: count,
  errors: count,
  proxyErrors: count,
  latencySecondsSum: z.number().min(0),
  latencyBuckets: z.array(count).length(LATENCY_BUCKETS_SECONDS.length + 1),
  fineLatency: z
    .array(
      z.tuple([
        z
          .number()
          .int()
          .min(0)
          .max(FINE_LATENCY_BUCKETS - 1),
        count,
      ]),
    )
    .max(FINE_LATENCY_BUCKETS),
  statusClasses: z.array(count).length(STATUS_CLASSES.length),
  cuts: z.object({ 'client-closed': count, 'client-body-incomplete': count, refused: count }),
  mirrored: count,
  mirrorErrors: count,
}) satisfies z.ZodType<SlotCountsDelta>;

/**
 * Pushed by the worker, unasked, while it has something to report: its counts since the last
 * report, per slot (the same size at any request rate).
 */
export const countsEvent = z.object({
  event: z.literal('counts'),
  slots: z.object({ blue: countsDelta, green: countsDelta }),
  /** Client connections refused at accept since the last event. */
  refused: z.object({ live: count, preview: count }),
}) satisfies z.ZodType<CountsEvent>;
export interface CountsEvent {
  readonly event: 'counts';
  readonly slots: Readonly<Record<'blue' | 'green', SlotCountsDelta>>;
  readonly refused: Readonly<Record<'live' | 'preview', number>>;
}

/**
 * What workers of an earlier cutover push instead of `counts`: one record per completed request.
 * Read still, so their counts are kept while they drain after `cutover server --upgrade`.
 */
export const completedRecord = z.tuple([
  slot,
  z.number().int(),
  z.number(),
  z.boolean(),
  z.enum(EXCHANGE_CUTS).nullable(),
]);
export const metricsEvent = z.object({
  event: z.literal('metrics'),
  completed: z.array(completedRecord),
  /** Mirrored copies since the last event, per slot: [sent, failed]. */
  mirrored: z.object({ blue: z.tuple([count, count]), green: z.tuple([count, count]) }),
  refused: z.object({ live: count, preview: count }),
});
export type MetricsEvent = z.infer<typeof metricsEvent>;

/** A worker's report of its counts, in either form. */
export type WorkerCountsReport = CountsEvent | MetricsEvent;

const shadowCounts = z.object({
  compared: z.number().int().min(0),
  differing: z.number().int().min(0),
  dropped: z.number().int().min(0),
});

/**
 * Pushed by a worker that compares mirrored copies (`mirror.compare`), unasked, while it has
 * something new: the counts since its last such event per slot (the slot the copies went to),
 * and the differing pairs since then (at most MAX_SAMPLES, secrets already redacted).
 */
export const shadowEvent = z.object({
  event: z.literal('shadow'),
  counts: z.object({ blue: shadowCounts, green: shadowCounts }),
  samples: z.array(z.object({ slot, sample: shadowSample })),
});
export type ShadowEvent = z.infer<typeof shadowEvent>;

export const workerAnswer = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), code: z.string(), message: z.string() }),
]);

/** The message a worker gives when the control plane speaks another protocol version. */
export function versionMismatch(workerVersion: number, controlVersion: number): string {
  return (
    `proxy worker protocol ${workerVersion} cannot be driven by a control plane speaking protocol ` +
    `${controlVersion}: stop the old workers (or run cutover server --upgrade from the newer cutover)`
  );
}

/** The worker entry file and its modification time: differs when cutover was upgraded in place or elsewhere. */
export function codeIdentity(entryFile: string): string {
  try {
    return `${entryFile}@${Math.floor(statSync(entryFile).mtimeMs)}`;
  } catch {
    return entryFile;
  }
}
