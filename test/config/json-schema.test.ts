import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { DURATION_PATTERN, LISTEN_ADDRESS_PATTERN, configJsonSchema } from '../../src/config/json-schema.js';
import { configSchema } from '../../src/config/schema.js';
import { parseDuration } from '../../src/shared/duration.js';
import { SCHEMA_FILE, renderConfigJsonSchema } from '../../scripts/generate-schema.js';

void test('schema/cutover.schema.json is up to date (run: node --import tsx scripts/generate-schema.ts)', async () => {
  const committed: unknown = JSON.parse(await readFile(SCHEMA_FILE, 'utf8'));
  const fresh: unknown = JSON.parse(await renderConfigJsonSchema());
  // A one-line failure: the full diff of two 500-line schemas helps nobody.
  assert.ok(
    JSON.stringify(committed) === JSON.stringify(fresh),
    'schema/cutover.schema.json is out of date: run `node --import tsx scripts/generate-schema.ts` and commit it',
  );
});

void test('the schema describes the same top-level keys as the zod definition', () => {
  const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
  assert.deepEqual(Object.keys(schema.properties), Object.keys(configSchema.shape));
  assert.deepEqual(schema.required.sort(), ['app', 'platform']);
});

void test('durations are a string with a unit or a number, with a description and default', () => {
  const schema = configJsonSchema() as {
    properties: {
      rollbackWindow: { anyOf: { type: string; pattern?: string }[]; default: unknown; description: string };
    };
  };
  const rollback = schema.properties.rollbackWindow;
  assert.deepEqual(
    rollback.anyOf.map((option) => option.type),
    ['string', 'number'],
  );
  assert.equal(rollback.default, 15 * 60_000);
  assert.ok(rollback.description.length > 0);
});

void test('the duration pattern accepts exactly what parseDuration accepts', () => {
  const pattern = new RegExp(DURATION_PATTERN);
  for (const text of [
    '250ms',
    '5s',
    '2m',
    '1h',
    '1.5s',
    '0s',
    '5x',
    '5',
    's',
    '-1s',
    '1m30s',
    ' 5s',
    '5 s',
    'ms',
  ]) {
    const parses = parseDuration(text).ok && text.trim() === text;
    assert.equal(pattern.test(text), parses, `pattern and parseDuration disagree on ${JSON.stringify(text)}`);
  }
});

void test('the listen pattern accepts host:port forms', () => {
  const pattern = new RegExp(LISTEN_ADDRESS_PATTERN);
  for (const ok of ['127.0.0.1:8080', ':8080', '[::1]:7070', 'localhost:80']) assert.ok(pattern.test(ok), ok);
  for (const bad of ['8080', '127.0.0.1', 'host:port']) assert.ok(!pattern.test(bad), bad);
});
