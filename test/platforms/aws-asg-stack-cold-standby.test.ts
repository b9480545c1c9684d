/**
 * The journaled capacity of a parked stack is read back as untrusted input (the store is a file
 * an operator can edit): every malformed shape is refused naming what is wrong, never restored
 * as a guess.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parkedGroups } from '../../src/platforms/aws-asg/stack-cold-standby.js';
import { CutoverError } from '../../src/shared/errors.js';

const group = { name: 'shop-blue-v1', release: 'v1', min: 2, max: 4, desired: 3 };

void describe('parkedGroups', () => {
  void it('reads back what capacity() journaled', () => {
    assert.deepEqual(parkedGroups({ groups: [group] }), [group]);
    assert.deepEqual(parkedGroups({ groups: [] }), []);
  });

  const hostile: [string, unknown, RegExp][] = [
    ['no list', {}, /no `groups` list/],
    ['a list that is a string', { groups: 'shop-blue-v1' }, /no `groups` list/],
    ['an entry that is null', { groups: [null] }, /groups\[0\] is not an object/],
    ['an empty name', { groups: [{ ...group, name: '' }] }, /groups\[0\]\.name/],
    ['a release that is a number', { groups: [{ ...group, release: 1 }] }, /groups\[0\]\.release/],
    ['a negative min', { groups: [{ ...group, min: -1 }] }, /groups\[0\]\.min is not a whole number/],
    ['a fractional max', { groups: [{ ...group, max: 2.5 }] }, /groups\[0\]\.max/],
    ['desired as a string', { groups: [{ ...group, desired: '3' }] }, /groups\[0\]\.desired/],
    ['desired above max', { groups: [{ ...group, desired: 5 }] }, /min ≤ desired ≤ max/],
    ['min above desired', { groups: [group, { ...group, min: 4 }] }, /groups\[1\]: min ≤ desired/],
  ];
  for (const [what, capacity, message] of hostile) {
    void it(`refuses ${what}`, () => {
      assert.throws(
        () => parkedGroups(capacity as Record<string, unknown>),
        (error: unknown) =>
          error instanceof CutoverError &&
          error.code === 'CUTOVER_E_INVALID_STATE' &&
          message.test(error.message),
      );
    });
  }
});
