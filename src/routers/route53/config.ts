import { z } from 'zod';
import { callTimeout } from '../../aws/call-timeout.js';
import { AWS_CONNECTION_SETTINGS } from '../../aws/connection.js';
import { duration, settleTimeout } from '../../config/fields.js';

/** An alias to an ELB answers with TTL 60 s; a plain record gets this TTL too unless set. */
export const ROUTE53_TTL_MS_DEFAULT = 60_000;
/** Beyond the TTL, for resolvers and clients that keep an answer a little longer than told. */
export const ROUTE53_DNS_MARGIN_MS_DEFAULT = 60_000;
/** Route 53's own upper bound for a TTL (2^31 - 1 seconds). */
const TTL_SECONDS_MAX = 2_147_483_647;

const DNS_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${DNS_LABEL}\\.)*${DNS_LABEL}\\.?$`);

/** A DNS TTL: whole seconds, written as a duration like every other duration key ("60s"). */
const ttl = () =>
  duration()
    .refine((ms) => ms >= 1000 && ms % 1000 === 0 && ms / 1000 <= TTL_SECONDS_MAX, {
      message: 'a TTL of whole seconds from "1s" up, e.g. "60s" (a bare number is milliseconds)',
    })
    .default(ROUTE53_TTL_MS_DEFAULT);

export const route53RouterConfig = z
  .object({
    kind: z.literal('route53'),
    hostedZoneId: z
      .string()
      .regex(/^[A-Z0-9]{1,32}$/, 'a hosted zone id such as Z0123456789ABCDEFGHIJ (without "/hostedzone/")')
      .describe('The Route 53 hosted zone that holds the record'),
    recordName: z
      .string()
      .max(253)
      .regex(DNS_NAME, 'a DNS name such as www.example.com')
      .describe('The name users resolve, e.g. www.example.com; it must lie in the hosted zone'),
    mode: z
      .enum(['alias', 'weighted'])
      .default('alias')
      .describe(
        'alias: one record that names the live slot’s load balancer (switch only); weighted: one weighted record per slot (switch and shift)',
      ),
    ttl: ttl().describe(
      'TTL of records that are not aliases (CNAMEs to dns-name endpoints), and how long clients may keep an alias answer (an ELB alias answers with 60 s); whole seconds, e.g. "60s"',
    ),
    dnsMargin: duration()
      .default(ROUTE53_DNS_MARGIN_MS_DEFAULT)
      .describe(
        'How much longer than the TTL drain() keeps the old slot serving after the record moved, for caches that overstay, e.g. "60s"',
      ),
    ...AWS_CONNECTION_SETTINGS,
    settleTimeout: settleTimeout(),
    callTimeout: callTimeout(),
  })
  .strict();
export type Route53RouterConfig = z.infer<typeof route53RouterConfig>;
