// Writes schema/cutover.schema.json from the zod config definition (src/config/schema.ts).
//   node --import tsx scripts/generate-schema.ts          write the file
//   node --import tsx scripts/generate-schema.ts --check  exit 1 if the committed file is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { configJsonSchema } from '../src/config/json-schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema/cutover.schema.json', import.meta.url));

/** Formatted as the repo's prettier config would, so `prettier --check` agrees with the generator. */
export async function renderConfigJsonSchema(): Promise<string> {
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return prettier.format(JSON.stringify(configJsonSchema()), { ...options, parser: 'json' });
}

async function main(): Promise<void> {
  const fresh = await renderConfigJsonSchema();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (JSON.stringify(JSON.parse(committed)) !== JSON.stringify(JSON.parse(fresh))) {
      console.error(`${SCHEMA_FILE} is out of date: run node --import tsx scripts/generate-schema.ts`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(SCHEMA_FILE, fresh);
  console.log(`wrote ${SCHEMA_FILE}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
