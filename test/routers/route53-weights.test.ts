/**
 * cutover's percents onto Route 53's 0–255 record weights and back: every split of 100 maps to
 * weights in range that add up to 255 and read back as the same split; anything else is
 * refused with CUTOVER_E_INVALID_WEIGHTS.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { percentsOf, recordWeights } from '../../src/routers/route53/record-weights.js';
import { isCutoverError } from '../../src/shared/errors.js';

void test('every whole-percent split maps into 0–255, sums to 255 and reads back as itself', () => {
  for (let blue = 0; blue <= 100; blue++) {
    const weights = { blue, green: 100 - blue };
    const mapped = recordWeights(weights);
    assert.equal(mapped.blue + mapped.green, 255, `${blue}`);
    assert.ok(mapped.blue >= 0 && mapped.blue <= 255 && mapped.green >= 0, `${blue}`);
    assert.deepEqual(percentsOf(mapped), weights);
  }
  assert.deepEqual(recordWeights({ blue: 90, green: 10 }), { blue: 230, green: 25 });
});

void test('weights outside a split of 100 are refused with a stable code', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: -1000, max: 1000 }),
      (blue, green) => {
        fc.pre(!(blue >= 0 && green >= 0 && blue + green === 100));
        assert.throws(
          () => recordWeights({ blue, green }),
          (error: unknown) => isCutoverError(error, 'CUTOVER_E_INVALID_WEIGHTS'),
        );
      },
    ),
  );
  for (const odd of [Number.NaN, 0.5, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => recordWeights({ blue: odd, green: 100 - odd }),
      (error: unknown) => isCutoverError(error, 'CUTOVER_E_INVALID_WEIGHTS'),
    );
  }
});

void test('read back: all-zero records split evenly, as Route 53 answers them', () => {
  assert.deepEqual(percentsOf({ blue: 0, green: 0 }), { blue: 50, green: 50 });
  assert.deepEqual(percentsOf({ blue: 1, green: 3 }), { blue: 25, green: 75 });
});
