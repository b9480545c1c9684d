import { z } from 'zod';
import { duration } from '../../config/fields.js';
import { providerName } from '../provider-name.js';
import { condition } from './condition.js';
import { PLACEHOLDERS, unknownPlaceholders } from './query-template.js';

/** Measuring more often than this only loads the Prometheus server. */
const MIN_INTERVAL_MS = 100;
const QUERY_MAX = 10_000;

/** A base URL with neither credentials nor a query: a token belongs in tokenFile, never in a URL. */
const address = z
  .url({ protocol: /^https?$/ })
  .describe('The Prometheus server’s base URL, e.g. "http://127.0.0.1:9090" (a path prefix is kept)')
  .superRefine((value, ctx) => {
    const url = new URL(value);
    if (url.username !== '' || url.password !== '')
      ctx.addIssue({
        code: 'custom',
        message: 'no credentials in the address: put a bearer token in tokenFile',
      });
    if (url.search !== '' || url.hash !== '')
      ctx.addIssue({ code: 'custom', message: 'the address is a base URL: no ?query or #fragment' });
  });

export const prometheusAnalysisConfig = z
  .object({
    kind: z.literal('prometheus'),
    name: providerName(),
    address,
    query: z
      .string()
      .min(1)
      .max(QUERY_MAX)
      .describe(
        `A PromQL instant query giving one number; placeholders ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      ),
    successCondition: condition()
      .optional()
      .describe('A measurement passes when the result meets it, e.g. "result < 0.02"'),
    failureCondition: condition()
      .optional()
      .describe('A measurement fails when the result meets it, e.g. "result >= 0.05"'),
    interval: duration()
      .default(30_000)
      .describe('Time between measurements in a window; the first is one interval into the window'),
    count: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Measurements per window at most; unset: one every interval until the window ends'),
    failureLimit: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(0)
      .describe('Failed measurements a window tolerates; one more fails it (default 0: the first fails)'),
    inconclusiveLimit: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(0)
      .describe('Inconclusive measurements a window tolerates; one more makes it inconclusive'),
    timeout: duration()
      .default(10_000)
      .describe('One query’s whole exchange (connect, answer, body) fails after this long'),
    tokenFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A file holding a bearer token for the server (relative to the config file), read at each query; never logged',
      ),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if (entry.successCondition === undefined && entry.failureCondition === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['successCondition'],
        message: 'give a successCondition, a failureCondition, or both',
      });
    const unknown = unknownPlaceholders(entry.query);
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['query'],
        message: `unknown placeholder(s) ${unknown.map((name) => `{{${name}}}`).join(', ')}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      });
    if (entry.interval < MIN_INTERVAL_MS)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: `must be at least ${MIN_INTERVAL_MS}ms` });
    if (entry.timeout <= 0)
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be longer than 0ms' });
  })
  .describe('Judges the new release by a PromQL query’s result against a Prometheus server');

export type PrometheusAnalysisConfig = z.output<typeof prometheusAnalysisConfig>;
