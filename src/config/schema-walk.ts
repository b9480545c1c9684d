import { z } from 'zod';
import { durationInput, listenAddressInput } from './fields.js';

/**
 * Reads the zod config definition to say, in words, what is valid at a key path, so error
 * messages can name the valid keys and values instead of repeating zod's generic text.
 */

type Schema = z.core.$ZodType;
type Path = readonly PropertyKey[];

/** Strip wrappers that do not change what is accepted (optional, default, prefault, transforms). */
export function unwrapSchema(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodReadonly
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

/** The option of a discriminated union that the input selects, if any. */
function selectOption(union: z.ZodDiscriminatedUnion, input: unknown): Schema | undefined {
  const discriminator = union.def.discriminator;
  if (!isRecord(input)) return undefined;
  const wanted = input[discriminator];
  return union.options.find((option) => discriminatorValues(option, discriminator).includes(wanted));
}

/** The literal values an option accepts for the discriminator key. */
export function discriminatorValues(option: Schema, discriminator: string): unknown[] {
  const object = unwrapSchema(option);
  if (!(object instanceof z.ZodObject)) return [];
  const field = object.shape[discriminator] as Schema | undefined;
  const literal = field === undefined ? undefined : unwrapSchema(field);
  return literal instanceof z.ZodLiteral ? [...literal.values] : [];
}

/**
 * The schema that validates the value at `path`, following the input to pick union options.
 * Returns undefined when the path leaves the schema (an unknown key).
 */
export function schemaAt(root: Schema, path: Path, input: unknown): Schema | undefined {
  let schema: Schema = root;
  let value = input;
  for (const segment of path) {
    const resolved = resolveUnion(unwrapSchema(schema), value, segment);
    if (resolved instanceof z.ZodObject) {
      const field = resolved.shape[String(segment)] as Schema | undefined;
      if (field === undefined) return undefined;
      schema = field;
    } else if (resolved instanceof z.ZodArray) {
      schema = resolved.element;
    } else if (resolved instanceof z.ZodRecord) {
      schema = resolved.valueType;
    } else {
      return undefined;
    }
    value =
      isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[segment] : undefined;
  }
  return schema;
}

function resolveUnion(schema: Schema, value: unknown, segment: PropertyKey): Schema {
  if (schema instanceof z.ZodDiscriminatedUnion) {
    return unwrapSchema(selectOption(schema, value) ?? schema.options[0]!);
  }
  if (schema instanceof z.ZodUnion) {
    // e.g. a command: a string or a list; a numeric segment can only go into the list.
    const options = schema.options.map((option) => unwrapSchema(option));
    const wantsIndex = typeof segment === 'number';
    return (
      options.find((option) => (wantsIndex ? option instanceof z.ZodArray : option instanceof z.ZodObject)) ??
      schema
    );
  }
  return schema;
}

/** Keys valid in the mapping at `path`, in declaration order. */
export function validKeysAt(root: Schema, path: Path, input: unknown): string[] {
  const schema = schemaAt(root, path, input);
  if (schema === undefined) return [];
  const parentValue = valueAt(input, path);
  const resolved = resolveUnion(unwrapSchema(schema), parentValue, 'key');
  if (!(resolved instanceof z.ZodObject)) return [];
  // A deprecated key is still read, but never offered (config/moved-keys.ts names its new place).
  return Object.entries(resolved.shape as Record<string, z.ZodType>)
    .filter(([, field]) => field.meta()?.deprecated !== true)
    .map(([key]) => key);
}

/** What a schema accepts, in words: "a whole number", "one of auto, manual", "a duration such as …". */
export function describeExpected(schema: Schema): string {
  if (schema === durationInput) return 'a duration such as "30s" or "250ms" (or a number of milliseconds)';
  if (schema === listenAddressInput) return 'host:port such as "127.0.0.1:8080"';
  const inner = unwrapSchema(schema);
  if (inner !== schema) return describeExpected(inner);
  if (inner instanceof z.ZodString) return 'a string';
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'a whole number' : 'a number';
  if (inner instanceof z.ZodBoolean) return 'true or false';
  if (inner instanceof z.ZodEnum) return `one of ${inner.options.join(', ')}`;
  if (inner instanceof z.ZodLiteral) return `one of ${[...inner.values].map(String).join(', ')}`;
  if (inner instanceof z.ZodArray) return `a list of ${plural(describeExpected(inner.element))}`;
  if (inner instanceof z.ZodRecord) return 'a mapping';
  if (inner instanceof z.ZodObject) return 'a mapping';
  if (inner instanceof z.ZodDiscriminatedUnion) {
    const kinds = inner.options.flatMap((option) => discriminatorValues(option, inner.def.discriminator));
    return `a mapping with ${inner.def.discriminator}: one of ${kinds.map(String).join(', ')}`;
  }
  if (inner instanceof z.ZodUnion) {
    return inner.options.map((option) => describeExpected(option)).join(' or ');
  }
  return 'a valid value';
}

function plural(description: string): string {
  // "a string" → "strings", "a whole number" → "whole numbers"; good enough for our field types.
  return /^an? [a-z ]+$/.test(description) ? `${description.replace(/^an? /, '')}s` : description;
}

export function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const segment of path) {
    if (!isRecord(value) && !Array.isArray(value)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
