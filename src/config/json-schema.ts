import { z } from 'zod';
import { durationInput, listenAddressInput } from './fields.js';
import { configSchema } from './schema.js';

/** Matches what parseDuration accepts as a string (src/shared/duration.ts); a test keeps them in step. */
export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h)$';
/** Matches what listenAddress accepts: "host:port", ":port", "[::1]:port". */
export const LISTEN_ADDRESS_PATTERN = '^(\\[?[^\\]]*\\]?)?:\\d{1,5}$';

/**
 * The JSON Schema of cutover.yml, built from the same zod definition the loader validates
 * with, describing what a user may write (io: 'input': defaults are optional, durations are
 * strings or numbers). Editors use it for completion via `# yaml-language-server: $schema=…`.
 */
const ZOD_ONLY_FORMATS = new Set(['starts_with', 'ends_with', 'includes']);

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === durationInput) {
        replace(ctx.jsonSchema, {
          description: ctx.jsonSchema.description,
          anyOf: [
            { type: 'string', pattern: DURATION_PATTERN, examples: ['250ms', '5s', '2m', '1h'] },
            { type: 'number', minimum: 0 },
          ],
        });
      } else if (ctx.zodSchema === listenAddressInput) {
        ctx.jsonSchema.pattern = LISTEN_ADDRESS_PATTERN;
        ctx.jsonSchema.examples = ['127.0.0.1:8080', ':8080'];
      }
      // zod names its string checks as formats; they are not JSON Schema formats (the pattern says it).
      if (typeof ctx.jsonSchema.format === 'string' && ZOD_ONLY_FORMATS.has(ctx.jsonSchema.format)) {
        delete ctx.jsonSchema.format;
      }
      // zod leaves out defaults it cannot express as input (durations default to a number of ms).
      if (ctx.zodSchema instanceof z.ZodDefault && ctx.jsonSchema.default === undefined) {
        ctx.jsonSchema.default = ctx.zodSchema.def.defaultValue;
      }
    },
  });
  return {
    $schema: schema.$schema,
    title: 'cutover.yml',
    description: 'Configuration of one app deployed by cutover (zero-downtime blue-green deployments).',
    ...withoutKey(schema, '$schema'),
  };
}

function replace(target: Record<string, unknown>, next: Record<string, unknown>): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, next);
}

function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([name]) => name !== key));
}
