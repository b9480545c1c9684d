import { z } from 'zod';

/** The optional `name` of a provider entry: what the record and the events call it (default: its kind). */
export const providerName = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", up to 64')
    .optional()
    .describe('What the record, events and `cutover status` call this provider; default: its kind');
