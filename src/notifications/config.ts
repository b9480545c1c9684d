import { z } from 'zod';
import { duration } from '../config/fields.js';

/** What a notifier can be told about; each maps from the engine's phase and weight events. */
export const NOTIFICATION_EVENTS = [
  'started',
  'gate',
  'promoted',
  'rolled-back',
  'aborted',
  'failed',
] as const;
export type NotificationEventName = (typeof NOTIFICATION_EVENTS)[number];

const NOTIFIER_DEFAULTS = { timeoutMs: 5_000, retries: 5 } as const;

/**
 * Where the receiver is. A URL often carries a token (Slack's always does), so it may live in a
 * file of its own beside the config, which is read at start-up and never logged.
 */
const destination = {
  url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('The receiver, http(s)://…; never logged. Prefer urlFile when it holds a token'),
  urlFile: z
    .string()
    .min(1)
    .optional()
    .describe('A file whose first line is the receiver URL (relative to the config file)'),
};

const common = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dots, dashes and underscores')
    .optional()
    .describe('How logs and errors name this notifier (never the URL); default <kind>-<position>'),
  events: z
    .array(z.enum(NOTIFICATION_EVENTS))
    .min(1)
    .optional()
    .describe(`Events sent (default all): ${NOTIFICATION_EVENTS.join(', ')}`),
  timeout: duration()
    .default(NOTIFIER_DEFAULTS.timeoutMs)
    .describe('One delivery attempt fails after this long (also the bound on the flush at exit)'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(NOTIFIER_DEFAULTS.retries)
    .describe('Attempts after the first, with exponential backoff (1s, 2s, 4s … capped at 30s)'),
};

const webhook = z
  .object({
    kind: z.literal('webhook'),
    ...destination,
    ...common,
    secretFile: z
      .string()
      .min(1)
      .optional()
      .describe('A file holding the HMAC-SHA256 key that signs each delivery (X-Cutover-Signature)'),
  })
  .strict()
  .describe('POST a JSON document per event, signed with HMAC-SHA256 when secretFile is set');

const slack = z
  .object({ kind: z.literal('slack'), ...destination, ...common })
  .strict()
  .describe('POST a Slack-compatible incoming-webhook message ({"text": …}) per event');

const notifier = z.discriminatedUnion('kind', [webhook, slack]).superRefine((value, ctx) => {
  if ((value.url === undefined) === (value.urlFile === undefined))
    ctx.addIssue({ code: 'custom', message: 'set exactly one of url and urlFile' });
});

export const notificationsConfig = z
  .array(notifier)
  .max(20)
  .default([])
  .describe(
    'Where deployment events are sent (webhooks, Slack); a failing notifier never blocks a deployment',
  );

export type NotifierConfig = z.output<typeof notifier>;
