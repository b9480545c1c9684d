// What an analysis provider's check rejects with when its source misbehaves.
import assert from 'node:assert/strict';
import { isCutoverError } from '../../src/shared/errors.js';

/** The CUTOVER_E_ANALYSIS_PROVIDER error `promise` rejects with; the test fails if it answers. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_ANALYSIS_PROVIDER'), String(error));
    return error;
  }
  assert.fail('the check answered, but it should have rejected');
}
