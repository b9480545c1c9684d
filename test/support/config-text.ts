// Config tests parse YAML text as if it were a cutover.yml (nothing read from disk) and read
// the message of the config error a mistaken one gets.
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { CutoverConfig } from '../../src/config/schema.js';
import { isCutoverError } from '../../src/shared/errors.js';

/** `text` loaded as /nowhere/cutover.yml. */
export function parseConfig(text: string): CutoverConfig {
  return parseConfigText(text, path.join('/nowhere', 'cutover.yml'), 'cutover.yml');
}

/** The message of the CUTOVER_E_CONFIG error `text` gets; the test fails if it loads. */
export function configErrorOf(text: string): string {
  try {
    parseConfig(text);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
    return error.message;
  }
  assert.fail('the config loaded, but it should not have');
}
