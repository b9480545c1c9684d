/**
 * A differing pair as it is kept and shown (`cutover diff`): the request line, each side's
 * status, compared header fields and the start of its body, and what differs. Secrets are
 * redacted in the worker, before a sample leaves it (redaction.ts). The zod schema checks
 * samples where they cross a process boundary (the worker protocol, the journal).
 */
import { z } from 'zod';

/** Body characters a sample keeps of each side. */
export const SAMPLE_BODY_CHARS = 2048;
/** Differing pairs a worker holds between two reports, and the control plane per slot. */
export const MAX_SAMPLES = 20;

const side = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  bodyBytes: z.number().int().min(0),
  /** The body's start as text; null for a binary body (not UTF-8, or holding NUL). */
  body: z.string().nullable(),
  /** The body is longer than `body` shows. */
  bodyCut: z.boolean(),
});

export const bodyDifference = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('json'), paths: z.array(z.string()), more: z.boolean() }),
  z.object({ kind: z.literal('bytes'), offset: z.number().int().min(0), line: z.number().int().min(1) }),
  z.object({
    kind: z.literal('hash'),
    liveBytes: z.number().int().min(0),
    shadowBytes: z.number().int().min(0),
  }),
]);

export const shadowSample = z.object({
  at: z.string(),
  method: z.string(),
  /** The request target, secret query values redacted. */
  target: z.string(),
  live: side,
  shadow: side,
  statusDiffers: z.boolean(),
  /** Compared header fields whose values differ. */
  headers: z.array(z.string()),
  body: bodyDifference.nullable(),
});
export type ShadowSample = z.infer<typeof shadowSample>;

/** Cumulative counts for the slot the copies went to. */
export interface ShadowCounts {
  /** Pairs whose both answers arrived whole and were compared. */
  readonly compared: number;
  /** Of those, the pairs that differ. */
  readonly differing: number;
  /** Copies not compared: the cap of copies in flight reached, the shadow too slow or failing, the live answer cut. */
  readonly dropped: number;
}

export const NO_SHADOW_COUNTS: ShadowCounts = { compared: 0, differing: 0, dropped: 0 };

/** What the control plane knows of the comparisons, summed over the workers. */
export interface ShadowReadings {
  counts(): Record<'blue' | 'green', ShadowCounts>;
  /** The slot's kept differing pairs that arrived at or after `sinceMs` (epoch ms), oldest first. */
  samples(slot: 'blue' | 'green', sinceMs: number): ShadowSample[];
}
