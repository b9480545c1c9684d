import { z } from 'zod';
import {
  describeExpected,
  discriminatorValues,
  schemaAt,
  unwrapSchema,
  validKeysAt,
  valueAt,
} from './schema-walk.js';
import { listenAddressInput } from './fields.js';
import { closestMatch } from './suggest.js';
import type { PointAt } from './yaml-source.js';

/** A zod issue in the words of the config file: which key, where to point, what is valid. */
export interface ExplainedIssue {
  readonly path: readonly PropertyKey[];
  readonly pointAt: PointAt;
  readonly message: string;
}

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Turn one zod issue into one or more messages that say what is wrong and what would be valid. */
export function explainIssue(issue: Issue, root: Schema, data: unknown): ExplainedIssue[] {
  const path = issue.path;
  const value = valueAt(data, path);
  const at = (message: string, pointAt: PointAt = 'value'): ExplainedIssue[] => [{ path, pointAt, message }];

  switch (issue.code) {
    case 'unrecognized_keys': {
      const valid = validKeysAt(root, path, data);
      return issue.keys.map((key) => {
        const suggestion = closestMatch(key, valid);
        const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
        return {
          path: [...path, key],
          pointAt: 'key' as const,
          message: `unknown key${hint}; valid keys here are ${valid.join(', ')}`,
        };
      });
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
        const options = issue.options.map(String);
        if (value === undefined) return at(`missing; use one of ${options.join(', ')}`, 'parent');
        const noun = typeof path[path.length - 2] === 'string' ? String(path[path.length - 2]) : 'valid kind';
        return at(
          `${shown(value)} is not a ${noun}; use one of ${options.join(', ')}${didYouMean(value, options)}`,
        );
      }
      // A plain union (a command: string or list): if one branch got past the type check,
      // its issues say more than "expected a string or a list".
      const branches: readonly (readonly Issue[])[] = issue.errors;
      const closer = branches.find((branch) => branch.some((inner) => !isTypeMismatchAtRoot(inner)));
      if (closer) {
        return closer.flatMap((inner) =>
          explainIssue({ ...inner, path: [...path, ...inner.path] }, root, data),
        );
      }
      return at(`expected ${expectedAt(root, path, data)}, got ${shown(value)}`);
    }
    case 'invalid_type': {
      const schema = schemaAt(root, path, data);
      const expected = schema === undefined ? describeRawType(issue.expected) : describeExpected(schema);
      if (value === undefined) return at(`required key is missing; expected ${expected}`, 'parent');
      if (path.length === 0)
        return at(`expected a mapping of keys such as app and platform, got ${shown(value)}`);
      const hints =
        quoteHint(schema, issue.expected, value) + kindHint(schema, value) + emptyHint(schema, value);
      return at(`expected ${expected}, got ${shown(value)}${hints}`);
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      return at(
        `${shown(value)} is not valid; use one of ${options.join(', ')}${didYouMean(value, options)}`,
      );
    }
    case 'too_small':
      return at(sizeMessage('small', issue.origin, Number(issue.minimum), issue.inclusive !== false, value));
    case 'too_big':
      return at(sizeMessage('big', issue.origin, Number(issue.maximum), issue.inclusive !== false, value));
    case 'invalid_format':
      return at(formatMessage(issue, value));
    case 'not_multiple_of':
      return at(`${shown(value)} must be a multiple of ${String(issue.divisor)}`);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((inner) =>
        explainIssue({ ...inner, path: [...path, ...inner.path] }, root, data),
      );
    case 'custom':
      return at(issue.message);
    default:
      return at((issue as Issue).message);
  }
}

function isTypeMismatchAtRoot(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0;
}

function expectedAt(root: Schema, path: readonly PropertyKey[], data: unknown): string {
  const schema = schemaAt(root, path, data);
  return schema === undefined ? 'a valid value' : describeExpected(schema);
}

function sizeMessage(
  which: 'small' | 'big',
  origin: string,
  limit: number,
  inclusive: boolean,
  value: unknown,
): string {
  const bound =
    which === 'small' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  if (origin === 'array' || origin === 'set') return `needs ${bound} ${limit} item${limit === 1 ? '' : 's'}`;
  if (origin === 'string') {
    if (which === 'small' && limit === 1 && inclusive) return 'must not be empty';
    return `needs ${bound} ${limit} characters, got ${shown(value)}`;
  }
  return `expected ${bound} ${limit}, got ${shown(value)}`;
}

function formatMessage(issue: z.core.$ZodIssueInvalidStringFormat, value: unknown): string {
  switch (issue.format) {
    case 'starts_with':
      return `${shown(value)} must start with "${String((issue as { prefix?: string }).prefix)}"`;
    case 'ends_with':
      return `${shown(value)} must end with "${String((issue as { suffix?: string }).suffix)}"`;
    case 'url':
      return `${shown(value)} is not a URL; use one such as "http://127.0.0.1:2019"`;
    case 'regex':
      // A pattern with its own message ("lowercase letters, digits and dashes") says it best.
      return issue.message.startsWith('Invalid string')
        ? `${shown(value)} does not match the pattern ${String(issue.pattern)}`
        : `${shown(value)} is not valid; use ${issue.message}`;
    default:
      return `${shown(value)} is not a valid ${issue.format}`;
  }
}

function describeRawType(expected: string): string {
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    object: 'a mapping',
    array: 'a list',
  };
  return words[expected] ?? expected;
}

/** `name: 123` where a string is wanted: YAML read a number; quoting keeps it a string. */
function quoteHint(schema: Schema | undefined, expected: string, value: unknown): string {
  if (expected !== 'string' || (typeof value !== 'number' && typeof value !== 'boolean')) return '';
  // `listen: 8080` means a port: the address form is ":8080".
  if (schema !== undefined && unwrapSchema(schema) === listenAddressInput && typeof value === 'number') {
    return ` (for a port on 127.0.0.1 write ":${value}")`;
  }
  return ` (quote it: "${String(value)}")`;
}

/** `router: nginx` instead of `router: { kind: nginx }`. */
function kindHint(schema: Schema | undefined, value: unknown): string {
  const union = schema === undefined ? undefined : unwrapSchema(schema);
  if (!(union instanceof z.ZodDiscriminatedUnion) || typeof value !== 'string') return '';
  const kinds = union.options.flatMap((option) => discriminatorValues(option, union.def.discriminator));
  return kinds.includes(value) ? ` (write it as a mapping: ${union.def.discriminator}: ${value})` : '';
}

/** `health:` with nothing after it: YAML reads null, which is not "use the defaults". */
function emptyHint(schema: Schema | undefined, value: unknown): string {
  const hasDefault =
    schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional;
  return value === null && hasDefault ? ' (leave the key out to use the defaults)' : '';
}

function didYouMean(value: unknown, options: readonly string[]): string {
  if (typeof value !== 'string') return '';
  const suggestion = closestMatch(value, options);
  return suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
}

/** A value as the user wrote it, short enough for one line. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value;
}
