import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { providerName } from '../provider-name.js';

export const webhookAnalysisConfig = z
  .object({
    kind: z.literal('webhook'),
    name: providerName(),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('The endpoint, http(s)://…; never logged. Prefer urlFile when it holds a token'),
    urlFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A file whose first line is the endpoint URL (relative to the config file), read at each check',
      ),
    secretFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A file holding the HMAC-SHA256 key that signs each request (X-Cutover-Signature, as notifications sign)',
      ),
    timeout: duration()
      .default(10_000)
      .describe('One request’s whole exchange (connect, answer, body) fails after this long'),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if ((entry.url === undefined) === (entry.urlFile === undefined))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'set exactly one of url and urlFile' });
    if (entry.timeout <= 0)
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be longer than 0ms' });
  })
  .describe('POSTs the deployment and window to an endpoint that answers pass, fail or inconclusive');

export type WebhookAnalysisConfig = z.output<typeof webhookAnalysisConfig>;
